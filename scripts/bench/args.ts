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
}

const HELP = `npm run bench -- [options]

Starts a kluis server (embedded default, SQLite in a temp dir) and a bare WebSocket
relay, drives both with the same load from this process, and prints figures.

  --devices N        connected devices (default 2000)
  --messages M       envelopes in the throughput phase (default 200000)
  --window W         sends in flight at once (default 2000)
  --rate R           msgs/s in the latency phase (default 2000)
  --rate-seconds S   length of the latency phase (default 5)
  --payload BYTES    ciphertext size (default 1024)
  --attachments N    also upload and download N attachments (default 0)
  --attachment-mib M size of each attachment in MiB (default 20)
  --attachments-only only the attachment phase (default N = 10)
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
      'rate-seconds': { type: 'string', default: '5' },
      payload: { type: 'string', default: '1024' },
      json: { type: 'boolean', default: false },
      cluster: { type: 'string', default: '0' },
      attachments: { type: 'string' },
      'attachment-mib': { type: 'string', default: '20' },
      'attachments-only': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return undefined;
  }
  const int = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
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
  };
}
