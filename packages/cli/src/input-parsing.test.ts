import { describe, expect, it } from 'vitest';
import { checkEmoji } from './commands/messages.js';
import { formatTimer, parseSwitch, parseTimer } from './durations.js';
import { UsageError } from './errors.js';

describe('disappearing-message durations', () => {
  it('accepts off and 30 s to 4 weeks in s/m/h/d/w', () => {
    expect(['off', '0', '30s', '5m', '1h', '1d', '1w', '4w', '90S'].map((t) => parseTimer(t))).toEqual([
      0, 0, 30, 300, 3600, 86400, 604800, 2419200, 90,
    ]);
  });

  it('rejects the rest as a usage error that lists what works', () => {
    for (const bad of ['10s', '29s', '5w', '29d', 'soon', '1.5h', '', '1 fortnight', '-1m']) {
      expect(() => parseTimer(bad), bad).toThrow(UsageError);
      expect(() => parseTimer(bad), bad).toThrow(/30s to 4w \(e\.g\. 30s, 5m, 1h, 1d, 1w, 4w\)/);
    }
  });

  it('prints the largest whole unit', () => {
    expect([0, 30, 90, 300, 3600, 5400, 86400, 604800, 2419200].map(formatTimer)).toEqual(['off', '30s', '90s', '5m', '1h', '90m', '1d', '1w', '4w']);
  });

  it('reads on/off switches', () => {
    expect(parseSwitch('ON', '--x')).toBe(true);
    expect(parseSwitch('no', '--x')).toBe(false);
    expect(() => parseSwitch('maybe', '--x')).toThrow(/--x takes on or off/);
  });
});

describe('reaction emoji', () => {
  it('takes one emoji, including modifier and ZWJ sequences and flags', () => {
    for (const e of ['👍', '❤️', '❤', '👍🏽', '👩‍👩‍👧', '🇳🇱', '1️⃣']) expect(checkEmoji(e), e).toBe(e);
  });

  it('refuses text and several emoji', () => {
    for (const bad of ['ok', '+1', '👍👍', ':)', '', 'a👍']) expect(() => checkEmoji(bad), bad).toThrow(UsageError);
  });
});
