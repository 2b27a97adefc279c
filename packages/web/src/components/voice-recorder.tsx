import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { MicIcon } from './icons.js';

/** Records a voice note with MediaRecorder where the browser has it (and the user allows the microphone). */
export function VoiceRecorder({ disabled, onRecorded }: { disabled: boolean; onRecorded: (file: File, durationMs: number) => void }) {
  const [recorder, setRecorder] = useState<MediaRecorder | null>(null);
  const [denied, setDenied] = useState(false);
  if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia) return null;

  const start = async () => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const r = new MediaRecorder(stream);
      const chunks: Blob[] = [];
      const started = performance.now();
      r.ondataavailable = (e) => chunks.push(e.data);
      r.onstop = () => {
        for (const track of stream.getTracks()) track.stop();
        const type = (r.mimeType || 'audio/webm').split(';')[0]!;
        const ext = type.includes('ogg') ? 'ogg' : type.includes('mp4') ? 'm4a' : 'webm';
        onRecorded(new File(chunks, `${t('composer.voiceNoteFile')}.${ext}`, { type }), performance.now() - started);
        setRecorder(null);
      };
      r.start();
      setRecorder(r);
    } catch {
      setDenied(true);
    }
  };
  const label = denied ? t('composer.noMicrophone') : recorder ? t('composer.stopRecording') : t('composer.record');
  return (
    <button
      type="button"
      class={`btn ${recorder ? 'recording' : ''}`}
      disabled={disabled || denied}
      aria-pressed={recorder !== null}
      aria-label={label}
      title={label}
      onClick={() => (recorder ? recorder.stop() : void start())}
    >
      <MicIcon />
    </button>
  );
}
