import { describe, expect, it } from 'vitest';
import { clock } from './use-call.js';

describe('the call timer', () => {
  it('reads m:ss, and h:mm:ss past an hour', () => {
    expect(clock(0)).toBe('0:00');
    expect(clock(65)).toBe('1:05');
    expect(clock(3 * 3600 + 2 * 60 + 1)).toBe('3:02:01');
  });
});
