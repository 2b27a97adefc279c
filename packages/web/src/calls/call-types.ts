import type { AppEvent, AppResponse } from '@kluis/app/api';

export type CallSignalEventData = Extract<AppEvent, { type: 'call-signal' }>['data'];
export type CallSignal = CallSignalEventData['signal'];
export type CallMedia = 'audio' | 'video';
export type RelayConfig = AppResponse<'callConfig'>['relay'];

export interface CallDevice {
  accountId: string;
  deviceId: number;
}

export type CallPhase = 'idle' | 'incoming' | 'outgoing' | 'connecting' | 'active' | 'ended';

/** Why a call ended, as this device tells its user. */
export type EndReason = 'hung-up' | 'remote' | 'declined' | 'busy' | 'no-answer' | 'failed' | 'no-media' | 'full';

export type Quality = 'good' | 'fair' | 'poor';

export interface PeerView {
  key: string;
  username: string;
  stream: MediaStream;
  state: RTCPeerConnectionState;
}

/** The one call this page is in (or ringing for): what the call screen draws. */
export interface CallView {
  phase: CallPhase;
  callId: string;
  conv: string;
  title: string;
  group: boolean;
  media: CallMedia;
  /** Who is calling (incoming). */
  caller: string;
  connectedAt: number | null;
  muted: boolean;
  cameraOff: boolean;
  sharing: boolean;
  local: MediaStream | null;
  peers: PeerView[];
  /** null: the server has no TURN relay (calls go direct, the app says so). */
  relay: 'all' | 'when-needed' | null;
  /** The selected candidate pair goes through the relay. */
  relayed: boolean | null;
  quality: Quality | null;
  ended: EndReason | null;
  /** The call screen is folded into a bar while the user reads other conversations. */
  minimized: boolean;
  /** Group calls others are in right now, by conversation: "Join call" in its header. */
  ongoing: Record<string, { callId: string; media: CallMedia }>;
}

export const IDLE: CallView = {
  phase: 'idle',
  callId: '',
  conv: '',
  title: '',
  group: false,
  media: 'audio',
  caller: '',
  connectedAt: null,
  muted: false,
  cameraOff: false,
  sharing: false,
  local: null,
  peers: [],
  relay: null,
  relayed: null,
  quality: null,
  ended: null,
  minimized: false,
  ongoing: {},
};

export const deviceKey = (d: CallDevice) => `${d.accountId}:${d.deviceId}`;
