import { useEffect, useRef, useState } from 'preact/hooks';
import { isGroupConversation } from '@kluis/protocol/conversation-ids';
import { call } from '../api.js';
import { errorText } from '../errors.js';
import { useAppEvent } from '../events.js';
import { formatDuration, t } from '../i18n.js';
import type { Account, ConversationDetail, Message } from '@kluis/app/api';
import type { View } from './main.js';
import type { CallMedia } from '../calls/call-types.js';
import { PhoneIcon, VideoIcon } from '../components/icons.js';
import { Composer } from './composer.js';
import { MessageItem } from './message.js';

const TIMERS = [0, 30, 300, 3600, 86400, 604800];
const timerChoice = (seconds: number) => (seconds === 0 ? t('timer.off') : t('timer.after', { duration: formatDuration(seconds) }));
const TYPING_SHOWN_MS = 6000;

export function ConversationView(p: {
  conv: string;
  account: Account;
  onBack: () => void;
  onRead: () => void;
  onOpen: (v: View) => void;
  onCall: (media: CallMedia, title: string) => void;
  /** A group call going on here that this device is not in. */
  ongoingCall?: { media: CallMedia };
  onJoinCall: (title: string) => void;
}) {
  const { conv, account } = p;
  const [detail, setDetail] = useState<ConversationDetail | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [files, setFiles] = useState<File[]>([]);
  const voiceMs = useRef(new WeakMap<File, number>());
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [editing, setEditing] = useState<Message | null>(null);
  const [typing, setTyping] = useState<Record<string, number>>({});
  const [error, setError] = useState<unknown>(null);
  const [dragging, setDragging] = useState(false);
  const listRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const reloadTimer = useRef<number | undefined>(undefined);
  const loadDetail = () => call('conversation', { params: { conv } }).then(setDetail, (e) => setError(e));
  const loadMessages = () =>
    call('messages', { params: { conv } }).then((list) => {
      setMessages(list);
      // Only when something is unread: marking read updates messages, which would reload this list again.
      if (document.visibilityState === 'visible' && list.some((m) => m.direction === 'incoming' && m.kind === 'text' && !m.readAt)) {
        void call('markRead', { params: { conv } }).then(p.onRead, () => {});
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
    if ((e.type === 'message' || e.type === 'message-updated' || e.type === 'message-removed') && e.data.conversation === conv) {
      if (e.type === 'message') setTyping((cur) => omit(cur, e.data.from.username));
      clearTimeout(reloadTimer.current);
      reloadTimer.current = window.setTimeout(loadMessages, 80);
    }
    if (e.type === 'typing' && e.data.conversation === conv && e.data.username !== account.username) {
      const d = e.data;
      setTyping((cur) => (d.started ? { ...cur, [d.username]: Date.now() } : omit(cur, d.username)));
    }
    if (e.type === 'group-updated' && e.data.conversation === conv) void loadDetail();
    if ((e.type === 'identity-changed' || e.type === 'identity-accepted') && e.data.username === conv) void loadDetail();
  });

  const blocked = detail?.identityChanged === true;
  const isGroup = isGroupConversation(conv);
  const recipients = isGroup ? Math.max(0, (detail?.group?.members.length ?? 1) - 1) : 1;
  const authorOf = (accountId: string) =>
    accountId === account.accountId ? t('message.you') : (messages.find((m) => m.from.accountId === accountId)?.from.username ?? detail?.group?.members.find((x) => x.accountId === accountId)?.username ?? '');

  const accept = async () => {
    try {
      await call('trust', { params: { username: conv } });
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
            void call('setTimer', { params: { conv }, body: { seconds: Number((e.target as HTMLSelectElement).value) } }).then(loadDetail, (err) => setError(err))
          }
        >
          {TIMERS.map((s) => (
            <option key={s} value={String(s)}>
              {timerChoice(s)}
            </option>
          ))}
        </select>
        <div class="call-start" role="group" aria-label={t('call.start')}>
          {p.ongoingCall && (
            <button class="btn btn-small call-join" onClick={() => p.onJoinCall(detail?.title ?? conv)}>
              {p.ongoingCall.media === 'video' ? <VideoIcon /> : <PhoneIcon />} {t('call.join')}
            </button>
          )}
          <button class="btn btn-small btn-icon" aria-label={t('call.voice')} title={t('call.voice')} disabled={blocked || !detail} onClick={() => p.onCall('audio', detail?.title ?? conv)}>
            <PhoneIcon />
          </button>
          <button class="btn btn-small btn-icon" aria-label={t('call.video')} title={t('call.video')} disabled={blocked || !detail} onClick={() => p.onCall('video', detail?.title ?? conv)}>
            <VideoIcon />
          </button>
        </div>
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
            onEdit={(x) => (setReplyTo(null), setEditing(x), inputRef.current?.focus())}
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
      <Composer
        conv={conv}
        isGroupReady={!isGroup || detail !== null}
        blocked={blocked}
        replyTo={replyTo}
        editing={editing}
        outbox={{ files, voiceMs: voiceMs.current }}
        setFiles={setFiles}
        inputRef={inputRef}
        onCancelContext={() => (setReplyTo(null), setEditing(null))}
        onSent={async () => {
          await loadMessages();
        }}
        onError={(e) => {
          setError(e);
          if (e !== null) void loadDetail();
        }}
      />
    </div>
  );
}

function omit(o: Record<string, number>, key: string | undefined): Record<string, number> {
  if (!key || !(key in o)) return o;
  const { [key]: _, ...rest } = o;
  return rest;
}
