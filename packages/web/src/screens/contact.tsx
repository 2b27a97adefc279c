import { useEffect, useState } from 'preact/hooks';
import { call } from '../api.js';
import { useImageUrl } from '../avatar.js';
import { PaneHead } from '../components/pane-head.js';
import { Qr } from '../components/qr.js';
import { errorText } from '../errors.js';
import { useAppEvent } from '../events.js';
import { t } from '../i18n.js';
import type { Contact } from '@kluis/app/api';

/** 60 digits as 12 groups of 5, the way both sides read them aloud. */
export function groupDigits(digits: string): string[] {
  return digits.match(/.{1,5}/g) ?? [];
}

export function ContactInfo({ username, onBack }: { username: string; onBack: () => void }) {
  const [c, setC] = useState<Contact | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => call('contact', { params: { username } }).then(setC, (e) => setError(e));
  const avatar = useImageUrl(c?.avatar);
  useEffect(() => void load(), []);
  useAppEvent((e) => {
    if ((e.type === 'identity-changed' || e.type === 'identity-accepted') && e.data.username === username) void load();
  });
  const act = (fn: () => Promise<unknown>) => async () => {
    setError(null);
    try {
      await fn();
      await load();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div class="screen">
      <PaneHead title={t('contact.title', { username })} onBack={onBack} />
      <div class="screen-body">
        {error != null && (
          <p class="notice notice-error" role="alert">
            {errorText(error)}
          </p>
        )}
        {c && (
          <>
            {avatar && <img class="avatar avatar-large" src={avatar} alt={t('contact.avatar', { username })} data-testid="contact-avatar" />}
            <dl class="facts">
              <dt>{t('contact.username')}</dt>
              <dd>{c.username}</dd>
              <dt>{t('contact.name')}</dt>
              <dd>{c.name ?? '—'}</dd>
              <dt>{t('contact.status')}</dt>
              <dd data-testid="verified-state">
                {c.identityChanged ? (
                  <span class="badge badge-danger">{t('contact.changed')}</span>
                ) : c.verified ? (
                  <span class="badge badge-ok">{t('contact.verified')}</span>
                ) : (
                  <span class="badge">{t('contact.unverified')}</span>
                )}
              </dd>
            </dl>
            <h2>{t('contact.safetyNumber')}</h2>
            <p class="muted">{t('contact.safetyHint', { username })}</p>
            <div class="safety">
              <p class="digits" data-testid="safety-number" aria-label={t('contact.safetyNumber')}>
                {groupDigits(c.safetyNumber).map((g, i) => (
                  <span key={i}>{g}</span>
                ))}
              </p>
              <Qr text={c.safetyNumber} label={t('contact.qr')} />
            </div>
            {c.identityChanged && (
              <div class="banner banner-danger" role="alert">
                <p>{t('identity.banner', { username })}</p>
                <button class="btn btn-primary" onClick={act(() => call('trust', { params: { username } }))}>
                  {t('identity.accept')}
                </button>
              </div>
            )}
            <div class="actions">
              {!c.identityChanged &&
                (c.verified ? (
                  <button class="btn" onClick={act(() => call('verify', { params: { username }, body: { verified: false } }))}>
                    {t('contact.unmark')}
                  </button>
                ) : (
                  <button class="btn btn-primary" onClick={act(() => call('verify', { params: { username }, body: { verified: true } }))}>
                    {t('contact.mark')}
                  </button>
                ))}
            </div>
          </>
        )}
      </div>
    </div>
  );
}
