import type { RefObject } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { call, upload } from '../api.js';
import { PaperclipIcon } from '../components/icons.js';
import { VoiceRecorder } from '../components/voice-recorder.js';
import { formatBytes, t } from '../i18n.js';
import type { Message } from '@kluis/app/api';
import { preview } from './message.js';

const TYPING_EVERY_MS = 3000;

/** Files to send, and which of them are voice notes recorded here (with their length). */
export interface Outbox {
  files: File[];
  voiceMs: WeakMap<File, number>;
}

/**
 * Writing: text (Enter sends, Shift+Enter is a new line), files by picker (or dropped on
 * the conversation), voice notes, a reply or an edit in progress; typing indicators out.
 */
export function Composer(p: {
  conv: string;
  isGroupReady: boolean;
  blocked: boolean;
  replyTo: Message | null;
  editing: Message | null;
  outbox: Outbox;
  setFiles: (update: (cur: File[]) => File[]) => void;
  inputRef: RefObject<HTMLTextAreaElement | null>;
  onCancelContext: () => void;
  onSent: () => Promise<unknown>;
  onError: (e: unknown) => void;
}) {
  const { blocked, editing, replyTo, outbox } = p;
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  // Set at once, not at the next render: a second Enter or click in between is ignored.
  const sending = useRef(false);
  // The message being sent and its id, from the first Enter until it is sent: a retry of the
  // same message after an error is that message again (the host sends it with its timestamp).
  const pending = useRef<{ id: string; what: string } | undefined>(undefined);
  const fileRef = useRef<HTMLInputElement>(null);
  const lastTyping = useRef(0);
  const stopTyping = useRef<number | undefined>(undefined);

  // Editing starts from the message's text; leaving an edit empties the box again. Only on a
  // change: clearing the box on mount would wipe what was typed right after the conversation
  // opened. A layout effect, in the same commit as the Edit click's render: a plain effect
  // runs after the next frame, and once overwrote the new text typed in between (CI saw the
  // edit saved with the old text).
  const editingId = useRef(editing?.id);
  useLayoutEffect(() => {
    if (editingId.current === editing?.id) return;
    editingId.current = editing?.id;
    setText(editing ? editing.text : '');
  }, [editing?.id]);

  const typingChanged = (started: boolean) => {
    if (!p.isGroupReady) return;
    void call('typing', { params: { conv: p.conv }, body: { started } }).catch(() => {});
  };
  const onInput = (v: string) => {
    setText(v);
    if (editing || blocked) return;
    const now = Date.now();
    if (v && now - lastTyping.current > TYPING_EVERY_MS) {
      lastTyping.current = now;
      typingChanged(true);
    }
    clearTimeout(stopTyping.current);
    stopTyping.current = window.setTimeout(() => {
      lastTyping.current = 0;
      typingChanged(false);
    }, TYPING_EVERY_MS + 1000);
  };

  const send = async () => {
    if (sending.current || busy || blocked) return;
    const body = text.trim();
    if (!body && outbox.files.length === 0) return;
    sending.current = true;
    setBusy(true);
    p.onError(null);
    try {
      if (editing) {
        await call('edit', { params: { id: editing.id }, body: { text: body } });
      } else {
        const fileIds = await Promise.all(
          outbox.files.map((f) => {
            const ms = outbox.voiceMs.get(f);
            return upload(f, ms === undefined ? undefined : { durationMs: ms });
          }),
        );
        const what = JSON.stringify([text, replyTo?.id ?? null, outbox.files.map((f) => [f.name, f.size, f.lastModified])]);
        if (pending.current?.what !== what) pending.current = { id: crypto.randomUUID(), what };
        const id = pending.current.id;
        await call('send', { params: { conv: p.conv }, body: { ...(body ? { text } : {}), ...(replyTo ? { replyTo: replyTo.id } : {}), files: fileIds, id } });
        pending.current = undefined;
        clearTimeout(stopTyping.current);
        lastTyping.current = 0;
      }
      setText('');
      p.setFiles(() => []);
      p.onCancelContext();
      await p.onSent();
    } catch (e) {
      p.onError(e);
    } finally {
      sending.current = false;
      setBusy(false);
      p.inputRef.current?.focus();
    }
  };

  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void send();
    }
    if (e.key === 'Escape') p.onCancelContext();
  };
  const addFiles = (list: FileList | null) => list && p.setFiles((cur) => [...cur, ...Array.from(list)]);

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {(replyTo || editing) && (
        <div class="composing-context">
          <span>{replyTo ? t('composer.replyingTo', { text: preview(replyTo) }) : t('composer.editing')}</span>
          <button type="button" class="btn-icon" aria-label={t('common.cancel')} onClick={p.onCancelContext}>
            ×
          </button>
        </div>
      )}
      {outbox.files.length > 0 && (
        <ul class="chips" aria-label={t('composer.files')}>
          {outbox.files.map((f, i) => (
            <li key={i}>
              {f.name} <span class="muted">{formatBytes(f.size)}</span>
              <button type="button" class="btn-icon" aria-label={t('composer.removeFile', { name: f.name })} onClick={() => p.setFiles((cur) => cur.filter((_, j) => j !== i))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="row">
        <input
          ref={fileRef}
          id="attach"
          type="file"
          multiple
          class="sr-only"
          disabled={blocked || !!editing}
          onChange={(e) => {
            const input = e.target as HTMLInputElement;
            addFiles(input.files);
            input.value = '';
          }}
        />
        <button type="button" class="btn" disabled={blocked || !!editing} onClick={() => fileRef.current?.click()} aria-label={t('composer.attach')} title={t('composer.attach')}>
          <PaperclipIcon />
        </button>
        <VoiceRecorder
          disabled={blocked || !!editing}
          onRecorded={(f, ms) => {
            outbox.voiceMs.set(f, ms);
            p.setFiles((cur) => [...cur, f]);
          }}
        />
        <label class="sr-only" for="composer">
          {t('composer.label')}
        </label>
        <textarea
          id="composer"
          ref={p.inputRef}
          rows={2}
          value={text}
          disabled={blocked}
          placeholder={blocked ? t('composer.blocked') : t('composer.placeholder')}
          title={t('composer.hint')}
          onInput={(e) => onInput((e.target as HTMLTextAreaElement).value)}
          onKeyDown={onKey}
        />
        <button type="submit" class="btn btn-primary" disabled={busy || blocked}>
          {editing ? t('common.save') : t('composer.send')}
        </button>
      </div>
    </form>
  );
}
