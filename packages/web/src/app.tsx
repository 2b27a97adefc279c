import { useEffect, useRef, useState } from 'preact/hooks';
import { call, listen, setPageLocked } from './api.js';
import { dispatch } from './events.js';
import { onLanguage, t } from './i18n.js';
import { Main } from './screens/main.js';
import { Onboarding } from './screens/onboarding.js';
import { Unlock } from './screens/unlock.js';
import { lockAfterMs } from './settings.js';
import type { AppState } from '@kluis/app/api';

export function App() {
  const [, setLang] = useState(0);
  const [state, setState] = useState<AppState | null>(null);
  const [hostUp, setHostUp] = useState(true);
  const [connected, setConnected] = useState<boolean | null>(null);
  // Nobody touches the page during a call: the idle lock waits until it ends.
  const inCall = useRef(false);

  const refresh = () =>
    call('state').then(
      (s) => {
        setPageLocked(s.state === 'locked');
        setState(s);
        setConnected(s.connected);
      },
      () => setHostUp(false),
    );

  // The unlock screen first: nothing on the main screen may ask the host for data it is locking away.
  const lock = () => {
    setPageLocked(true);
    setState((s) => (s ? { ...s, state: 'locked' } : s));
    void call('lock').then(refresh, refresh);
  };

  useEffect(() => onLanguage(() => setLang((n) => n + 1)), []);
  useEffect(() => {
    void refresh();
    return listen(
      (e) => {
        if (e.type === 'state' || e.type === 'hello') void refresh();
        if (e.type === 'connection') setConnected(e.data.state === 'connected');
        dispatch(e);
      },
      (open) => {
        setHostUp(open);
        if (open) void refresh();
      },
    );
  }, []);

  // Lock after a quiet spell: the store closes and the passphrase is needed again.
  useEffect(() => {
    if (state?.state !== 'unlocked') return;
    let last = Date.now();
    const touch = () => (last = Date.now());
    const events = ['pointerdown', 'keydown', 'wheel', 'touchstart'];
    for (const ev of events) window.addEventListener(ev, touch, { passive: true });
    const timer = setInterval(() => {
      const limit = lockAfterMs();
      if (inCall.current) last = Date.now();
      else if (limit > 0 && Date.now() - last > limit) lock();
    }, 5000);
    return () => {
      clearInterval(timer);
      for (const ev of events) window.removeEventListener(ev, touch);
    };
  }, [state?.state]);

  document.title = t('app.name');
  if (!state) return <main class="center">{hostUp ? <p>{t('common.loading')}</p> : <p role="alert">{t('error.HOST_UNREACHABLE')}</p>}</main>;
  return (
    <>
      {!hostUp && (
        <p class="banner banner-danger" role="alert">
          {t('error.HOST_UNREACHABLE')}
        </p>
      )}
      {state.state === 'new' && <Onboarding profile={state.profile} defaultServerUrl={state.defaultServerUrl ?? ''} onDone={refresh} />}
      {state.state === 'locked' && <Unlock profile={state.profile} onDone={refresh} />}
      {state.state === 'unlocked' && state.account && <Main account={state.account} connected={connected ?? false} onLock={lock} onCallChange={(c) => (inCall.current = c)} />}
    </>
  );
}
