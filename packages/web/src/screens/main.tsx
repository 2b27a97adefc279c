import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { call } from '../api.js';
import { CallEngine } from '../calls/call-engine.js';
import type { CallMedia } from '../calls/call-types.js';
import { Ringer } from '../calls/ringer.js';
import { useCallView } from '../calls/use-call.js';
import { applyBrand } from '../brand.js';
import { useAppEvent } from '../events.js';
import { t } from '../i18n.js';
import { notifyMode, relayAllCalls } from '../settings.js';
import type { Account, Conversation, Message } from '@kluis/app/api';
import { AccountScreen } from './account.js';
import { CallScreen } from './call-screen.js';
import { ContactInfo } from './contact.js';
import { ConversationView } from './conversation.js';
import { ConversationList } from './conversation-list.js';
import { DevicesScreen } from './devices.js';
import { GroupInfo } from './group-info.js';
import { NewGroup } from './new-group.js';

export type View =
  | { kind: 'none' }
  | { kind: 'chat'; conv: string }
  | { kind: 'contact'; username: string; from?: string }
  | { kind: 'group'; conv: string }
  | { kind: 'new-group' }
  | { kind: 'devices' }
  | { kind: 'account' };

const REFRESHING = new Set(['message', 'message-updated', 'message-removed', 'group-updated', 'identity-changed', 'identity-accepted']);

export function Main({ account, connected, onLock, onCallChange }: { account: Account; connected: boolean; onLock: () => void; onCallChange: (inCall: boolean) => void }) {
  const [view, setView] = useState<View>({ kind: 'none' });
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const pending = useRef<number | undefined>(undefined);

  const [brandName, setBrandName] = useState('');
  const [expiring, setExpiring] = useState<{ daysLeft: number } | null>(null);
  const reload = () => call('conversations').then(setConversations, () => {});
  const engine = useMemo(() => new CallEngine(callDeps()), []);
  const callView = useCallView(engine);
  useEffect(() => engine.subscribe((v) => onCallChange(v.phase !== 'idle' && v.phase !== 'ended')), [engine]);
  useEffect(() => () => engine.dispose(), [engine]);
  useEffect(() => {
    void reload();
    call('account').then((a) => {
      applyBrand(a.subscription);
      setBrandName(a.subscription?.brand.name ?? '');
    }, () => {});
    return () => clearTimeout(pending.current);
  }, []);
  useAppEvent((e) => {
    if (e.type === 'subscription-expiring') setExpiring({ daysLeft: e.data.daysLeft });
    if (e.type === 'call-signal') void engine.onSignal(e.data).catch(() => {});
    if (!REFRESHING.has(e.type)) return;
    // Bursts (a backlog on connect) become one reload.
    clearTimeout(pending.current);
    pending.current = window.setTimeout(reload, 150);
    if (e.type === 'message') notify(e.data, account.username);
  });

  const open = (v: View) => setView(v);
  const hasPane = view.kind !== 'none';

  return (
    <div class={`layout ${hasPane ? 'has-pane' : ''}`}>
      <aside class="sidebar" aria-label={t('nav.sidebar')}>
        <header class="side-head">
          <div class="me">
            <strong>{brandName || t('app.name')}</strong>
            <span class="muted" data-testid="me">
              {account.username}
            </span>
            <span class={`dot ${connected ? 'dot-on' : 'dot-off'}`} role="status" aria-label={connected ? t('status.online') : t('status.offline')} title={connected ? t('status.online') : t('status.offline')} />
          </div>
          <nav class="side-nav" aria-label={t('nav.main')}>
            <button class="btn btn-small" onClick={() => open({ kind: 'new-group' })}>
              {t('nav.newGroup')}
            </button>
            <button class="btn btn-small" onClick={() => open({ kind: 'devices' })}>
              {t('nav.devices')}
            </button>
            <button class="btn btn-small" onClick={() => open({ kind: 'account' })}>
              {t('nav.account')}
            </button>
            <button class="btn btn-small" onClick={() => (engine.dispose(), onLock())}>
              {t('nav.lock')}
            </button>
          </nav>
        </header>
        {expiring && (
          <div class="banner" role="alert">
            <p>{expiring.daysLeft > 0 ? t('account.expiring', { count: expiring.daysLeft }) : t('account.expired')}</p>
            <button class="btn btn-small" onClick={() => open({ kind: 'account' })}>
              {t('nav.account')}
            </button>
          </div>
        )}
        <ConversationList conversations={conversations} active={view.kind === 'chat' ? view.conv : undefined} onOpen={(conv) => open({ kind: 'chat', conv })} />
      </aside>
      <section class="pane" aria-label={t('nav.pane')}>
        {view.kind === 'none' && (
          <div class="center muted">
            <p>{t('main.empty')}</p>
          </div>
        )}
        {view.kind === 'chat' && (
          <ConversationView
            key={view.conv}
            conv={view.conv}
            account={account}
            onBack={() => open({ kind: 'none' })}
            onRead={reload}
            onOpen={open}
            onCall={(media: CallMedia, title: string) => void engine.start(view.conv, title, view.conv.startsWith('g:'), media)}
            ongoingCall={callView.phase === 'idle' || callView.phase === 'ended' ? callView.ongoing[view.conv] : undefined}
            onJoinCall={(title: string) => void engine.join(view.conv, title)}
          />
        )}
        {view.kind === 'contact' && <ContactInfo key={view.username} username={view.username} onBack={() => open(view.from ? { kind: 'chat', conv: view.from } : { kind: 'none' })} />}
        {view.kind === 'group' && <GroupInfo key={view.conv} conv={view.conv} account={account} onBack={() => open({ kind: 'chat', conv: view.conv })} onLeft={() => open({ kind: 'none' })} />}
        {view.kind === 'new-group' && <NewGroup onBack={() => open({ kind: 'none' })} onCreated={(conv) => (reload(), open({ kind: 'chat', conv }))} />}
        {view.kind === 'devices' && <DevicesScreen account={account} onBack={() => open({ kind: 'none' })} />}
        {view.kind === 'account' && <AccountScreen onBack={() => open({ kind: 'none' })} />}
      </section>
      <CallScreen engine={engine} titleOf={(conv) => conversations.find((c) => c.id === conv)?.title ?? conv} />
    </div>
  );
}

/** The call engine's view of the page: the host's routes, the settings, the ring and notifications. */
function callDeps(): ConstructorParameters<typeof CallEngine>[0] {
  return {
    send: (conv, signal) => call('callSignal', { params: { conv }, body: signal }).then(() => {}),
    relayConfig: () => call('callConfig').then((c) => c.relay),
    dismiss: (id) => call('dismissCall', { params: { id } }).then(() => {}),
    relayAll: relayAllCalls,
    ringer: new Ringer(),
    notify: notifyCall,
    getUserMedia: (c) => navigator.mediaDevices.getUserMedia(c),
    getDisplayMedia: () => navigator.mediaDevices.getDisplayMedia({ video: true }),
  };
}

/** An incoming call while the tab is hidden: who calls only if the user chose to see message text. */
function notifyCall(caller: string, media: CallMedia, group: boolean): (() => void) | undefined {
  const mode = notifyMode();
  if (mode === 'off' || !document.hidden || typeof Notification === 'undefined' || Notification.permission !== 'granted') return undefined;
  const body = mode === 'full' ? t(media === 'video' ? 'notify.callVideo' : 'notify.callVoice') : t('notify.callHidden');
  const n = new Notification(t(group ? 'notify.callGroup' : 'notify.callFrom', { from: caller }), { body, tag: 'kluis-call', requireInteraction: true });
  n.onclick = () => (window.focus(), n.close());
  return () => n.close();
}

/** Desktop notifications only when allowed and the tab is hidden; the text only if the user chose so. */
function notify(m: Message, me: string): void {
  const mode = notifyMode();
  if (mode === 'off' || m.direction !== 'incoming' || m.kind !== 'text' || !document.hidden) return;
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || m.from.username === me) return;
  new Notification(t('notify.title', { from: m.from.username }), { body: mode === 'full' ? m.text : t('notify.hidden'), tag: m.conversation });
}
