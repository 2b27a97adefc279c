import { GroupPresence } from './group-presence.js';
import { PeerLink } from './peer-link.js';
import { linkStats, qualityOf, type LinkStats } from './quality.js';
import type { Ringer } from './ringer.js';
import { deviceKey, IDLE, type CallDevice, type CallMedia, type CallSignal, type CallSignalEventData, type CallView, type EndReason, type RelayConfig } from './call-types.js';

/** No answer within this long is a missed call (the caller hangs up, the callee stops ringing). */
export const NO_ANSWER_MS = 45_000;
/** A group call's size: in a mesh each device sends its camera to every other. */
export const MAX_GROUP_CALL = 8;
/** How long "call ended" stays on screen. */
const ENDED_SHOWN_MS = 2500;
const STATS_EVERY_MS = 2000;

/** What the engine needs from the page: the host's routes, the user's settings, a ringer. */
export interface CallDeps {
  send(conv: string, signal: CallSignal): Promise<void>;
  relayConfig(): Promise<RelayConfig>;
  dismiss(callId: string): Promise<void>;
  relayAll(): boolean;
  ringer: Ringer;
  /** An incoming call while the tab is hidden; returns a close function. */
  notify(caller: string, media: CallMedia, group: boolean): (() => void) | undefined;
  getUserMedia(c: MediaStreamConstraints): Promise<MediaStream>;
  getDisplayMedia(): Promise<MediaStream>;
}

interface Incoming {
  from: CallDevice;
  username: string;
  sdp: string | null;
}

/**
 * The page's one call: ringing, 1:1 over a single PeerLink, or a group call as a mesh
 * (each pair of devices its own DTLS-SRTP connection through the relay, so the relay
 * sees ciphertext only and a device that left gets nothing sent after it left).
 * Signals arrive as the host's 'call-signal' events; the view is pushed to subscribers.
 * - 1:1: offer to every device of the callee; the first answer picks the device; the
 *   callee's answer or decline reaches its other devices too, which stop ringing.
 * - group: `join` to the group; everyone already in the call offers to the newcomer's
 *   device (so two devices never offer to each other at once); `leave` ends its links.
 */
export class CallEngine {
  private v: CallView = IDLE;
  private readonly listeners = new Set<(v: CallView) => void>();
  private readonly links = new Map<string, PeerLink>();
  /** 1:1: the one link (its device is known once answered). */
  private link: PeerLink | null = null;
  private incoming: Incoming | null = null;
  private config: RTCConfiguration = {};
  private noAnswer: number | undefined;
  private statsTimer: number | undefined;
  private endedTimer: number | undefined;
  private closeNote: (() => void) | undefined;
  private lastStats: LinkStats | undefined;
  private readonly presence = new GroupPresence();
  /** The peer count the group's video limits were last set for. */
  private budgetFor = 0;
  private tracks: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null; screen: MediaStreamTrack | null } = { audio: null, video: null, screen: null };

  constructor(private readonly deps: CallDeps) {}

  get view(): CallView {
    return this.v;
  }

  subscribe(fn: (v: CallView) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  get busy(): boolean {
    return this.v.phase !== 'idle' && this.v.phase !== 'ended';
  }

  /** Calls a person (conv = username) or starts a group call (conv = "g:…"). */
  async start(conv: string, title: string, group: boolean, media: CallMedia): Promise<void> {
    if (this.busy) return;
    this.reset();
    const callId = crypto.randomUUID();
    this.set({ ...IDLE, ongoing: this.v.ongoing, phase: group ? 'active' : 'outgoing', callId, conv, title, group, media, connectedAt: group ? Date.now() : null });
    try {
      await this.openMedia(media);
      await this.loadConfig();
      if (this.v.callId !== callId) return;
      if (group) {
        await this.deps.send(conv, { type: 'join', callId, media });
        this.watchStats();
        return;
      }
      this.link = this.newLink(undefined, title);
      const sdp = await this.link.offer();
      if (this.v.callId !== callId || this.v.phase !== 'outgoing') return;
      await this.deps.send(conv, { type: 'offer', callId, media, sdp });
      this.noAnswer = window.setTimeout(() => {
        if (this.v.callId !== callId || this.v.phase !== 'outgoing') return;
        void this.deps.send(conv, { type: 'hangup', callId, reason: 'no-answer' }).catch(() => {});
        this.end('no-answer');
      }, NO_ANSWER_MS);
    } catch (e) {
      if (this.v.callId !== callId) return;
      if (!group && this.link) void this.deps.send(conv, { type: 'hangup', callId, reason: 'failed' }).catch(() => {});
      this.end(e instanceof DOMException ? 'no-media' : 'failed');
    }
  }

  async accept(media: CallMedia): Promise<void> {
    const inc = this.incoming;
    if (this.v.phase !== 'incoming' || !inc) return;
    const { callId, conv, group } = this.v;
    this.stopRinging();
    if (group && this.presence.count(conv) >= MAX_GROUP_CALL) return this.end('full');
    this.set({ phase: group ? 'active' : 'connecting', media: this.v.media === 'video' ? media : 'audio', connectedAt: group ? Date.now() : null });
    try {
      await this.openMedia(this.v.media);
      await this.loadConfig();
      if (group) {
        await this.deps.send(conv, { type: 'join', callId, media: this.v.media });
      } else {
        this.link = this.newLink(inc.from, inc.username);
        const sdp = await this.link.answer(inc.sdp ?? '');
        if (this.v.callId !== callId) return;
        await this.deps.send(conv, { type: 'answer', callId, sdp });
      }
      this.watchStats();
    } catch (e) {
      if (this.v.callId !== callId) return;
      if (!group) void this.deps.send(conv, { type: 'hangup', callId, reason: 'failed' }).catch(() => {});
      this.end(e instanceof DOMException ? 'no-media' : 'failed');
    }
  }

  /** Joins a group call already going on in `conv` (it rang earlier, or here not at all). */
  async join(conv: string, title: string): Promise<void> {
    const call = this.v.ongoing[conv];
    if (!call || this.busy) return;
    this.reset();
    if (this.presence.count(conv) >= MAX_GROUP_CALL) {
      this.set({ phase: 'active', callId: call.callId, conv, title, group: true, media: call.media });
      return this.end('full');
    }
    const { callId, media } = call;
    this.set({ phase: 'active', callId, conv, title, group: true, media, connectedAt: Date.now() });
    try {
      await this.openMedia(media);
      await this.loadConfig();
      await this.deps.send(conv, { type: 'join', callId, media });
      this.watchStats();
    } catch (e) {
      if (this.v.callId === callId) this.end(e instanceof DOMException ? 'no-media' : 'failed');
    }
  }

  decline(): void {
    if (this.v.phase !== 'incoming') return;
    const { callId, conv, group } = this.v;
    // A group call goes on without this device; a 1:1 caller hears "declined".
    if (group) void this.deps.dismiss(callId).catch(() => {});
    else void this.deps.send(conv, { type: 'hangup', callId, reason: 'declined' }).catch(() => {});
    this.reset();
  }

  hangup(): void {
    if (!this.busy) return this.reset();
    const { callId, conv, group } = this.v;
    if (this.v.phase === 'incoming') return this.decline();
    void this.deps.send(conv, group ? { type: 'leave', callId } : { type: 'hangup', callId, reason: 'normal' }).catch(() => {});
    this.end('hung-up');
  }

  minimize(minimized: boolean): void {
    this.set({ minimized });
  }

  async toggleMute(): Promise<void> {
    const muted = !this.v.muted;
    this.set({ muted });
    if (this.tracks.audio) this.tracks.audio.enabled = !muted;
    // No track, no packets: the other side (and the relay) get no audio at all while muted.
    await this.eachLink((l) => l.setTrack('audio', muted ? null : this.tracks.audio));
  }

  async toggleCamera(): Promise<void> {
    if (this.v.media !== 'video') return;
    const cameraOff = !this.v.cameraOff;
    this.set({ cameraOff });
    if (this.tracks.video) this.tracks.video.enabled = !cameraOff;
    await this.eachLink((l) => l.setTrack('video', this.outgoingVideo()));
  }

  async toggleScreen(): Promise<void> {
    if (this.v.media !== 'video') return;
    if (this.tracks.screen) return this.stopScreen();
    const stream = await this.deps.getDisplayMedia();
    const track = stream.getVideoTracks()[0];
    if (!track) return;
    this.tracks.screen = track;
    track.onended = () => void this.stopScreen();
    this.set({ sharing: true });
    this.refreshLocal();
    await this.eachLink((l) => l.setTrack('video', this.outgoingVideo()));
  }

  /** Switches the microphone or camera in the middle of a call. */
  async useDevice(kind: 'audioinput' | 'videoinput', deviceId: string): Promise<void> {
    const audio = kind === 'audioinput';
    const stream = await this.deps.getUserMedia(audio ? { audio: { deviceId: { exact: deviceId } } } : { video: { deviceId: { exact: deviceId } } });
    const track = (audio ? stream.getAudioTracks() : stream.getVideoTracks())[0];
    if (!track) return;
    const old = audio ? this.tracks.audio : this.tracks.video;
    if (audio) {
      this.tracks.audio = track;
      track.enabled = !this.v.muted;
      await this.eachLink((l) => l.setTrack('audio', this.v.muted ? null : track));
    } else {
      this.tracks.video = track;
      track.enabled = !this.v.cameraOff;
      await this.eachLink((l) => l.setTrack('video', this.outgoingVideo()));
    }
    old?.stop();
    this.refreshLocal();
  }

  selectedDevice(kind: 'audioinput' | 'videoinput'): string {
    const t = kind === 'audioinput' ? this.tracks.audio : this.tracks.video;
    return t?.getSettings().deviceId ?? '';
  }

  /** One 'call-signal' event from the host. */
  async onSignal(e: CallSignalEventData): Promise<void> {
    const s = e.signal;
    const from: CallDevice = { accountId: e.from.accountId, deviceId: e.from.deviceId };
    const key = deviceKey(from);
    if ((s.type === 'join' || s.type === 'leave') && this.presence.note(e.conversation, s.callId, key, s.type === 'join' ? s.media : null)) this.set({ ongoing: this.presence.ongoing });
    const v = this.v;
    const mine = v.callId === s.callId && this.busy;
    switch (s.type) {
      case 'offer':
        if ('to' in s && s.to) {
          if (!mine || !v.group || v.phase === 'incoming') return;
          const link = this.groupLink(from, e.from.username);
          const sdp = await link.answer(s.sdp);
          await this.deps.send(v.conv, { type: 'answer', callId: s.callId, sdp, to: from });
          void link.limitVideo(this.links.size);
          return;
        }
        if (e.ring) this.ring(e, s.media, s.sdp);
        return;
      case 'join':
        if (e.fromSelf) return this.elsewhere(s.callId);
        if (mine && v.group && v.phase !== 'incoming') {
          // A ninth device gets no offer: it sees the call as full by the joins it heard.
          if (!this.links.has(key) && this.links.size >= MAX_GROUP_CALL - 1) return;
          const link = this.groupLink(from, e.from.username);
          const sdp = await link.offer();
          await this.deps.send(v.conv, { type: 'offer', callId: s.callId, media: v.media, sdp, to: from });
          void link.limitVideo(this.links.size);
          return;
        }
        if (e.ring) this.ring(e, s.media, null);
        return;
      case 'answer':
        if (e.fromSelf) return this.elsewhere(s.callId);
        if (!mine) return;
        if (v.group) return void (await this.links.get(key)?.accept(s.sdp));
        // The first device of the callee to answer is the call; a later one is told so.
        if (v.phase !== 'outgoing' || !this.link) {
          if (this.link?.device && deviceKey(this.link.device) !== key) void this.deps.send(v.conv, { type: 'hangup', callId: s.callId, reason: 'answered-elsewhere', to: from });
          return;
        }
        clearTimeout(this.noAnswer);
        this.link.device = from;
        this.set({ phase: 'connecting' });
        await this.link.accept(s.sdp);
        this.watchStats();
        return;
      case 'ice':
        if (!mine) return;
        await (v.group ? this.links.get(key) : this.link?.device && deviceKey(this.link.device) === key ? this.link : undefined)?.addCandidates(s.candidates);
        return;
      case 'busy':
        if (e.fromSelf) return this.elsewhere(s.callId);
        if (mine && v.phase === 'outgoing') this.end('busy');
        return;
      case 'hangup':
        if (v.callId !== s.callId) return;
        if (e.fromSelf) return this.elsewhere(s.callId);
        if (v.phase === 'incoming') return this.reset();
        if (v.group) return this.dropLink(key);
        if (this.link?.device && deviceKey(this.link.device) !== key) return;
        if (!mine) return;
        this.end(s.reason === 'declined' ? 'declined' : s.reason === 'busy' ? 'busy' : s.reason === 'failed' ? 'failed' : 'remote');
        return;
      case 'leave':
        if (e.fromSelf) return this.elsewhere(s.callId);
        if (mine && v.group) this.dropLink(key);
        return;
    }
  }

  /** Before the page locks or closes. */
  dispose(): void {
    this.hangup();
    this.reset();
  }

  private ring(e: CallSignalEventData, media: CallMedia, sdp: string | null): void {
    const group = sdp === null;
    if (this.busy) {
      // Already in a call (or ringing for one): a 1:1 caller hears busy; a group call rings on elsewhere.
      if (!group) void this.deps.send(e.conversation, { type: 'busy', callId: e.signal.callId }).catch(() => {});
      return;
    }
    this.reset();
    const callId = e.signal.callId;
    this.incoming = { from: { accountId: e.from.accountId, deviceId: e.from.deviceId }, username: e.from.username, sdp };
    this.set({ ...IDLE, ongoing: this.v.ongoing, phase: 'incoming', callId, conv: e.conversation, title: e.conversation, group, media, caller: e.from.username });
    this.deps.ringer.start();
    this.closeNote = this.deps.notify(e.from.username, media, group);
    this.noAnswer = window.setTimeout(() => {
      if (this.v.callId !== callId || this.v.phase !== 'incoming') return;
      void this.deps.dismiss(callId).catch(() => {});
      this.reset();
    }, NO_ANSWER_MS);
  }

  /** Another device of this account answered, declined or joined: this one stops ringing. */
  private elsewhere(callId: string): void {
    if (this.v.callId === callId && this.v.phase === 'incoming') this.reset();
  }

  private newLink(device: CallDevice | undefined, username: string): PeerLink {
    const local = this.v.local ?? new MediaStream();
    return new PeerLink(device, username, this.config, local, () => this.onLinkChange(), (to, candidates) => {
      if (this.busy) void this.deps.send(this.v.conv, { type: 'ice', callId: this.v.callId, candidates, to }).catch(() => {});
    });
  }

  private groupLink(from: CallDevice, username: string): PeerLink {
    const key = deviceKey(from);
    this.links.get(key)?.close();
    const link = this.newLink(from, username);
    this.links.set(key, link);
    this.onLinkChange();
    return link;
  }

  private dropLink(key: string): void {
    this.links.get(key)?.close();
    this.links.delete(key);
    this.onLinkChange();
  }

  private onLinkChange(): void {
    if (!this.busy) return;
    const all = this.v.group ? [...this.links.entries()] : this.link ? [['peer', this.link] as const] : [];
    const peers = all.map(([key, l]) => ({ key, username: l.username, stream: l.remote, state: l.state }));
    if (!this.v.group && this.link) {
      if (this.link.state === 'connected' && this.v.phase === 'connecting') return this.set({ peers, phase: 'active', connectedAt: Date.now() });
      if (this.link.state === 'failed') {
        void this.deps.send(this.v.conv, { type: 'hangup', callId: this.v.callId, reason: 'failed' }).catch(() => {});
        return this.end('failed');
      }
    }
    if (this.v.group) {
      for (const [key, l] of all) if (l.state === 'failed') queueMicrotask(() => this.dropLink(key));
      if (all.length !== this.budgetFor) {
        this.budgetFor = all.length;
        for (const [, l] of all) void l.limitVideo(all.length);
      }
    }
    this.set({ peers });
  }

  private async openMedia(media: CallMedia): Promise<void> {
    const stream = await this.deps.getUserMedia({ audio: true, video: media === 'video' });
    this.tracks.audio = stream.getAudioTracks()[0] ?? null;
    this.tracks.video = stream.getVideoTracks()[0] ?? null;
    this.set({ local: stream });
  }

  private async loadConfig(): Promise<void> {
    const relay = await this.deps.relayConfig().catch(() => null);
    const all = this.deps.relayAll();
    this.config = relay ? { iceServers: [{ urls: relay.urls, username: relay.username, credential: relay.credential }], iceTransportPolicy: all ? 'relay' : 'all' } : {};
    this.set({ relay: relay ? (all ? 'all' : 'when-needed') : null });
  }

  private outgoingVideo(): MediaStreamTrack | null {
    if (this.tracks.screen) return this.tracks.screen;
    return this.v.cameraOff ? null : this.tracks.video;
  }

  private async stopScreen(): Promise<void> {
    this.tracks.screen?.stop();
    this.tracks.screen = null;
    this.set({ sharing: false });
    this.refreshLocal();
    await this.eachLink((l) => l.setTrack('video', this.outgoingVideo()));
  }

  /** The preview shows what goes out: the screen while sharing, else the camera. */
  private refreshLocal(): void {
    const tracks = [this.tracks.audio, this.tracks.screen ?? this.tracks.video].filter((t): t is MediaStreamTrack => t !== null);
    this.set({ local: new MediaStream(tracks) });
  }

  private async eachLink(fn: (l: PeerLink) => Promise<void>): Promise<void> {
    const all = this.v.group ? [...this.links.values()] : this.link ? [this.link] : [];
    await Promise.all(all.map((l) => fn(l).catch(() => {})));
  }

  private watchStats(): void {
    clearInterval(this.statsTimer);
    this.statsTimer = window.setInterval(async () => {
      const first = this.v.group ? [...this.links.values()][0] : this.link;
      if (!first || !this.busy) return;
      const now = await linkStats(first.pc).catch(() => undefined);
      if (!now) return;
      this.set({ quality: qualityOf(now, this.lastStats), relayed: now.relayed });
      this.lastStats = now;
    }, STATS_EVERY_MS);
  }

  private stopRinging(): void {
    this.deps.ringer.stop();
    this.closeNote?.();
    this.closeNote = undefined;
    clearTimeout(this.noAnswer);
  }

  private end(reason: EndReason): void {
    const callId = this.v.callId;
    this.teardown();
    this.set({ phase: 'ended', ended: reason, peers: [], local: null, minimized: false });
    this.endedTimer = window.setTimeout(() => this.v.callId === callId && this.v.phase === 'ended' && this.reset(), ENDED_SHOWN_MS);
  }

  private teardown(): void {
    this.stopRinging();
    clearInterval(this.statsTimer);
    clearTimeout(this.endedTimer);
    this.link?.close();
    this.link = null;
    for (const l of this.links.values()) l.close();
    this.links.clear();
    for (const t of [this.tracks.audio, this.tracks.video, this.tracks.screen]) t?.stop();
    this.tracks = { audio: null, video: null, screen: null };
    for (const t of this.v.local?.getTracks() ?? []) t.stop();
    this.incoming = null;
    this.lastStats = undefined;
    this.budgetFor = 0;
  }

  private reset(): void {
    this.teardown();
    this.set({ ...IDLE, ongoing: this.v.ongoing });
  }

  private set(patch: Partial<CallView>): void {
    this.v = { ...this.v, ...patch };
    for (const fn of this.listeners) fn(this.v);
  }
}
