import { performance } from 'node:perf_hooks';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Medians (ms) of interleaved calls, `rounds` of each kind in a rotating order, so load
 * from the rest of the machine falls on every kind alike. Bounded by `budgetMs` too.
 */
export async function interleavedMedians<K extends string>(kinds: Record<K, () => Promise<unknown>>, rounds: number, budgetMs = 60_000): Promise<Record<K, number>> {
  const names = Object.keys(kinds) as K[];
  const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as unknown as Record<K, number[]>;
  for (const n of names) await kinds[n](); // warm up
  const started = Date.now();
  for (let round = 0; round < rounds && Date.now() - started < budgetMs; round++) {
    for (let i = 0; i < names.length; i++) {
      const n = names[(round + i) % names.length]!;
      const t0 = performance.now();
      await kinds[n]();
      times[n].push(performance.now() - t0);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(times[n])])) as Record<K, number>;
}

/**
 * Whether every kind's median is within `tolerance` (the larger of `minMs` and `fraction`
 * of the slower) of `reference`'s, on the best of `attempts` measurements: a shared
 * 2-core machine adds noise in both directions, a real difference (work skipped) shows
 * in every attempt. Logs each attempt.
 */
export async function sameTiming<K extends string>(
  label: string,
  kinds: Record<K, () => Promise<unknown>>,
  pairs: Array<[K, K]>,
  opts: { rounds?: number; attempts?: number; minMs?: number; fraction?: number } = {},
): Promise<{ ok: boolean; medians: Record<K, number> }> {
  const { rounds = 200, attempts = 3, minMs = 0.25, fraction = 0.2 } = opts;
  let medians = {} as Record<K, number>;
  for (let attempt = 0; attempt < attempts; attempt++) {
    medians = await interleavedMedians(kinds, rounds);
    console.log(`${label} medians (ms), attempt ${attempt + 1}:`, Object.fromEntries(Object.entries(medians).map(([k, v]) => [k, (v as number).toFixed(3)])));
    const ok = pairs.every(([a, b]) => Math.abs(medians[a] - medians[b]) <= Math.max(minMs, fraction * Math.max(medians[a], medians[b])));
    if (ok) return { ok, medians };
  }
  return { ok: false, medians };
}
