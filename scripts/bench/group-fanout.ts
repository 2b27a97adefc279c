/**
 * The group fan-out phase of `npm run bench` (`--groups 100,1000`): one sender to a group
 * of N members (the sender and N − 1 other accounts, one device each), on the wire path
 * the SDK's GroupSender uses:
 *
 *  1. first send: the sender fetches every member's prekey bundle (GET /v1/keys/:id/1,
 *     8 accounts at a time as the SDK does; --group-bundle-fetches), builds the 1:1 sessions, encrypts the
 *     sender-key distribution message for each member device (PreKey messages) and
 *     uploads them in one PUT /v1/messages (per-device ciphertexts, one commit); then it
 *     groupEncrypts the first message once and uploads it in one PUT /v1/messages with
 *     `shared: { type: 7 }` listing every member device. Timed until every member has
 *     decrypted the distribution and the first message.
 *  2. throughput: M more messages, W sends in flight, each groupEncrypt'ed once and
 *     fanned out by the server; envelopes decrypted by the members per second.
 *  3. latency: L messages one at a time (the next once every member has the previous),
 *     end to end from the sender's groupEncrypt to the member's groupDecrypt + decode.
 *
 * The members run in a separate process (group-receivers.ts): real keys, real device
 * sockets, every envelope decrypted, decoded and acked. The sender is a raw libsignal
 * driver in this process with in-memory stores (the SDK's crypto and wire format, not
 * its SQLCipher store).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  groupEncrypt,
  processPreKeyBundle,
  ProtocolAddress,
  SenderKeyDistributionMessage,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import { encodeContent, EnvelopeType, Routes, routeParts, type MultiSendDevice, type PreKeyBundleResponse } from '@kluis/protocol';
import { RECORD_FIELDS } from './group-receivers.js';
import { Members, type Records } from './group-members.js';
import { eachLimit } from '../../packages/sdk/src/mutex.js';
import { cpuSeconds, percentile } from './proc-stats.js';
import { b64, bundleOf, mintInviteCodes, registerMemoryDevice, type MemoryDevice } from './signal-memory.js';

export interface GroupFanoutOptions {
  /** Group sizes, members including the sender (2–1000). */
  sizes: number[];
  /** Messages in the throughput phase, per group; undefined: about 20,000 envelopes per group (10–200 messages). */
  messages?: number;
  /** Sends in flight in the throughput phase. */
  window: number;
  /** Messages in the one-at-a-time latency phase, per group. */
  latencyMessages: number;
  /** Bundle fetches in flight during the first send (the SDK's GroupSender uses 8). */
  bundleFetches: number;
}

/** A chat-sized text in every group message (the content is padded to 160-byte blocks). */
export const GROUP_TEXT_BYTES = 200;

export interface GroupFanoutResult {
  members: number;
  receivers: number;
  bundleFetches: number;
  firstSend: {
    bundlesMs: number;
    distributionEncryptMs: number;
    distributionUploadMs: number;
    distributionBytes: number;
    /** Until the first group message's PUT returned (sender's view). */
    sentMs: number;
    /** Until every member had decrypted the distribution and the first message. */
    allDecryptedMs: number;
    ok: boolean;
  };
  throughput: {
    messages: number;
    window: number;
    expected: number;
    delivered: number;
    duplicates: number;
    failedSends: number;
    seconds: number;
    envelopesPerSec: number;
    messagesPerSec: number;
    p50Ms: number;
    p99Ms: number;
    serverCpuSeconds: number;
    receiversCpuSeconds: number;
    senderCpuSeconds: number;
  };
  latency: {
    messages: number;
    count: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    /** Per message: until the last member had decrypted it. */
    wholeGroupP50Ms: number;
    wholeGroupP99Ms: number;
    /** Per envelope: arrival at that device's socket plus that device's own decrypt (one device per thread, as on real phones). */
    ownDeviceP50Ms: number;
    ownDeviceP99Ms: number;
  };
  crypto: { groupEncryptUs: number; groupDecryptUs: number; ciphertextBytes: number; distributionMessageBytes: number };
  /** Every message of the three phases, to every member: sent × members = received. */
  exactlyOnce: { sent: number; expected: number; received: number; duplicates: number; errors: number; firstErrors: string[] };
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface MemberDevice {
  accountId: string;
  deviceId: number;
  registrationId: number;
}

/** The sender: a raw libsignal device with in-memory stores, sending as the SDK's GroupSender does. */
class GroupSenderDriver {
  readonly distributionId = randomUUID();
  private readonly groupId = randomBytes(32);
  private readonly recipientsJson: string;
  private lock: Promise<unknown> = Promise.resolve();
  readonly sendStart = new Map<number, number>();
  /** Per message: ms in encodeContent + groupEncrypt. */
  readonly encryptMs: number[] = [];
  ciphertextBytes = 0;
  failedSends = 0;
  firstFailure = '';
  private readonly text = 'x'.repeat(GROUP_TEXT_BYTES);

  constructor(
    private readonly url: string,
    readonly me: MemoryDevice,
    private readonly members: MemberDevice[],
    private readonly bundleFetchesInFlight: number,
  ) {
    this.recipientsJson = JSON.stringify(members.map((m) => ({ accountId: m.accountId, devices: [{ deviceId: m.deviceId, registrationId: m.registrationId }] })));
  }

  private async put(body: string): Promise<void> {
    const { method, path } = routeParts(Routes.sendMulti);
    const res = await fetch(new URL(path, this.url), { method, headers: { authorization: this.me.authorization, 'content-type': 'application/json' }, body });
    const text = await res.text();
    if (res.status !== 200) {
      this.failedSends++;
      this.firstFailure ||= `${res.status} ${text.slice(0, 300)}`;
    }
  }

  /** Sessions with every member (bundle per account, in turn), then the distribution in one request. */
  async distribute(timestamp: number): Promise<{ bundlesMs: number; encryptMs: number; uploadMs: number; bytes: number; messageBytes: number }> {
    const s = this.me.stores;
    const t0 = now();
    await eachLimit(this.members, this.bundleFetchesInFlight, async (m) => {
      const { method, path } = routeParts(Routes.fetchBundles);
      const res = await fetch(new URL(path.replace(':accountId', m.accountId).replace(':deviceId', String(m.deviceId)), this.url), {
        method,
        headers: { authorization: this.me.authorization },
      });
      if (!res.ok) throw new Error(`bundle of ${m.accountId}: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as PreKeyBundleResponse;
      for (const d of body.devices) {
        await processPreKeyBundle(bundleOf(body.identityKey, d), ProtocolAddress.new(m.accountId, d.deviceId), this.me.address, s.sessions, s.identity);
      }
    });
    const t1 = now();
    const skdm = await SenderKeyDistributionMessage.create(this.me.address, this.distributionId, s.senderKeys);
    const content = encodeContent({ senderKeyDistribution: skdm.serialize() });
    const recipients: Array<{ accountId: string; devices: MultiSendDevice[] }> = [];
    let messageBytes = 0;
    for (const m of this.members) {
      const ct = await signalEncrypt(content, ProtocolAddress.new(m.accountId, m.deviceId), this.me.address, s.sessions, s.identity);
      const bytes = ct.serialize();
      messageBytes = bytes.length;
      recipients.push({ accountId: m.accountId, devices: [{ deviceId: m.deviceId, registrationId: m.registrationId, type: ct.type() as MultiSendDevice['type'], content: b64(bytes) }] });
    }
    const body = JSON.stringify({ timestamp, recipients });
    const t2 = now();
    const failed = this.failedSends;
    await this.put(body);
    if (this.failedSends > failed) throw new Error(`sender-key distribution refused: ${this.firstFailure}`);
    return { bundlesMs: t1 - t0, encryptMs: t2 - t1, uploadMs: now() - t2, bytes: body.length, messageBytes };
  }

  /** One group message: groupEncrypt once (serialized: libsignal has no lock of its own), one shared upload. */
  async send(timestamp: number, seq: number): Promise<void> {
    const encrypted = this.lock.then(async () => {
      const t0 = now();
      this.sendStart.set(timestamp, t0);
      const plain = encodeContent({
        body: { case: 'data', value: { timestamp: BigInt(timestamp), counter: BigInt(seq + 1), text: this.text, group: { id: this.groupId, version: 1n } } },
      });
      const ct = (await groupEncrypt(this.me.address, this.distributionId, this.me.stores.senderKeys, plain)).serialize();
      this.encryptMs.push(now() - t0);
      this.ciphertextBytes = ct.length;
      return ct;
    });
    this.lock = encrypted.catch(() => {});
    const ct = await encrypted;
    await this.put(`{"timestamp":${timestamp},"shared":{"type":${EnvelopeType.SenderKey},"content":"${b64(ct)}"},"recipients":${this.recipientsJson}}`);
  }
}

/** About 20,000 envelopes per group: 200 messages to 100 members, 20 to 1,000. */
export function defaultGroupMessages(members: number): number {
  return Math.min(200, Math.max(10, Math.round(20_000 / (members - 1))));
}

function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

function latencies(r: Records, start: Map<number, number>): { e2e: number[]; own: number[]; lastByMessage: Map<number, number> } {
  const e2e: number[] = [];
  const own: number[] = [];
  const lastByMessage = new Map<number, number>();
  for (let k = 0; k < r.count; k++) {
    const o = k * RECORD_FIELDS;
    const ts = r.records[o + 1]!;
    const t0 = start.get(ts);
    if (t0 === undefined) continue;
    const arrived = r.records[o + 2]!;
    const decrypted = r.records[o + 3]!;
    const dMs = r.records[o + 4]!;
    e2e.push(decrypted - t0);
    own.push(arrived - t0 + dMs);
    lastByMessage.set(ts, Math.max(lastByMessage.get(ts) ?? 0, decrypted));
  }
  e2e.sort((a, b) => a - b);
  own.sort((a, b) => a - b);
  return { e2e, own, lastByMessage };
}

async function benchOneGroup(
  url: string,
  serverPid: number,
  members: Members,
  sender: MemoryDevice,
  memberDevices: MemberDevice[],
  opts: GroupFanoutOptions,
  log: (s: string) => void,
): Promise<GroupFanoutResult> {
  const n = memberDevices.length;
  const messages = opts.messages ?? defaultGroupMessages(n + 1);
  const driver = new GroupSenderDriver(url, sender, memberDevices, opts.bundleFetches);
  const tsBase = Date.now();
  let seq = 0;
  const received = new Map<string, number>();
  let duplicates = 0;
  let errors = 0;
  const firstErrors: string[] = [];
  const decryptMs: number[] = [];
  const account = (r: Records) => {
    duplicates += r.duplicates;
    errors += r.errors;
    firstErrors.push(...r.firstErrors);
    for (let k = 0; k < r.count; k++) {
      const key = `${r.records[k * RECORD_FIELDS]}:${r.records[k * RECORD_FIELDS + 1]}`;
      received.set(key, (received.get(key) ?? 0) + 1);
      decryptMs.push(r.records[k * RECORD_FIELDS + 4]!);
    }
  };

  // 1. First send: distribution over 1:1, then the first group message.
  log(`  group of ${n + 1}: first send (sessions with ${n} members, sender-key distribution, first message)`);
  const t0 = now();
  const dist = await driver.distribute(tsBase);
  await driver.send(tsBase + seq, seq);
  seq++;
  const sentMs = now() - t0;
  const firstOk = await members.expect(n, 60_000 + n * 20);
  const first = await members.collect();
  account(first);
  let allDecrypted = 0;
  for (let k = 0; k < first.count; k++) allDecrypted = Math.max(allDecrypted, first.records[k * RECORD_FIELDS + 3]!);
  const firstOkAll = firstOk && first.distributions === n && first.count === n;
  if (!firstOkAll) log(`  group of ${n + 1}: first send incomplete: ${first.distributions}/${n} distributions, ${first.count}/${n} first messages`);

  // 2. Throughput: M messages, W in flight.
  await sleep(500);
  log(`  group of ${n + 1}: throughput, ${messages} messages × ${n} members, ${opts.window} sends in flight`);
  const expected = messages * n;
  const cpuServer0 = cpuSeconds(serverPid);
  const cpuMembers0 = cpuSeconds(members.child.pid!);
  const cpuSender0 = process.cpuUsage();
  const failed0 = driver.failedSends;
  const tp0 = now();
  const firstSeq = seq;
  let next = 0;
  const pump = async () => {
    while (next < messages) {
      const s = firstSeq + next++;
      await driver.send(tsBase + s, s);
    }
  };
  const timeoutMs = 60_000 + expected * 2;
  const reached = members.expect(expected, timeoutMs);
  await Promise.all(Array.from({ length: Math.min(opts.window, messages) }, pump));
  seq += messages;
  const tpComplete = await reached;
  const cpuServer = cpuSeconds(serverPid) - cpuServer0;
  const cpuMembers = cpuSeconds(members.child.pid!) - cpuMembers0;
  const cpuSenderUsage = process.cpuUsage(cpuSender0);
  const tp = await members.collect();
  account(tp);
  let lastDecrypt = tp0;
  for (let k = 0; k < tp.count; k++) lastDecrypt = Math.max(lastDecrypt, tp.records[k * RECORD_FIELDS + 3]!);
  const tpLat = latencies(tp, driver.sendStart);
  const seconds = (lastDecrypt - tp0) / 1000;

  // 3. Latency: one message at a time.
  await sleep(1_000);
  log(`  group of ${n + 1}: ${tp.count} envelopes in ${seconds.toFixed(1)} s`);
  // A backlog still draining would be measured as latency: then no latency phase.
  if (!tpComplete) {
    log(`  group of ${n + 1}: ${tp.count}/${expected} delivered within ${timeoutMs / 1000} s; skipping the latency phase, waiting ≤ 120 s for the rest`);
    await members.expect(expected - tp.count, 120_000);
    const late = await members.collect();
    account(late);
    log(`  group of ${n + 1}: ${late.count} more delivered late`);
  } else log(`  group of ${n + 1}: latency, ${opts.latencyMessages} messages one at a time`);
  const latStart = new Map<number, number>();
  for (let k = 0; tpComplete && k < opts.latencyMessages; k++) {
    const s = seq++;
    await driver.send(tsBase + s, s);
    latStart.set(tsBase + s, driver.sendStart.get(tsBase + s)!);
    if (!(await members.expect((k + 1) * n, 30_000))) {
      log(`  group of ${n + 1}: message ${k} did not reach every member within 30 s`);
      break;
    }
    await sleep(20);
  }
  const lat = await members.collect();
  account(lat);
  const l = latencies(lat, latStart);
  // Crypto medians from the one-at-a-time phase (nothing else on either event loop then),
  // or from everything when that phase was skipped.
  const latDecrypt: number[] = [];
  for (let k = 0; k < lat.count; k++) latDecrypt.push(lat.records[k * RECORD_FIELDS + 4]!);
  const encryptSample = latStart.size > 0 ? driver.encryptMs.slice(-latStart.size) : driver.encryptMs;
  const decryptSample = latDecrypt.length > 0 ? latDecrypt : decryptMs;
  const whole = [...l.lastByMessage].map(([ts, t]) => t - latStart.get(ts)!).sort((a, b) => a - b);

  let exact = 0;
  for (const c of received.values()) if (c === 1) exact++;
  return {
    members: n + 1,
    receivers: n,
    bundleFetches: opts.bundleFetches,
    firstSend: {
      bundlesMs: dist.bundlesMs,
      distributionEncryptMs: dist.encryptMs,
      distributionUploadMs: dist.uploadMs,
      distributionBytes: dist.bytes,
      sentMs,
      allDecryptedMs: allDecrypted - t0,
      ok: firstOkAll,
    },
    throughput: {
      messages,
      window: opts.window,
      expected,
      delivered: tp.count,
      duplicates: tp.duplicates,
      failedSends: driver.failedSends - failed0,
      seconds,
      envelopesPerSec: tp.count / seconds,
      messagesPerSec: messages / seconds,
      p50Ms: percentile(tpLat.e2e, 50),
      p99Ms: percentile(tpLat.e2e, 99),
      serverCpuSeconds: cpuServer,
      receiversCpuSeconds: cpuMembers,
      senderCpuSeconds: (cpuSenderUsage.user + cpuSenderUsage.system) / 1e6,
    },
    latency: {
      messages: opts.latencyMessages,
      count: l.e2e.length,
      p50Ms: percentile(l.e2e, 50),
      p99Ms: percentile(l.e2e, 99),
      maxMs: l.e2e[l.e2e.length - 1] ?? NaN,
      wholeGroupP50Ms: percentile(whole, 50),
      wholeGroupP99Ms: percentile(whole, 99),
      ownDeviceP50Ms: percentile(l.own, 50),
      ownDeviceP99Ms: percentile(l.own, 99),
    },
    crypto: {
      groupEncryptUs: median(encryptSample) * 1000,
      groupDecryptUs: median(decryptSample) * 1000,
      ciphertextBytes: driver.ciphertextBytes,
      distributionMessageBytes: dist.messageBytes,
    },
    exactlyOnce: { sent: seq, expected: seq * n, received: exact, duplicates, errors, firstErrors: [...firstErrors, ...(driver.firstFailure ? [`send: ${driver.firstFailure}`] : [])].slice(0, 5) },
  };
}

/**
 * Registers max(sizes) − 1 member devices once (shared by every group) and, per group, a
 * fresh sender (so each group's first send really starts without sessions).
 */
export async function benchGroupFanout(
  url: string,
  operatorToken: string,
  serverPid: number,
  opts: GroupFanoutOptions,
  log: (s: string) => void,
): Promise<GroupFanoutResult[]> {
  const sizes = [...opts.sizes].sort((a, b) => a - b);
  if (sizes.length === 0) return [];
  const maxReceivers = sizes[sizes.length - 1]! - 1;
  const tag = randomBytes(3).toString('hex');
  const invites = await mintInviteCodes(url, operatorToken, maxReceivers + sizes.length);
  const members = await Members.start(log);
  log(`group fan-out: ${maxReceivers} member devices in a separate process (clock offset ${members.offset.toFixed(3)} ms)`);
  try {
    const ready = await members.request({ cmd: 'setup', url, invites: invites.slice(0, maxReceivers), tag }, (m) => m.evt === 'ready', 600_000);
    if (ready.evt !== 'ready') throw new Error('unreachable');
    const results: GroupFanoutResult[] = [];
    for (const [k, size] of sizes.entries()) {
      const sender = await registerMemoryDevice(url, invites[maxReceivers + k]!, `g${tag}_sender${k}`);
      results.push(await benchOneGroup(url, serverPid, members, sender, ready.devices.slice(0, size - 1), opts, log));
    }
    return results;
  } finally {
    await members.stop();
  }
}
