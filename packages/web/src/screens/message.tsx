import { useEffect, useState } from 'preact/hooks';
import { attachment, call } from '../api.js';
import { eventText } from '../event-text.js';
import { formatBytes, formatTime, t } from '../i18n.js';
import type { Account, Attachment, Message } from '@kluis/app/api';

export const REACTIONS = ['👍', '❤️', '😂', '😮', '😢'];

/** One line for lists and quotes; system events are described from the catalog, not the SDK's English. */
export function preview(m: Message): string {
  if (m.deleted) return t('message.deleted');
  if (m.kind !== 'text') return eventText(m);
  if (m.text) return m.text;
  if (m.attachments?.length) return t('message.attachments', { count: m.attachments.length });
  return '';
}

function statusText(m: Message, others: number): string {
  if (m.status === 'failed') return t('message.failed');
  if (m.status === 'sending') return t('message.sending');
  const read = m.receipts?.read.length ?? 0;
  const delivered = m.receipts?.delivered.length ?? 0;
  if (others > 0 && read >= others) return t('message.read');
  if (delivered > 0 || read > 0) return t('message.delivered');
  return t('message.sent');
}

export function MessageItem(p: {
  m: Message;
  account: Account;
  isGroup: boolean;
  recipients: number;
  authorOf: (accountId: string) => string;
  onReply: (m: Message) => void;
  onEdit: (m: Message) => void;
  onError: (e: unknown) => void;
}) {
  const { m, account } = p;
  const mine = m.direction === 'outgoing' || m.from.accountId === account.accountId;
  const [menu, setMenu] = useState(false);
  const recent = Date.now() - m.timestamp < 24 * 3600 * 1000;
  const run = (fn: () => Promise<unknown>) => () => {
    setMenu(false);
    fn().catch((e) => p.onError(e));
  };

  if (m.kind !== 'text') {
    return (
      <li class="event" data-testid="event">
        {preview(m)}
      </li>
    );
  }
  const ownReaction = m.reactions?.find((r) => r.accountId === account.accountId)?.emoji;
  const grouped = new Map<string, string[]>();
  for (const r of m.reactions ?? []) grouped.set(r.emoji, [...(grouped.get(r.emoji) ?? []), r.username ?? r.accountId]);

  return (
    <li class={`msg ${mine ? 'mine' : 'theirs'}`} data-testid="message" data-id={m.id}>
      <div class="bubble">
        {p.isGroup && !mine && <div class="author">{m.from.username}</div>}
        {m.quote && (
          <blockquote class="quote" data-testid="quote">
            <span class="author">{p.authorOf(m.quote.authorAccountId)}</span>
            {m.quote.text}
          </blockquote>
        )}
        {m.deleted ? (
          <p class="text muted">{t('message.deleted')}</p>
        ) : (
          <>
            {m.text && <p class="text">{m.text}</p>}
            {m.attachments?.map((a) => <AttachmentView key={a.index} m={m} a={a} onError={p.onError} />)}
          </>
        )}
        {grouped.size > 0 && (
          <ul class="reactions" aria-label={t('message.reactions')}>
            {[...grouped].map(([emoji, who]) => (
              <li key={emoji} title={who.join(', ')}>
                {emoji} {who.length > 1 ? who.length : ''}
              </li>
            ))}
          </ul>
        )}
        <div class="meta">
          <time dateTime={new Date(m.timestamp).toISOString()}>{formatTime(m.timestamp)}</time>
          {m.editedAt && !m.deleted && <span> · {t('message.edited')}</span>}
          {m.expireTimer ? <span title={t('message.disappearing')}> · ⏱</span> : null}
          {mine && (
            <span class="status" data-testid="status">
              {' '}
              · {statusText(m, p.recipients)}
            </span>
          )}
        </div>
      </div>
      {!m.deleted && (
        <div class="msg-actions">
          <button class="btn-icon" aria-label={t('message.actions')} aria-expanded={menu} onClick={() => setMenu(!menu)}>
            ⋯
          </button>
          {menu && (
            <div class="menu" role="group" aria-label={t('message.actions')}>
              <button class="btn btn-small" onClick={() => (setMenu(false), p.onReply(m))}>
                {t('message.reply')}
              </button>
              {REACTIONS.map((emoji) => (
                <button
                  key={emoji}
                  class={`btn btn-small ${ownReaction === emoji ? 'on' : ''}`}
                  aria-label={t('message.react', { emoji })}
                  aria-pressed={ownReaction === emoji}
                  onClick={run(() => call('react', { params: { id: m.id }, body: { emoji, remove: ownReaction === emoji } }))}
                >
                  {emoji}
                </button>
              ))}
              {mine && recent && m.text && (
                <button class="btn btn-small" onClick={() => (setMenu(false), p.onEdit(m))}>
                  {t('message.edit')}
                </button>
              )}
              {mine && recent && (
                <button class="btn btn-small btn-danger" onClick={run(() => call('deleteMessage', { params: { id: m.id } }))}>
                  {t('message.deleteEveryone')}
                </button>
              )}
              <button class="btn btn-small" onClick={run(() => call('deleteMessage', { params: { id: m.id }, query: { for: 'me' } }))}>
                {t('message.deleteMe')}
              </button>
            </div>
          )}
        </div>
      )}
    </li>
  );
}

/** Images are fetched from the host (decrypted there) and shown from a blob: URL; other files only on request. */
function AttachmentView({ m, a, onError }: { m: Message; a: Attachment; onError: (e: unknown) => void }) {
  const [url, setUrl] = useState<string>();
  const which = { id: m.id, index: String(a.index) };
  const isImage = /^image\/(png|jpeg|gif|webp)$/.test(a.contentType);
  const isAudio = a.contentType.startsWith('audio/');
  const name = a.fileName ?? t('message.file');

  useEffect(() => {
    if (!(isImage || isAudio) || !a.available) return;
    let revoked = false;
    let made: string | undefined;
    attachment(which).then(
      (b) => {
        if (revoked) return;
        made = URL.createObjectURL(b);
        setUrl(made);
      },
      () => {},
    );
    return () => {
      revoked = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [m.id, a.index, a.available]);

  const download = async () => {
    try {
      const b = await attachment(which);
      const href = URL.createObjectURL(b);
      const link = document.createElement('a');
      link.href = href;
      link.download = name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(href), 10_000);
    } catch (e) {
      onError(e);
    }
  };

  return (
    <div class="attachment" data-testid="attachment">
      {isImage && url && <img src={url} alt={name} width={a.width} height={a.height} class="preview" data-testid="image-preview" />}
      {isImage && !url && a.state === 'pending' && <div class="preview-placeholder">{t('message.loadingImage')}</div>}
      {isAudio && url && (
        <audio controls src={url} preload="metadata" aria-label={a.voiceNote ? t('message.voiceNote') : name} data-testid="audio" />
      )}
      <div class="file-row">
        <span class="file-name">{name}</span>
        <span class="muted"> · {formatBytes(a.size)}</span>
        {a.state === 'failed' || (m.direction === 'outgoing' && !a.available) ? (
          <span class="badge badge-danger">{t('message.attachmentFailed')}</span>
        ) : (
          <button class="btn btn-small" onClick={download} aria-label={t('message.downloadNamed', { name })}>
            {t('message.download')}
          </button>
        )}
      </div>
    </div>
  );
}
