import { describe, expect, it } from 'vitest';
import { qualityOf, type LinkStats } from './quality.js';
import { videoBudget } from './peer-link.js';

const at = (rtt: number | null, received: number, lost: number): LinkStats => ({ rtt, relayed: true, packetsReceived: received, packetsLost: lost });

describe('call quality', () => {
  it('is good, fair or poor by round trip and by loss since the last reading', () => {
    expect(qualityOf(at(0.05, 1000, 0), undefined)).toBe('good');
    expect(qualityOf(at(0.45, 1000, 0), undefined)).toBe('fair');
    expect(qualityOf(at(0.9, 1000, 0), undefined)).toBe('poor');
    // 5% lost in this interval, though the call's total is low.
    expect(qualityOf(at(0.05, 10_950, 55), at(0.05, 10_000, 5))).toBe('fair');
    expect(qualityOf(at(0.05, 10_800, 205), at(0.05, 10_000, 5))).toBe('poor');
  });

  it('says nothing before a candidate pair is selected', () => {
    expect(qualityOf(at(null, 0, 0), undefined)).toBeNull();
  });
});

describe('video limits in a mesh', () => {
  it('give each peer fewer bits, frames and pixels as the call grows', () => {
    const [two, four, eight] = [videoBudget(1), videoBudget(3), videoBudget(7)];
    expect(two.maxBitrate!).toBeGreaterThan(four.maxBitrate!);
    expect(four.maxBitrate!).toBeGreaterThan(eight.maxBitrate!);
    expect(eight.scaleResolutionDownBy).toBe(2);
    // What one device sends in all stays within about 1.5 Mbit/s.
    expect(7 * eight.maxBitrate!).toBeLessThanOrEqual(1_500_000);
    expect(3 * four.maxBitrate!).toBeLessThanOrEqual(1_500_000);
  });
});
