import { describe, expect, it } from 'vitest';
import { WriteGate } from './write-gate.js';

describe('WriteGate', () => {
  it('pauses once those inside have left, holds newcomers until resumed, and allows one pause at a time', async () => {
    const gate = new WriteGate();
    await gate.enter();
    let paused = false;
    const pausing = gate.pause().then((resume) => ((paused = true), resume));
    await new Promise((r) => setImmediate(r));
    expect(paused).toBe(false);
    expect(await gate.pause()).toBeUndefined();
    gate.leave();
    const resume = (await pausing)!;
    expect(paused).toBe(true);
    let entered = false;
    const entering = gate.enter().then(() => (entered = true));
    await new Promise((r) => setImmediate(r));
    expect(entered).toBe(false);
    resume();
    await entering;
    expect(entered).toBe(true);
    gate.leave();
    expect(gate.isPaused).toBe(false);
  });
});
