import { parseArgs } from 'node:util';

export interface BenchOptions {
  devices: number;
  messages: number;
  window: number;
  rate: number;
  rateSeconds: number;
  payload: number;
  json: boolean;
  /** Attachment phase: this many files (0 = none). */
  attachments: number;
  attachmentMib: number;
  /** Only the attachment phase (no message load, no relay). */
  attachmentsOnly: boolean;
  /** 0: the single-node bench; N: embedded vs 1 PostgreSQL node vs N nodes + NATS (cluster.ts). */
  cluster: number;
  /** Group fan-out phase (group-fanout.ts): group sizes, members including the sender; [] = none. */
  groups: number[];
  /** undefined: about 20,000 envelopes per group (group-fanout.ts). */
  groupMessages?: number;
  groupWindow: number;
  groupLatencyMessages: number;
  groupBundleFetches: number;
  /** Only the group fan-out phase (no message load, no relay). */
  groupsOnly: boolean;
  /** Instead: the SDK's per-send look-up of N members' sessions (member-sessions.ts); 0 = off. */
  memberSessions: number;
  /** The seed-load replay (seed-load.ts) after the other phases, on its own server. */
  seedLoad: boolean;
  /** Only the seed-load replay. */
  seedOnly: boolean;
  seedMessages: number;
  seedAccounts: number;
  seedRounds: number;
  seedTimeLimitSeconds: number;
}

const HELP = `npm run bench -- [options]

Starts a kluis server (embedded default, SQLite in a temp dir) and a bare WebSocket
relay, drives both with the same load from this process, and prints figures.

  --devices N        connected devices (default 2000)
  --messages M       envelopes in the throughput phase (default 200000)
  --window W         sends in flight at once (default 2000)
  --rate R           msgs/s in the latency phase (default 2000)
  --rate-seconds S   length of the latency phase, after the throughput phase's burst (default 30)
  --payload BYTES    ciphertext size (default 1024)
  --attachments N    also upload and download N attachments (default 0)
  --attachment-mib M size of each attachment in MiB (default 20)
  --attachments-only only the attachment phase (default N = 10)
  --groups LIST      group fan-out after the message load: one sender to groups of
                     these sizes (members incl. the sender, 2-1000), sender keys,
                     every member a real device decrypting every message
                     (default 100; 0 = none; --groups 100,1000 for the full figures)
  --group-messages M messages per group in its throughput phase (default: about
                     20,000 envelopes per group, i.e. 200 to 100 members, 20 to 1000)
  --group-window W   group sends in flight in that phase (default 8)
  --group-latency-messages L
                     messages per group sent one at a time for latency (default 50)
  --group-bundle-fetches F
                     prekey bundle fetches in flight during a group's first send
                     (default 8, as the SDK; 1 = one account after another)
  --groups-only      only the group fan-out phase (default sizes 100,1000)
  --member-sessions N
                     instead: the SDK's look-up of N group members' sessions on
                     each send, uncached against cached (no server)
  --seed-load        also replay the reference service's whole volume on a fresh
                     server (not part of the default run): 2,300,000 1 KiB payloads
                     of random bytes (prepared before the clock) among 8,000 accounts
                     of one device each, sent to random recipients; in each round one
                     half of the accounts is connected (receiving live, acking, and
                     sending) while the other half's messages are queued, then the
                     halves swap and the offline half drains its backlog. Prints wall
                     time (target < 2 min), msgs/s, server CPU µs per message,
                     generator CPU, peak server RSS, database size, and an
                     exactly-once count (sent = received, 0 duplicates)
  --seed-only        only the seed-load replay (no other phase, no relay)
  --seed-messages N  messages in the replay (default 2300000)
  --seed-accounts N  accounts in the replay (default 8000)
  --seed-rounds N    send rounds, the connected half swapping each round, then a
                     final drain of the half left offline (default 4); --window sets
                     the sends in flight
  --seed-time-limit S
                     the replay stops after S seconds and reports what it got
                     (default 600)
  --cluster N        instead: the same load on the embedded node, on one PostgreSQL
                     node, and on N nodes with PostgreSQL + a 3-node NATS cluster
  --json             print the results as JSON too
  --help             this text
`;

export function parseBenchArgs(argv: string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string', default: '2000' },
      messages: { type: 'string', default: '200000' },
      window: { type: 'string', default: '2000' },
      rate: { type: 'string', default: '2000' },
      'rate-seconds': { type: 'string', default: '30' },
      payload: { type: 'string', default: '1024' },
      json: { type: 'boolean', default: false },
      cluster: { type: 'string', default: '0' },
      attachments: { type: 'string' },
      'attachment-mib': { type: 'string', default: '20' },
      'attachments-only': { type: 'boolean', default: false },
      groups: { type: 'string' },
      'group-messages': { type: 'string' },
      'group-window': { type: 'string', default: '8' },
      'group-latency-messages': { type: 'string', default: '50' },
      'group-bundle-fetches': { type: 'string', default: '8' },
      'groups-only': { type: 'boolean', default: false },
      'member-sessions': { type: 'string', default: '0' },
      'seed-load': { type: 'boolean', default: false },
      'seed-only': { type: 'boolean', default: false },
      'seed-messages': { type: 'string', default: '2300000' },
      'seed-accounts': { type: 'string', default: '8000' },
      'seed-rounds': { type: 'string', default: '4' },
      'seed-time-limit': { type: 'string', default: '600' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return undefined;
  }
  const int = intOption;
  return {
    devices: int('devices', values.devices!, 2, 20_000),
    messages: int('messages', values.messages!, 1, 5_000_000),
    window: int('window', values.window!, 1, 100_000),
    rate: int('rate', values.rate!, 1, 100_000),
    rateSeconds: int('rate-seconds', values['rate-seconds']!, 1, 600),
    payload: int('payload', values.payload!, 1, 96 * 1024),
    json: values.json!,
    attachments: int('attachments', values.attachments ?? (values['attachments-only'] ? '10' : '0'), 0, 1000),
    attachmentMib: int('attachment-mib', values['attachment-mib']!, 1, 1024),
    attachmentsOnly: values['attachments-only']!,
    cluster: int('cluster', values.cluster!, 0, 16),
    groups: groupSizes(values.groups ?? (values['groups-only'] ? '100,1000' : '100')),
    groupMessages: values['group-messages'] === undefined ? undefined : int('group-messages', values['group-messages'], 1, 100_000),
    groupWindow: int('group-window', values['group-window']!, 1, 256),
    groupLatencyMessages: int('group-latency-messages', values['group-latency-messages']!, 1, 10_000),
    groupBundleFetches: int('group-bundle-fetches', values['group-bundle-fetches']!, 1, 64),
    groupsOnly: values['groups-only']!,
    memberSessions: int('member-sessions', values['member-sessions']!, 0, 10_000),
    seedLoad: values['seed-load']! || values['seed-only']!,
    seedOnly: values['seed-only']!,
    seedMessages: int('seed-messages', values['seed-messages']!, 1, 10_000_000),
    // Half of them hold a socket each, from this one process (open-file limit).
    seedAccounts: int('seed-accounts', values['seed-accounts']!, 4, 20_000),
    seedRounds: int('seed-rounds', values['seed-rounds']!, 1, 100),
    seedTimeLimitSeconds: int('seed-time-limit', values['seed-time-limit']!, 10, 3600),
  };
}

/** "100,1000" → [100, 1000]; "0" or "none" → []. Sizes count the sender (MAX_GROUP_MEMBERS = 1000). */
function groupSizes(v: string): number[] {
  if (v === '0' || v === 'none' || v === '') return [];
  return v.split(',').map((x) => {
    const n = Number(x.trim());
    if (!Number.isInteger(n) || n < 2 || n > 1000) throw new Error('--groups takes group sizes from 2 to 1000, comma-separated (or 0)');
    return n;
  });
}

/** An integer option's value within [min, max], or an error naming the option. */
export function intOption(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}
