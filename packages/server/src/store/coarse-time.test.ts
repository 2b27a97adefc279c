import { describe, expect, it } from 'vitest';
import { coarsen, coarsenUp, ENVELOPE_TIME_GRANULARITY_MS, envelopeTimeStep } from './coarse-time.js';

const HOUR = ENVELOPE_TIME_GRANULARITY_MS;

describe('coarse envelope times', () => {
  it('coarsenUp rounds up to the next step, and leaves a value on a step as it is', () => {
    const t = Date.UTC(2025, 4, 1, 13, 0, 0);
    expect(coarsenUp(t, HOUR)).toBe(t);
    expect(coarsenUp(t + 1, HOUR)).toBe(t + HOUR);
    expect(coarsenUp(t + HOUR - 1, HOUR)).toBe(t + HOUR);
    expect(coarsenUp(t + HOUR, HOUR)).toBe(t + HOUR);
    expect(coarsenUp(0, HOUR)).toBe(0);
  });

  it('never earlier than its input, at most one step later, and on the same grid as coarsen', () => {
    const step = envelopeTimeStep(30 * 24 * HOUR);
    expect(step).toBe(HOUR);
    for (let i = 0; i < 1000; i++) {
      const ms = 1_700_000_000_000 + i * 7_919_993;
      const up = coarsenUp(ms, step);
      expect(up).toBeGreaterThanOrEqual(ms);
      expect(up - ms).toBeLessThan(step);
      expect(up % step).toBe(0);
      expect(coarsen(up, step)).toBe(up);
    }
    // Short test TTLs have finer steps; the same rules hold.
    expect(coarsenUp(1001, envelopeTimeStep(64_000))).toBe(2000);
  });
});
