/**
 * Micro-benchmark of the Base64 schema check on the server's hot path (every ciphertext of
 * every send): the alphabet regex it had (`^[A-Za-z0-9+/]*={0,2}$`, which let non-canonical
 * text through) against the canonical `base64` format (isCanonicalBase64), both compiled by
 * the Ajv that Fastify loads. Best of 7 rounds per size.
 *
 *   npx tsx scripts/bench/base64-check.ts
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BASE64_FORMAT, isCanonicalBase64 } from '@kluis/protocol';

type Validate = (value: unknown) => boolean;
interface AjvLike {
  compile(schema: object): Validate;
}
// The Ajv Fastify itself resolves (@fastify/ajv-compiler's), not a second copy.
const fromFastify = createRequire(fileURLToPath(import.meta.resolve('@fastify/ajv-compiler')));
const AjvModule = fromFastify('ajv') as { default: new (opts: object) => AjvLike };
const ajv = new AjvModule.default({ coerceTypes: false, allErrors: false, formats: { [BASE64_FORMAT]: isCanonicalBase64 } });

const checks: Record<string, Validate> = {
  'regex (before)': ajv.compile({ type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 8_000_000 }),
  'canonical (after)': ajv.compile({ type: 'string', format: BASE64_FORMAT, maxLength: 8_000_000 }),
};

for (const size of [33, 1024, 16 * 1024, 96 * 1024, 4 * 1024 * 1024]) {
  const samples = Array.from({ length: 8 }, (_, i) => randomBytes(size + (i % 3)).toString('base64'));
  const best: Record<string, number> = {};
  for (let round = 0; round < 7; round++) {
    for (const [name, check] of Object.entries(checks)) {
      let n = 0;
      const t0 = process.hrtime.bigint();
      while (Number(process.hrtime.bigint() - t0) < 150e6) {
        if (!check(samples[n % samples.length])) throw new Error(`${name} refused valid base64`);
        n++;
      }
      best[name] = Math.min(best[name] ?? Infinity, Number(process.hrtime.bigint() - t0) / 1e3 / n);
    }
  }
  const [before, after] = Object.values(best) as [number, number];
  console.log(`${String(size).padStart(8)} bytes: ${Object.entries(best).map(([k, v]) => `${k} ${v.toFixed(2)} µs`).join('  ')}  (before/after ${(before / after).toFixed(2)})`);
}
