import { useEffect, useRef, useState } from 'preact/hooks';
import type { CallEngine } from '../calls/call-engine.js';
import type { CallView } from '../calls/call-types.js';
import { clock, useCallView, useElapsed } from '../calls/use-call.js';
import { GearIcon, MicIcon, PhoneIcon, ScreenIcon, VideoIcon } from '../components/icons.js';
import { t } from '../i18n.js';

/**
 * The call, over everything: the incoming screen, the call itself (tiles, preview,
 * controls), or a bar while the user reads other conversations. Remote audio plays from
 * here whatever is shown, so folding the screen never silences the call.
 */
export function CallScreen({ engine, titleOf }: { engine: CallEngine; titleOf: (conv: string) => string }) {
  const v = useCallView(engine);
  if (v.phase === 'idle') return null;
  const title = v.group ? titleOf(v.conv) : v.conv;
  return (
    <>
      {v.peers.map((p) => (
        <StreamMedia key={p.key} stream={p.stream} kind="audio" />
      ))}
      {v.phase === 'incoming' ? (
        <Incoming v={v} title={title} engine={engine} />
      ) : v.minimized ? (
        <CallBar v={v} title={title} engine={engine} />
      ) : (
        <InCall v={v} title={title} engine={engine} />
      )}
    </>
  );
}

function Incoming({ v, title, engine }: { v: CallView; title: string; engine: CallEngine }) {
  const text = v.group ? t('call.incomingGroup', { who: v.caller, title }) : t(v.media === 'video' ? 'call.incomingVideo' : 'call.incomingAudio', { who: v.caller });
  return (
    <div class="call-incoming" role="alertdialog" aria-label={text} data-testid="incoming-call" data-ringing="true">
      <div class="call-card">
        <div class="call-avatar" aria-hidden="true">
          {(v.caller[0] ?? '?').toUpperCase()}
        </div>
        <p class="call-who">{text}</p>
        <div class="call-actions">
          <button class="btn call-btn call-decline" onClick={() => engine.decline()}>
            <PhoneIcon /> {t('call.decline')}
          </button>
          <button class="btn call-btn call-accept" onClick={() => void engine.accept('audio')}>
            <PhoneIcon /> {t('call.acceptAudio')}
          </button>
          {v.media === 'video' && (
            <button class="btn call-btn call-accept" onClick={() => void engine.accept('video')}>
              <VideoIcon /> {t('call.acceptVideo')}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}

function status(v: CallView, seconds: number): string {
  switch (v.phase) {
    case 'outgoing':
      return t('call.calling');
    case 'connecting':
      return t('call.connecting');
    case 'ended':
      return t(`call.ended.${v.ended ?? 'hung-up'}`, { who: v.conv });
    default:
      return v.group && v.peers.length === 0 ? t('call.waiting') : clock(seconds);
  }
}

function CallBar({ v, title, engine }: { v: CallView; title: string; engine: CallEngine }) {
  const seconds = useElapsed(v.connectedAt);
  return (
    <div class="call-bar" role="region" aria-label={t('call.inCall', { title })} data-testid="call-bar">
      <span>
        <strong>{title}</strong> · <span data-testid="call-status">{status(v, seconds)}</span>
      </span>
      <button class="btn btn-small" onClick={() => engine.minimize(false)}>
        {t('call.return')}
      </button>
      <button class="btn btn-small call-decline" onClick={() => engine.hangup()}>
        {t('call.hangup')}
      </button>
    </div>
  );
}

function InCall({ v, title, engine }: { v: CallView; title: string; engine: CallEngine }) {
  const seconds = useElapsed(v.connectedAt);
  const [devicesOpen, setDevicesOpen] = useState(false);
  const live = v.phase !== 'ended';
  const video = v.media === 'video';
  return (
    <div class="call-screen" role="region" aria-label={t('call.inCall', { title })} data-testid="call-screen" data-phase={v.phase}>
      <header class="call-head">
        <div>
          <h2 class="call-title">{title}</h2>
          <p class="call-status" data-testid="call-status" role="status">
            {status(v, seconds)}
            {v.quality && live && <span class={`call-quality q-${v.quality}`}> · {t(`call.quality.${v.quality}`)}</span>}
          </p>
        </div>
        <p class="call-relay small" data-testid="call-relay">
          {v.relay === null ? t('call.relayOff') : v.relayed === true ? t('call.relayed') : v.relayed === false ? t('call.direct') : ''}
        </p>
        {live && (
          <button class="btn btn-small call-min" onClick={() => engine.minimize(true)}>
            {t('call.minimize')}
          </button>
        )}
      </header>
      <div class={`call-tiles n-${Math.min(v.peers.length, 8)}`}>
        {v.peers.map((p) => (
          <figure class="call-tile" key={p.key} data-testid="call-tile">
            <StreamMedia stream={p.stream} kind="video" />
            <figcaption>{p.username}</figcaption>
          </figure>
        ))}
        {v.peers.length === 0 && (
          <div class="call-tile call-tile-empty">
            <div class="call-avatar" aria-hidden="true">
              {(title[0] ?? '?').toUpperCase()}
            </div>
          </div>
        )}
      </div>
      {v.local && video && !v.cameraOff && (
        <figure class="call-local" aria-label={t('call.you')}>
          <StreamMedia stream={v.local} kind="video" mirrored={!v.sharing} />
        </figure>
      )}
      {devicesOpen && live && <DevicePicker engine={engine} video={video} onClose={() => setDevicesOpen(false)} />}
      {live && (
        <div class="call-controls" role="toolbar" aria-label={t('call.controls')}>
          <button class={`call-round ${v.muted ? 'off' : ''}`} aria-pressed={v.muted} aria-label={v.muted ? t('call.unmute') : t('call.mute')} title={v.muted ? t('call.unmute') : t('call.mute')} onClick={() => void engine.toggleMute()}>
            <MicIcon />
          </button>
          {video && (
            <button
              class={`call-round ${v.cameraOff ? 'off' : ''}`}
              aria-pressed={v.cameraOff}
              aria-label={v.cameraOff ? t('call.cameraOn') : t('call.cameraOff')}
              title={v.cameraOff ? t('call.cameraOn') : t('call.cameraOff')}
              onClick={() => void engine.toggleCamera()}
            >
              <VideoIcon />
            </button>
          )}
          {video && typeof navigator.mediaDevices?.getDisplayMedia === 'function' && (
            <button class={`call-round ${v.sharing ? 'on' : ''}`} aria-pressed={v.sharing} aria-label={v.sharing ? t('call.stopShare') : t('call.share')} title={v.sharing ? t('call.stopShare') : t('call.share')} onClick={() => void engine.toggleScreen().catch(() => {})}>
              <ScreenIcon />
            </button>
          )}
          <button class="call-round" aria-label={t('call.settings')} title={t('call.settings')} aria-expanded={devicesOpen} onClick={() => setDevicesOpen(!devicesOpen)}>
            <GearIcon />
          </button>
          <button class="call-round call-hangup" aria-label={t('call.hangup')} title={t('call.hangup')} onClick={() => engine.hangup()}>
            <PhoneIcon />
          </button>
        </div>
      )}
    </div>
  );
}

function DevicePicker({ engine, video, onClose }: { engine: CallEngine; video: boolean; onClose: () => void }) {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    navigator.mediaDevices?.enumerateDevices().then(setDevices, () => setDevices([]));
  }, []);
  const pick = (kind: 'audioinput' | 'videoinput') => {
    const list = devices.filter((d) => d.kind === kind);
    const id = `call-${kind}`;
    return (
      <div class="field">
        <label for={id}>{kind === 'audioinput' ? t('call.microphone') : t('call.camera')}</label>
        <select id={id} value={engine.selectedDevice(kind)} onChange={(e) => void engine.useDevice(kind, (e.target as HTMLSelectElement).value).catch(() => {})}>
          {list.map((d, i) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label || `${kind === 'audioinput' ? t('call.microphone') : t('call.camera')} ${i + 1}`}
            </option>
          ))}
        </select>
      </div>
    );
  };
  return (
    <div class="call-devices card" role="dialog" aria-label={t('call.settings')}>
      {pick('audioinput')}
      {video && pick('videoinput')}
      <button class="btn btn-small" onClick={onClose}>
        {t('common.close')}
      </button>
    </div>
  );
}

function StreamMedia({ stream, kind, mirrored }: { stream: MediaStream; kind: 'audio' | 'video'; mirrored?: boolean }) {
  const ref = useRef<HTMLVideoElement & HTMLAudioElement>(null);
  useEffect(() => {
    if (ref.current && ref.current.srcObject !== stream) ref.current.srcObject = stream;
  }, [stream]);
  // Video elements are muted: sound plays once, from the audio elements.
  return kind === 'audio' ? <audio ref={ref} autoplay class="call-audio" /> : <video ref={ref} autoplay playsInline muted class={mirrored ? 'mirrored' : ''} />;
}
