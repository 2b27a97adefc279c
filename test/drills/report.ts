import { SEARCHED_ONLY_IN, type DrillReport } from './seizure.js';
import { formatStoredMetadata } from './stored-metadata.js';

/** The drill's report: what was searched (rows), in which artifact (columns), how many hits. */
export function formatReport(r: DrillReport): string {
  const { search } = r;
  const size = new Map<string, number>();
  for (const a of r.artifacts) size.set(a.group, (size.get(a.group) ?? 0) + a.bytes.length);
  const header = ['searched for', 'needles', ...search.groups.map((g) => `${g} (${kib(size.get(g) ?? 0)})`), 'hits'];
  const rows: string[][] = [];
  for (const { kind, needles } of search.kinds) {
    const counts = search.groups.map((g) => search.counts.get(kind)!.get(g)!);
    // Acked ciphertext crossed the wire by design (disk only); usernames are stored by design (logs only).
    const only = SEARCHED_ONLY_IN.get(kind);
    const cells = search.groups.map((g, i) => (only && !only.includes(g) ? '-' : String(counts[i])));
    rows.push([kind, String(needles), ...cells, String(counts.reduce((a, b) => a + b, 0))]);
  }
  const near = r.membership.length;
  rows.push(['member username ≤512 B from a group id', '-', ...search.groups.map((g) => String(r.membership.filter((h) => h.group === g).length)), String(near)]);
  const s = r.sealed;
  const lines = [
    `seizure drill: ${r.session.accounts} accounts, ${r.session.devices} devices, ${r.session.undelivered} messages queued for an offline device`,
    ...r.session.log.map((l) => `  - ${l}`),
    `artifacts: ${r.artifacts.length} (database free pages: ${r.freelistPages}; envelope rows left: ${s.storedTotal})`,
    '',
    ...table([header, ...rows]),
    '',
    `every needle searched as raw bytes / UTF-8, UTF-16LE, hex (both cases), base64 and base64url at 3 alignments`,
    s.status === 'n/a'
      ? 'sealed envelopes carry no sender: n/a (no sealed envelope seen: sealed sender not in use yet)'
      : `sealed envelopes carry no sender: ${s.status} (stored ${s.storedSealed}, with sender ${s.storedSealedWithSender}; pushed ${s.deliveredSealed}, with sender ${s.deliveredSealedWithSender})`,
    formatStoredMetadata(r.metadata),
    '',
    'joins that try to tie sealed envelopes to their senders (seized database, recorded traffic):',
    ...table([['join', 'pairs tried', 'links', 'senders recovered'], ...r.joins.map((j) => [j.name, String(j.pairs), String(j.links), String(j.recovered)])]),
    '',
    `result: ${r.ok ? 'PASS — nothing found' : 'FAIL'} (${(r.durationMs / 1000).toFixed(1)} s)`,
  ];
  for (const h of [...search.hits, ...r.membership].slice(0, 40)) lines.push(`  HIT ${h.kind}: ${h.label} in ${h.artifact} as ${h.encoding} ×${h.count}`);
  return lines.join('\n');
}

function kib(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(0)} KiB`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  const fmt = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [fmt(rows[0]!), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.slice(1).map(fmt)];
}
