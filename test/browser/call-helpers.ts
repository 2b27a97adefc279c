import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { conv, type AppPage } from './app-helpers.js';

/** Chromium with a fake camera and microphone (a test pattern and a beep), allowed without asking. */
export const MEDIA_ARGS = [
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  // Screen sharing picks the whole (headless) screen without a chooser.
  '--auto-select-desktop-capture-source=Entire screen',
];
export const MEDIA_PERMISSIONS = ['microphone', 'camera', 'notifications'];

/**
 * Runs in the page before the app: every RTCPeerConnection the app makes is kept on
 * `__pcs` (the app exposes none), and every SDP and ICE candidate it produced on
 * `__sdp`, for the seizure drill to look for on the server.
 */
export const RECORD_PEERS = `(() => {
  window.__pcs = [];
  window.__sdp = [];
  const Orig = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Orig {
    constructor(...a) {
      super(...a);
      window.__pcs.push(this);
      this.addEventListener('icecandidate', (e) => e.candidate && window.__sdp.push(e.candidate.candidate));
      this.addEventListener('icegatheringstatechange', () => this.localDescription && window.__sdp.push(this.localDescription.sdp));
    }
  };
})()`;

export interface PeerStats {
  state: string;
  inAudioBytes: number;
  inAudioPackets: number;
  inVideoBytes: number;
  framesDecoded: number;
  outAudioPackets: number;
  outVideoPackets: number;
  outBytes: number;
  local: { type: string; url: string; port: number; relayProtocol: string } | null;
  remote: { type: string; port: number } | null;
}

const STATS = `(async () => {
  const out = [];
  for (const pc of window.__pcs) {
    if (pc.connectionState === 'closed') { out.push({ state: 'closed' }); continue; }
    const r = await pc.getStats();
    const o = { state: pc.connectionState, inAudioBytes: 0, inAudioPackets: 0, inVideoBytes: 0, framesDecoded: 0, outAudioPackets: 0, outVideoPackets: 0, outBytes: 0, local: null, remote: null };
    let pairId;
    r.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') { o.inAudioBytes += s.bytesReceived ?? 0; o.inAudioPackets += s.packetsReceived ?? 0; }
      if (s.type === 'inbound-rtp' && s.kind === 'video') { o.inVideoBytes += s.bytesReceived ?? 0; o.framesDecoded += s.framesDecoded ?? 0; }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') o.outAudioPackets += s.packetsSent ?? 0;
      if (s.type === 'outbound-rtp' && s.kind === 'video') o.outVideoPackets += s.packetsSent ?? 0;
      if (s.type === 'outbound-rtp') o.outBytes += s.bytesSent ?? 0;
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair = pairId && r.get(pairId);
    if (pair) {
      const l = r.get(pair.localCandidateId);
      const rc = r.get(pair.remoteCandidateId);
      o.local = { type: l.candidateType, url: l.url ?? '', port: l.port, relayProtocol: l.relayProtocol ?? '' };
      o.remote = { type: rc.candidateType, port: rc.port };
    }
    out.push(o);
  }
  return out;
})()`;

/** getStats() of every connection the page opened (closed ones as `{state: 'closed'}`). */
export const peerStats = (p: Page) => p.evaluate(STATS) as Promise<PeerStats[]>;
/** The connections still open. */
export const openPeers = async (p: Page) => (await peerStats(p)).filter((s) => s.state !== 'closed');

export const callScreen = (p: Page) => p.getByTestId('call-screen');
export const incoming = (p: Page) => p.getByTestId('incoming-call');
export const callStatus = (p: Page) => callScreen(p).getByTestId('call-status');

/** Opens the conversation and presses its call button ('Voice call' or 'Video call'). */
export async function placeCall(a: AppPage, title: string | RegExp, kind: 'Voice call' | 'Video call'): Promise<void> {
  await conv(a.page, title).click();
  await a.page.getByRole('button', { name: kind, exact: true }).click();
}

/** Until every open connection of the page decodes audio (and video, if asked) from `n` others. */
export async function mediaFlowing(p: Page, n: number, video: boolean, timeout = 20_000): Promise<PeerStats[]> {
  let last: PeerStats[] = [];
  await expect
    .poll(
      async () => {
        last = await openPeers(p);
        return last.filter((s) => s.state === 'connected' && s.inAudioPackets > 0 && (!video || s.framesDecoded > 0)).length;
      },
      { timeout },
    )
    .toBe(n);
  return last;
}

/** Inbound media keeps growing on every open connection of the page (a second reading later). */
export async function stillFlowing(p: Page, video: boolean): Promise<void> {
  const before = await openPeers(p);
  await p.waitForTimeout(1500);
  const after = await openPeers(p);
  expect(after.length).toBe(before.length);
  after.forEach((s, i) => {
    expect(s.inAudioBytes, `audio on link ${i}`).toBeGreaterThan(before[i]!.inAudioBytes);
    if (video) expect(s.inVideoBytes, `video on link ${i}`).toBeGreaterThan(before[i]!.inVideoBytes);
  });
}

/** The call entries of the open conversation, as shown. */
export const callEntries = (p: Page) => p.getByRole('log').getByTestId('event').filter({ hasText: / call/ }).allInnerTexts();
