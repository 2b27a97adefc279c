import type { CallDevice } from './call-types.js';

/** How long an offer or answer waits for ICE gathering before it leaves with what it has. */
const GATHER_MS = 2500;

/**
 * One RTCPeerConnection to one device of the other side. The SDP goes out once gathering
 * is complete (so a relayed call needs one offer and one answer, no candidate
 * round trips); candidates found later follow as `ice` signals. DTLS-SRTP is WebRTC's
 * own: the fingerprint in the SDP travels inside the end-to-end signalling, so neither
 * the kluis server nor the TURN relay can sit in the middle.
 */
export class PeerLink {
  readonly pc: RTCPeerConnection;
  readonly remote = new MediaStream();
  device: CallDevice | undefined;
  private late: string[] = [];
  private described = false;
  private early: RTCIceCandidateInit[] = [];

  constructor(
    device: CallDevice | undefined,
    readonly username: string,
    config: RTCConfiguration,
    local: MediaStream,
    private readonly onChange: () => void,
    private readonly sendIce: (to: CallDevice, candidates: string[]) => void,
  ) {
    this.device = device;
    this.pc = new RTCPeerConnection(config);
    for (const track of local.getTracks()) this.pc.addTrack(track, local);
    this.pc.ontrack = (e) => {
      this.remote.addTrack(e.track);
      this.onChange();
    };
    this.pc.onconnectionstatechange = () => this.onChange();
    this.pc.onicecandidate = (e) => {
      // Before the description left, candidates ride inside it; after, they trickle.
      if (!e.candidate || !this.described) return;
      this.late.push(JSON.stringify({ c: e.candidate.candidate, m: e.candidate.sdpMid, i: e.candidate.sdpMLineIndex }));
      this.flush();
    };
  }

  get state(): RTCPeerConnectionState {
    return this.pc.connectionState;
  }

  async offer(): Promise<string> {
    // Receive video even when sending none: the other side may call with its camera on.
    if (!this.pc.getTransceivers().some((t) => t.receiver.track.kind === 'video')) this.pc.addTransceiver('video', { direction: 'recvonly' });
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.describe();
  }

  async answer(sdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.addEarly();
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.describe();
  }

  async accept(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    await this.addEarly();
    this.flush();
  }

  /** Candidates from the other side; held until its description is in. */
  async addCandidates(list: string[]): Promise<void> {
    for (const raw of list) {
      let init: RTCIceCandidateInit;
      try {
        const o = JSON.parse(raw) as { c?: unknown; m?: unknown; i?: unknown };
        if (typeof o.c !== 'string') continue;
        init = { candidate: o.c, sdpMid: typeof o.m === 'string' ? o.m : null, sdpMLineIndex: typeof o.i === 'number' ? o.i : null };
      } catch {
        continue;
      }
      if (this.pc.remoteDescription) await this.pc.addIceCandidate(init).catch(() => {});
      else this.early.push(init);
    }
  }

  /** Outbound RTP of one kind stops (mute, camera off) and resumes without renegotiating. */
  async setTrack(kind: 'audio' | 'video', track: MediaStreamTrack | null): Promise<void> {
    const sender = this.pc.getSenders().find((s) => s.track?.kind === kind || (s.track === null && this.kindOf(s) === kind));
    if (sender) await sender.replaceTrack(track);
  }

  /**
   * In a mesh every peer gets its own encode of this device's camera: with more peers,
   * each gets fewer bits (and pixels and frames), so upstream and CPU stay bounded.
   */
  async limitVideo(peers: number): Promise<void> {
    const sender = this.pc.getSenders().find((s) => s.track?.kind === 'video' || this.kindOf(s) === 'video');
    if (!sender) return;
    const p = sender.getParameters();
    if (!p.encodings?.length) return;
    const budget = videoBudget(peers);
    p.encodings = p.encodings.map((e) => ({ ...e, ...budget }));
    await sender.setParameters(p).catch(() => {});
  }

  close(): void {
    this.pc.onconnectionstatechange = null;
    this.pc.ontrack = null;
    this.pc.onicecandidate = null;
    this.pc.close();
    for (const t of this.remote.getTracks()) t.stop();
  }

  private kindOf(s: RTCRtpSender): string | undefined {
    return this.pc.getTransceivers().find((t) => t.sender === s)?.receiver.track.kind;
  }

  private async addEarly(): Promise<void> {
    const list = this.early;
    this.early = [];
    for (const c of list) await this.pc.addIceCandidate(c).catch(() => {});
  }

  private flush(): void {
    if (!this.device || this.late.length === 0 || !this.pc.remoteDescription) return;
    const list = this.late.splice(0, 32);
    this.sendIce(this.device, list);
    if (this.late.length) this.flush();
  }

  private async describe(): Promise<string> {
    await gathered(this.pc);
    this.described = true;
    return this.pc.localDescription!.sdp;
  }
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => pc.iceGatheringState === 'complete' && done();
    const timer = setTimeout(done, GATHER_MS);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/** Per-peer video limits by the number of peers: 1:1 and small groups as WebRTC likes. */
export function videoBudget(peers: number): RTCRtpEncodingParameters {
  if (peers <= 2) return { maxBitrate: 1_500_000 };
  if (peers <= 4) return { maxBitrate: 500_000, maxFramerate: 24 };
  return { maxBitrate: 200_000, maxFramerate: 15, scaleResolutionDownBy: 2 };
}
