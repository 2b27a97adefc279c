import { useEffect, useRef, useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { errorText } from '../errors.js';
import { useAppEvent } from '../events.js';
import { PaperclipIcon } from '../components/icons.js';
import { VoiceRecorder } from '../components/voice-recorder.js';
import { formatBytes, t } from '../i18n.js';
import type { Account, ConversationDetail, Message } from '../types.js';
import type { View } from './main.js';
import { MessageItem, preview } from './message.js';

const TIMERS = [0, 30, 300, 3600, 86400, 604800];
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 6000;

export function ConversationView(p: { conv: string; account: Account; onBack: () => void; onRead: () => void; onOpen: (v: View) => void }) {
  const { conv, account } = p;
  const [detail, setDetail] = useState<ConversationDetail | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [text, setText] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [editing, setEditing] = useState<Message | null>(null);
  const [typing, setTyping] = useState<Record<string, number>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const listRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const lastTyping = useRef(0);
  /** Files recorded here as voice notes, with their length. */
  const voiceNotes = useRef(new WeakMap<File, number>());
  const stopTyping = useRef<number | undefined>(undefined);
  const reloadTimer = useRef<number | undefined>(undefined);
  const path = `/api/conversations/${enc(conv)}`;

  const loadDetail = () => api.get<ConversationDetail>(path).then(setDetail, (e) => setError(e));
  const loadMessages = () =>
    api.get<Message[]>(`${path}/messages`).then((list) => {
      setMessages(list);
      // Only when something is unread: marking read updates messages, which would reload this list again.
      if (document.visibilityState === 'visible' && list.some((m) => m.direction === 'incoming' && m.kind === 'text' && !m.readAt)) {
        void api.post(`${path}/read`).then(p.onRead, () => {});
      }
    }, () => {});

  useEffect(() => {
    void loadDetail();
    void loadMessages();
    inputRef.current?.focus();
  }, []);
  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length, detail?.identityChanged, error]);
  // Typing indicators fade by themselves if the "stopped" never comes.
  useEffect(() => {
    if (Object.keys(typing).length === 0) return;
    const timer = setInterval(() => setTyping((cur) => Object.fromEntries(Object.entries(cur).filter(([, at]) => Date.now() - at < TYPING_SHOWN_MS))), 1000);
    return () => clearInterval(timer);
  }, [typing]);

  useAppEvent((e) => {
    const d = e.data ?? {};
    if ((e.type === 'message' || e.type === 'message-updated' || e.type === 'message-removed') && d.conversation === conv) {
      if (e.type === 'message') setTyping((cur) => omit(cur, d.from?.username));
      clearTimeout(reloadTimer.current);
      reloadTimer.current = window.setTimeout(loadMessages, 80);
    }
    if (e.type === 'typing' && d.conversation === conv && d.username !== account.username) {
      setTyping((cur) => (d.started ? { ...cur, [d.username]: Date.now() } : omit(cur, d.username)));
    }
    if (e.type === 'group-updated' && d.conversation === conv) void loadDetail();
    if ((e.type === 'identity-changed' || e.type === 'identity-accepted') && d.username === conv) void loadDetail();
  });

  const blocked = detail?.identityChanged === true;
  const isGroup = conv.startsWith('g:');
  const recipients = isGroup ? Math.max(0, (detail?.group?.members.length ?? 1) - 1) : 1;
  const authorOf = (accountId: string) =>
    accountId === account.accountId ? t('message.you') : (messages.find((m) => m.from.accountId === accountId)?.from.username ?? detail?.group?.members.find((x) => x.accountId === accountId)?.username ?? '');

  const typingChanged = (started: boolean) => {
    if (isGroup && !detail) return;
    void api.post(`${path}/typing`, { started }).catch(() => {});
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
    if (busy || blocked) return;
    const body = text.trim();
    if (!body && files.length === 0) return;
    setBusy(true);
    setError(null);
    try {
      if (editing) {
        await api.patch(`/api/messages/${enc(editing.id)}`, { text: body });
        setEditing(null);
      } else {
        const fileIds = await Promise.all(
          files.map((f) => {
            const ms = voiceNotes.current.get(f);
            return api.upload(f, ms === undefined ? undefined : { durationMs: ms });
          }),
        );
        await api.post(`${path}/messages`, { ...(body ? { text } : {}), ...(replyTo ? { replyTo: replyTo.id } : {}), files: fileIds });
        clearTimeout(stopTyping.current);
        lastTyping.current = 0;
      }
      setText('');
      setFiles([]);
      setReplyTo(null);
      await loadMessages();
    } catch (e) {
      setError(e);
      void loadDetail();
    } finally {
      setBusy(false);
      inputRef.current?.focus();
    }
  };

  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void send();
    }
    if (e.key === 'Escape') {
      setReplyTo(null);
      setEditing(null);
    }
  };

  const accept = async () => {
    try {
      await api.post(`/api/contacts/${enc(conv)}/trust`);
      setError(null);
      await loadDetail();
    } catch (e) {
      setError(e);
    }
  };

  const addFiles = (list: FileList | null) => list && setFiles((cur) => [...cur, ...Array.from(list)]);
  const typingNames = Object.keys(typing);

  return (
    <div
      class={`conversation ${dragging ? 'dragging' : ''}`}
      onDragOver={(e) => (e.preventDefault(), setDragging(true))}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        addFiles(e.dataTransfer?.files ?? null);
      }}
    >
      <header class="pane-head">
        <button class="btn btn-small back back-phone" onClick={p.onBack} aria-label={t('common.back')}>
          ←
        </button>
        <h1 class="pane-title">{detail?.title ?? conv}</h1>
        <label class="sr-only" for="timer">
          {t('conversation.timer')}
        </label>
        <select
          id="timer"
          title={t('conversation.timer')}
          value={String(detail?.expireTimer ?? 0)}
          onChange={(e) =>
            void api
              .post(`${path}/timer`, { seconds: Number((e.target as HTMLSelectElement).value) })
              .then(loadDetail, (err) => setError(err))
          }
        >
          {TIMERS.map((s) => (
            <option key={s} value={String(s)}>
              {t(`timer.${s}`)}
            </option>
          ))}
        </select>
        <button class="btn btn-small" onClick={() => p.onOpen(isGroup ? { kind: 'group', conv } : { kind: 'contact', username: conv, from: conv })}>
          {isGroup ? t('conversation.groupInfo') : t('conversation.contactInfo')}
        </button>
      </header>
      {blocked && (
        <div class="banner banner-danger" role="alert" data-testid="identity-banner">
          <p>{t('identity.banner', { username: conv })}</p>
          <div class="row">
            <button class="btn btn-small" onClick={() => p.onOpen({ kind: 'contact', username: conv, from: conv })}>
              {t('identity.show')}
            </button>
            <button class="btn btn-small btn-primary" onClick={accept}>
              {t('identity.accept')}
            </button>
          </div>
        </div>
      )}
      <div class="messages" ref={listRef} role="log" aria-live="polite" aria-label={t('conversation.messages')}>
        <ol class="msg-list">
        {messages.length === 0 && <li class="event">{t('conversation.empty')}</li>}
        {messages.map((m) => (
          <MessageItem
            key={m.id}
            m={m}
            account={account}
            isGroup={isGroup}
            recipients={recipients}
            authorOf={authorOf}
            onReply={(x) => (setEditing(null), setReplyTo(x), inputRef.current?.focus())}
            onEdit={(x) => (setReplyTo(null), setEditing(x), setText(x.text), inputRef.current?.focus())}
            onError={setError}
          />
        ))}
        </ol>
      </div>
      <p class="typing" aria-live="polite" data-testid="typing">
        {typingNames.length > 0 ? t('conversation.typing', { names: typingNames.join(', '), count: typingNames.length }) : ''}
      </p>
      {error != null && (
        <p class="notice notice-error" role="alert">
          {errorText(error)}
        </p>
      )}
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
            <button type="button" class="btn-icon" aria-label={t('common.cancel')} onClick={() => (setReplyTo(null), setEditing(null), editing && setText(''))}>
              ×
            </button>
          </div>
        )}
        {files.length > 0 && (
          <ul class="chips" aria-label={t('composer.files')}>
            {files.map((f, i) => (
              <li key={i}>
                {f.name} <span class="muted">{formatBytes(f.size)}</span>
                <button type="button" class="btn-icon" aria-label={t('composer.removeFile', { name: f.name })} onClick={() => setFiles(files.filter((_, j) => j !== i))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <div class="row">
          <input ref={fileRef} id="attach" type="file" multiple class="sr-only" disabled={blocked || !!editing} onChange={(e) => (addFiles((e.target as HTMLInputElement).files), ((e.target as HTMLInputElement).value = ''))} />
          <button type="button" class="btn" disabled={blocked || !!editing} onClick={() => fileRef.current?.click()} aria-label={t('composer.attach')} title={t('composer.attach')}>
            <PaperclipIcon />
          </button>
          <VoiceRecorder
            disabled={blocked || !!editing}
            onRecorded={(f, ms) => {
              voiceNotes.current.set(f, ms);
              setFiles((cur) => [...cur, f]);
            }}
          />
          <label class="sr-only" for="composer">
            {t('composer.label')}
          </label>
          <textarea
            id="composer"
            ref={inputRef}
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
    </div>
  );
}

function omit(o: Record<string, number>, key: string | undefined): Record<string, number> {
  if (!key || !(key in o)) return o;
  const { [key]: _, ...rest } = o;
  return rest;
}
