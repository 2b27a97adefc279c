import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../harness/index.js';
import { ENCODINGS, encodeAs } from '../drills/encodings.js';
import { formatReport } from '../drills/report.js';
import { runSeizureDrill, searchSeizure, type DrillReport } from '../drills/seizure.js';
import type { Artifact } from '../drills/search.js';

const h = new Harness();
let report: DrillReport;

beforeAll(async () => {
  report = await runSeizureDrill(h);
  console.log(formatReport(report));
}, 90_000);
afterAll(() => h.dispose());

describe('seizure drill', () => {
  it('finds no plaintext, display name, private key, member list or client address in anything a server holder has', () => {
    expect(report.search.hits).toEqual([]);
    expect(report.membership).toEqual([]);
    expect(report.sealed.status).not.toBe('fail');
    // No join ties a sealed envelope to its sender or peer: timestamps, commits, fan-outs, blobs.
    expect(report.joins.map((j) => [j.name, j.links, j.recovered])).toEqual(report.joins.map((j) => [j.name, 0, 0]));
    expect(report.joins.find((j) => j.name.startsWith('fan-out'))!.pairs).toBeGreaterThan(0);
    // No user time finer than a day, and one length for every sealed device name (alice's laptop has one).
    expect(report.metadata.fineTimes).toEqual([]);
    expect(report.metadata.devicesNamed).toBeGreaterThan(0);
    expect(report.metadata.deviceNameLengths).toHaveLength(1);
    // The search covered what it claims to: every artifact kind, every kind of secret.
    expect(report.search.groups).toEqual(expect.arrayContaining(['database', 'WAL+shm', 'blob dir', 'stdout+stderr', 'wire →server', 'wire ←server']));
    const kinds = report.search.kinds.map((k) => k.kind);
    for (const k of ['plaintexts', 'display names', 'identity private keys', 'prekey private keys', 'sender keys', 'profile keys', 'attachment keys', 'group member lists', 'acked envelope ciphertext (disk only)', 'usernames, account ids (logs only)'])
      expect(kinds).toContain(k);
    // Undelivered messages are still there, as ciphertext: the search ran over real content.
    expect(report.sealed.storedTotal).toBeGreaterThan(0);
  });

  it('finds each kind of secret, in each encoding, planted in a copy of the artifacts', () => {
    const groups = [...new Set(report.artifacts.map((a) => a.group))];
    // One secret of each kind; each planted once per encoding, in a different artifact group each time.
    const samples = new Map<string, (typeof report.session.secrets)[number]>();
    for (const s of report.session.secrets) if (!samples.has(s.kind)) samples.set(s.kind, s);
    let planted = 0;
    for (const [kind, secret] of samples) {
      for (const [i, encoding] of ENCODINGS.entries()) {
        const group = groups[(planted + i) % groups.length]!;
        // A copy of one artifact of that group (searching all of them again each time would only repeat the clean result).
        const original = report.artifacts.find((a) => a.group === group)!;
        const target: Artifact = { ...original, bytes: Buffer.from(original.bytes) };
        const copy = [target];
        // Inside the artifact, at an odd offset, as a careless write would leave it.
        const at = Math.min(target.bytes.length, 7);
        target.bytes = Buffer.concat([target.bytes.subarray(0, at), Buffer.from('x'), encodeAs(secret.value, encoding), Buffer.from('"'), target.bytes.subarray(at)]);
        // The drill's own search, with just the planted secrets as needles (the full set was searched above).
        const { search, ok } = searchSeizure(copy, { ...report.session, secrets: [...samples.values()] });
        expect(ok, `${kind} as ${encoding} in ${group}`).toBe(false);
        expect(search.counts.get(kind)!.get(group), `${kind} as ${encoding} in ${group}`).toBeGreaterThan(0);
        planted++;
      }
    }
    expect(planted).toBe(samples.size * ENCODINGS.length);
  });

  it('finds a group member list and a member next to the group id when planted', () => {
    const g = report.session.groups[0]!;
    const ids = g.memberSets[0]!.map((m) => m.accountId).sort().join('');
    const copy: Artifact[] = [
      ...report.artifacts,
      { group: 'database', name: 'planted', bytes: Buffer.from(`{"members":"${ids}"}`) },
      { group: 'stdout+stderr', name: 'planted', bytes: Buffer.from(`group ${g.id} member ${g.memberSets[0]![1]!.username}`) },
    ];
    const r = searchSeizure(copy, report.session);
    expect(r.search.counts.get('group member lists')!.get('database')).toBeGreaterThan(0);
    expect(r.membership.length).toBeGreaterThan(0);
  });

  it('finds a username or account id in the server output when planted, and ignores them in the database', () => {
    const { username, accountId } = report.session.identities[1]!;
    const r = searchSeizure(
      [...report.artifacts, { group: 'stdout+stderr', name: 'planted', bytes: Buffer.from(`2026-01-01T00:00:00Z send from ${accountId} (${username}) failed`) }],
      report.session,
    );
    expect(r.search.counts.get('usernames, account ids (logs only)')!.get('stdout+stderr')).toBe(2);
    expect(r.search.counts.get('usernames, account ids (logs only)')!.get('database')).toBe(0);
  });

  it("finds an acked envelope's ciphertext left in the database or WAL when planted", () => {
    expect(report.session.ackedCiphertexts.length).toBeGreaterThan(10);
    const slice = report.session.ackedCiphertexts[3]!;
    const r = searchSeizure([...report.artifacts, { group: 'WAL+shm', name: 'planted', bytes: Buffer.concat([Buffer.alloc(100), slice, Buffer.alloc(100)]) }], report.session);
    expect(r.ok).toBe(false);
    expect(r.search.counts.get('acked envelope ciphertext (disk only)')!.get('WAL+shm')).toBe(1);
  });
});
