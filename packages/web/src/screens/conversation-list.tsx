import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { GroupIcon } from '../components/icons.js';
import { errorText } from '../errors.js';
import { formatTime, t } from '../i18n.js';
import type { Conversation, Message } from '@kluis/app/api';
import { preview } from './message.js';

export function ConversationList({ conversations, active, onOpen }: { conversations: Conversation[]; active?: string; onOpen: (conv: string) => void }) {
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<Message[] | null>(null);
  const [newChat, setNewChat] = useState('');
  const [error, setError] = useState<unknown>(null);

  const q = query.trim().toLowerCase();
  const shown = q ? conversations.filter((c) => c.title.toLowerCase().includes(q) || (c.last?.text ?? '').toLowerCase().includes(q)) : conversations;

  const search = async (e: Event) => {
    e.preventDefault();
    setHits(q ? await call('search', { query: { q: query.trim() } }).catch(() => []) : null);
  };
  const start = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await call('startChat', { body: { username: newChat.trim() } });
      setNewChat('');
      onOpen(r.conversation);
    } catch (err) {
      setError(err);
    }
  };
  const titleOf = (conv: string) => conversations.find((c) => c.id === conv)?.title ?? conv;

  return (
    <div class="conv-list">
      <form class="inline-form" onSubmit={start}>
        <label for="new-chat">{t('list.newChat')}</label>
        <div class="row">
          <input id="new-chat" value={newChat} placeholder={t('list.newChatPlaceholder')} onInput={(e) => setNewChat((e.target as HTMLInputElement).value)} autocomplete="off" />
          <button class="btn btn-small" type="submit">
            {t('list.start')}
          </button>
        </div>
        {error != null && (
          <p class="notice notice-error" role="alert">
            {errorText(error)}
          </p>
        )}
      </form>
      <form class="inline-form" role="search" onSubmit={search}>
        <label for="search">{t('list.search')}</label>
        <input
          id="search"
          type="search"
          value={query}
          onInput={(e) => {
            setQuery((e.target as HTMLInputElement).value);
            setHits(null);
          }}
        />
      </form>
      {hits && (
        <ul class="hits" aria-label={t('list.searchResults')}>
          {hits.length === 0 && <li class="muted">{t('list.noHits')}</li>}
          {hits.map((m) => (
            <li key={m.id}>
              <button class="conv" onClick={() => onOpen(m.conversation)}>
                <span class="conv-title">{titleOf(m.conversation)}</span>
                <span class="conv-last">{m.text}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <ul class="convs" aria-label={t('list.conversations')} data-testid="conversations">
        {shown.length === 0 && <li class="muted empty">{t('list.empty')}</li>}
        {shown.map((c) => (
          <li key={c.id}>
            <button class={`conv ${c.id === active ? 'active' : ''}`} aria-current={c.id === active ? 'true' : undefined} onClick={() => onOpen(c.id)}>
              <span class="conv-title">
                {c.kind === 'group' && <GroupIcon />}
                {c.title}
                {c.identityChanged && (
                  <span class="badge badge-danger" title={t('list.identityChanged')}>
                    !
                  </span>
                )}
              </span>
              {c.last && <span class="conv-time">{formatTime(c.last.timestamp)}</span>}
              <span class="conv-last">{c.last ? preview(c.last) : ''}</span>
              {c.unread > 0 && (
                <span class="unread" data-testid="unread" aria-label={t('list.unread', { count: c.unread })}>
                  {c.unread}
                </span>
              )}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
