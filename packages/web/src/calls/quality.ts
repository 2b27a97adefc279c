import type { Quality } from './call-types.js';

export interface LinkStats {
  /** Seconds, of the selected candidate pair. */
  rtt: number | null;
  relayed: boolean | null;
  packetsReceived: number;
  packetsLost: number;
}

/** Reads the figures the quality label rests on from one connection's getStats(). */
export async function linkStats(pc: RTCPeerConnection): Promise<LinkStats> {
  const report = await pc.getStats();
  let pair: RTCIceCandidatePairStats | undefined;
  let received = 0;
  let lost = 0;
  const byId = new Map<string, Record<string, unknown>>();
  report.forEach((s: Record<string, unknown>) => {
    byId.set(s.id as string, s);
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pair = report.get(s.selectedCandidatePairId) as RTCIceCandidatePairStats;
    if (s.type === 'inbound-rtp') {
      received += Number(s.packetsReceived ?? 0);
      lost += Math.max(0, Number(s.packetsLost ?? 0));
    }
  });
  const local = pair ? byId.get(pair.localCandidateId) : undefined;
  return {
    rtt: pair?.currentRoundTripTime ?? null,
    relayed: local ? local.candidateType === 'relay' : null,
    packetsReceived: received,
    packetsLost: lost,
  };
}

/** Good, fair or poor from round trip and loss since the previous reading (Signal's bars, in words). */
export function qualityOf(now: LinkStats, before: LinkStats | undefined): Quality | null {
  if (now.rtt === null) return null;
  const got = now.packetsReceived - (before?.packetsReceived ?? 0);
  const lost = now.packetsLost - (before?.packetsLost ?? 0);
  const loss = got + lost > 0 ? lost / (got + lost) : 0;
  if (now.rtt < 0.3 && loss < 0.02) return 'good';
  if (now.rtt < 0.7 && loss < 0.08) return 'fair';
  return 'poor';
}
