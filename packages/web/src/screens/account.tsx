import { useEffect, useState } from 'preact/hooks';
import { call } from '../api.js';
import { avatarFromFile, useImageUrl } from '../avatar.js';
import { applyBrand } from '../brand.js';
import { Field } from '../components/field.js';
import { LanguageSelect } from '../components/language-select.js';
import { PaneHead } from '../components/pane-head.js';
import { errorText } from '../errors.js';
import { formatDate, t } from '../i18n.js';
import { LOCK_CHOICES, lockAfterMinutes, notifyMode, relayAllCalls, setLockAfterMinutes, setNotifyMode, setRelayAllCalls, type NotifyMode } from '../settings.js';
import type { AccountInfo } from '@kluis/app/api';
import { InviteCard } from './invite-card.js';

const DAY = 24 * 3600 * 1000;

export function AccountScreen({ onBack }: { onBack: () => void }) {
  const [info, setInfo] = useState<AccountInfo | null>(null);
  const [name, setName] = useState('');
  // A picked picture not saved yet: undefined keeps the saved one, null removes it.
  const [avatar, setAvatar] = useState<{ type: string; data: string } | null | undefined>(undefined);
  // Drawing a large picture smaller takes a moment; saving before it is ready would drop it.
  const [preparing, setPreparing] = useState(false);
  const shownAvatar = useImageUrl(avatar === undefined ? info?.avatar : avatar && `data:${avatar.type};base64,${avatar.data}`);
  const [code, setCode] = useState('');
  // Kept untranslated, so a language switch re-renders it in the new language.
  const [notice, setNotice] = useState<{ kind: 'ok'; key: string } | { kind: 'error'; error: unknown } | null>(null);
  const [lockMin, setLockMin] = useState(lockAfterMinutes());
  const [notify, setNotify] = useState<NotifyMode>(notifyMode());
  const [relayAll, setRelayAll] = useState(relayAllCalls());
  const load = () =>
    call('account').then((a) => {
      setInfo(a);
      setName(a.name);
      setAvatar(undefined);
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
  // Calendar days to the last paid day (the server keeps paid-until to the end of its UTC day).
  const daysLeft = sub?.paidUntil ? Math.floor(sub.paidUntil / DAY) - Math.floor(Date.now() / DAY) : undefined;

  const pickAvatar = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    setPreparing(true);
    setNotice(null);
    try {
      setAvatar(await avatarFromFile(file));
    } catch (err) {
      setNotice({ kind: 'error', error: err });
    } finally {
      setPreparing(false);
    }
  };
  const saveProfile = () => call('setProfile', { body: avatar === undefined ? { name } : { name, avatar: avatar && avatar.data } });

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
            <form class="card" onSubmit={act(saveProfile, 'account.profileSaved')}>
              <h2>{t('account.profile')}</h2>
              <Field label={t('account.profileName')} value={name} onInput={setName} hint={t('account.profileHint')} />
              <div class="field avatar-field">
                <span class="label">{t('account.avatar')}</span>
                {shownAvatar ? (
                  <img class="avatar avatar-large" src={shownAvatar} alt={t('account.avatarAlt')} data-testid="own-avatar" />
                ) : (
                  <p class="muted">{t('account.avatarNone')}</p>
                )}
                <div class="actions">
                  <input id="avatar-file" class="sr-only" type="file" accept="image/*" onChange={(e) => void pickAvatar(e)} />
                  <label for="avatar-file" class="btn">
                    {t('account.avatarChoose')}
                  </label>
                  {shownAvatar && (
                    <button class="btn" type="button" onClick={() => setAvatar(null)}>
                      {t('account.avatarRemove')}
                    </button>
                  )}
                </div>
                <small>{t('account.avatarHint')}</small>
              </div>
              <button class="btn" type="submit" disabled={preparing}>
                {t('common.save')}
              </button>
            </form>
            <form class="card" onSubmit={act(async () => (await call('renew', { body: { code } }), setCode('')), 'account.renewed')}>
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
            {sub && <InviteCard invites={sub.memberInvites} />}
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
          <div class="field field-check">
            <label>
              <input
                type="checkbox"
                checked={relayAll}
                onChange={(e) => {
                  const on = (e.target as HTMLInputElement).checked;
                  setRelayAllCalls(on);
                  setRelayAll(on);
                }}
              />{' '}
              {t('account.relayCalls')}
            </label>
            <p class="muted small">{t('account.relayCallsHelp')}</p>
          </div>
        </section>
      </div>
    </div>
  );
}
