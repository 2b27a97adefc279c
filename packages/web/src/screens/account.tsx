import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { applyBrand } from '../brand.js';
import { Field } from '../components/field.js';
import { LanguageSelect } from '../components/language-select.js';
import { PaneHead } from '../components/pane-head.js';
import { errorText } from '../errors.js';
import { formatDate, t } from '../i18n.js';
import { LOCK_CHOICES, lockAfterMinutes, notifyMode, setLockAfterMinutes, setNotifyMode, type NotifyMode } from '../settings.js';
import type { AccountInfo } from '../types.js';

const DAY = 24 * 3600 * 1000;

export function AccountScreen({ onBack }: { onBack: () => void }) {
  const [info, setInfo] = useState<AccountInfo | null>(null);
  const [name, setName] = useState('');
  const [code, setCode] = useState('');
  // Kept untranslated, so a language switch re-renders it in the new language.
  const [notice, setNotice] = useState<{ kind: 'ok'; key: string } | { kind: 'error'; error: unknown } | null>(null);
  const [lockMin, setLockMin] = useState(lockAfterMinutes());
  const [notify, setNotify] = useState<NotifyMode>(notifyMode());
  const load = () =>
    api.get<AccountInfo>('/api/account').then((a) => {
      setInfo(a);
      setName(a.name);
    }, (e) => setNotice({ kind: 'error', error: e }));
  useEffect(() => void load(), []);
  useEffect(() => applyBrand(info?.subscription), [info]);

  const act = (fn: () => Promise<unknown>, ok: string) => async (e: Event) => {
    e.preventDefault();
    try {
      await fn();
      setNotice({ kind: 'ok', key: ok });
      await load();
    } catch (err) {
      setNotice({ kind: 'error', error: err });
    }
  };
  const sub = info?.subscription;
  const daysLeft = sub?.paidUntil ? Math.ceil((sub.paidUntil - Date.now()) / DAY) : undefined;

  const chooseNotify = async (m: NotifyMode) => {
    if (m !== 'off' && typeof Notification !== 'undefined' && Notification.permission === 'default') await Notification.requestPermission();
    setNotifyMode(m);
    setNotify(m);
  };

  return (
    <div class="screen">
      <PaneHead title={t('account.title')} onBack={onBack} />
      <div class="screen-body">
        {notice && (
          <p class={`notice notice-${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
            {notice.kind === 'ok' ? t(notice.key) : errorText(notice.error)}
          </p>
        )}
        {info && (
          <>
            <dl class="facts">
              <dt>{t('account.username')}</dt>
              <dd>{info.username}</dd>
              <dt>{t('account.server')}</dt>
              <dd>{info.serverUrl}</dd>
              <dt>{t('account.device')}</dt>
              <dd>{info.deviceId}</dd>
            </dl>
            <form class="card" onSubmit={act(() => api.post('/api/account/profile', { name }), 'account.profileSaved')}>
              <h2>{t('account.profile')}</h2>
              <Field label={t('account.profileName')} value={name} onInput={setName} hint={t('account.profileHint')} />
              <button class="btn" type="submit">
                {t('common.save')}
              </button>
            </form>
            <form class="card" onSubmit={act(async () => (await api.post('/api/account/renew', { code }), setCode('')), 'account.renewed')}>
              <h2>{t('account.subscription')}</h2>
              {sub ? (
                <dl class="facts" data-testid="subscription">
                  <dt>{t('account.brand')}</dt>
                  <dd>{sub.brand.name}</dd>
                  <dt>{t('account.state')}</dt>
                  <dd>{t(`account.state.${sub.state}`)}</dd>
                  <dt>{t('account.paidUntil')}</dt>
                  <dd>{sub.paidUntil ? formatDate(sub.paidUntil) : t('account.noEnd')}</dd>
                </dl>
              ) : (
                <p class="muted">{t('account.noSubscription')}</p>
              )}
              {daysLeft !== undefined && daysLeft <= 14 && (
                <p class="notice notice-warn" role="alert">
                  {daysLeft > 0 ? t('account.expiring', { count: daysLeft }) : t('account.expired')}
                </p>
              )}
              <Field label={t('account.renewCode')} value={code} onInput={setCode} />
              <button class="btn" type="submit" disabled={!code.trim()}>
                {t('account.renew')}
              </button>
            </form>
          </>
        )}
        <section class="card">
          <h2>{t('account.preferences')}</h2>
          <div class="field">
            <LanguageSelect id="account-language" />
          </div>
          <div class="field">
            <label for="lock-after">{t('account.lockAfter')}</label>
            <select
              id="lock-after"
              value={String(lockMin)}
              onChange={(e) => {
                const v = Number((e.target as HTMLSelectElement).value);
                setLockAfterMinutes(v);
                setLockMin(v);
              }}
            >
              {LOCK_CHOICES.map((m) => (
                <option key={m} value={String(m)}>
                  {m === 0 ? t('account.lockNever') : t('account.lockMinutes', { count: m })}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="notify">{t('account.notifications')}</label>
            <select id="notify" value={notify} onChange={(e) => void chooseNotify((e.target as HTMLSelectElement).value as NotifyMode)}>
              <option value="off">{t('account.notifyOff')}</option>
              <option value="hidden">{t('account.notifyHidden')}</option>
              <option value="full">{t('account.notifyFull')}</option>
            </select>
          </div>
        </section>
      </div>
    </div>
  );
}
