/**
 * Summarises V8 .cpuprofile files (from KLUIS_BENCH_CPU_PROF): self time by function and
 * by package, so "where the time goes" is one table. Usage: tsx profile-summary.ts FILE…
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function area(url: string): string {
  if (!url) return '(native / idle / gc)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const pkg = /packages\/([^/]+)\/src\/(?:([^/]+)\/)?/.exec(url);
  if (pkg) return `kluis ${pkg[1]}${pkg[2] && !pkg[2].endsWith('.ts') ? '/' + pkg[2] : ''}`;
  if (url.startsWith('node:')) return 'node core';
  return url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
}

for (const file of process.argv.slice(2)) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const s of profile.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  const total = profile.samples.length;
  const fn = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, n] of hits) {
    const node = byId.get(id)!;
    const name = node.callFrame.functionName || '(anonymous)';
    const key = `${name}  ${area(node.callFrame.url)}`;
    fn.set(key, (fn.get(key) ?? 0) + n);
    const a = name === '(idle)' ? '(idle)' : name === '(garbage collector)' ? '(gc)' : area(node.callFrame.url);
    areas.set(a, (areas.get(a) ?? 0) + n);
  }
  const pct = (n: number) => `${((n / total) * 100).toFixed(1).padStart(5)}%`;
  const busy = total - (areas.get('(idle)') ?? 0);
  console.log(`\n${file}: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, ${total} samples, busy ${((busy / total) * 100).toFixed(0)}%`);
  console.log('  by area (self time):');
  for (const [k, n] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`    ${pct(n)}  ${k}`);
  console.log('  top functions (self time):');
  for (const [k, n] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`    ${pct(n)}  ${k}`);
}
