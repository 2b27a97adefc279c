import { useEffect, useState } from 'preact/hooks';
import { call } from '../api.js';
import { PaneHead } from '../components/pane-head.js';
import { Qr } from '../components/qr.js';
import { errorText } from '../errors.js';
import { useAppEvent } from '../events.js';
import { formatDate, t } from '../i18n.js';
import type { Account, Device, LinkCode } from '@kluis/app/api';

interface LinkState extends LinkCode {
  verification?: string;
  done?: number;
  failed?: boolean;
}

export function DevicesScreen({ account, onBack }: { account: Account; onBack: () => void }) {
  const [devices, setDevices] = useState<Device[]>([]);
  const [link, setLink] = useState<LinkState | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => call('devices').then(setDevices, (e) => setError(e));
  useEffect(() => void load(), []);
  useAppEvent((e) => {
    if (!link || !(e.type === 'link-request' || e.type === 'link-done' || e.type === 'link-failed') || e.data.code !== link.code) return;
    if (e.type === 'link-request') setLink({ ...link, verification: e.data.verification });
    if (e.type === 'link-done') {
      setLink({ ...link, done: e.data.deviceId });
      void load();
    }
    if (e.type === 'link-failed') setLink({ ...link, failed: true });
  });
  const act = (fn: () => Promise<unknown>) => async () => {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    }
  };
  const primary = account.deviceId === 1;

  return (
    <div class="screen">
      <PaneHead title={t('devices.title')} onBack={onBack} />
      <div class="screen-body">
        {error != null && (
          <p class="notice notice-error" role="alert">
            {errorText(error)}
          </p>
        )}
        <ul class="list" data-testid="devices">
          {devices.map((d) => (
            <li key={d.deviceId} class="list-row">
              <span>
                <strong>{d.name || t('devices.unnamed', { id: d.deviceId })}</strong>
                <span class="muted">
                  {' '}
                  · {t('devices.id', { id: d.deviceId })} · {t('devices.created', { date: formatDate(d.createdAt) })}
                  {d.lastSeenDay !== undefined && <> · {t('devices.lastSeen', { date: formatDate(d.lastSeenDay) })}</>}
                </span>
              </span>
              {d.current ? (
                <span class="badge badge-info">{t('devices.this')}</span>
              ) : (
                (primary || d.current) && (
                  <button class="btn btn-small btn-danger" onClick={act(async () => (await call('removeDevice', { params: { id: String(d.deviceId) } }), await load()))}>
                    {t('devices.remove')}
                  </button>
                )
              )}
            </li>
          ))}
        </ul>
        {primary && (
          <section class="card">
            <h2>{t('devices.linkTitle')}</h2>
            {!link && (
              <>
                <p class="muted">{t('devices.linkIntro')}</p>
                <button class="btn btn-primary" onClick={act(async () => setLink(await call('startLink')))}>
                  {t('devices.link')}
                </button>
              </>
            )}
            {link && !link.done && !link.failed && (
              <div class="safety">
                <div>
                  <p>{t('devices.linkCode')}</p>
                  <p class="digits" data-testid="link-code">
                    {link.code}
                  </p>
                  <p class="muted">{t('devices.linkWaiting', { server: account.serverUrl })}</p>
                  {link.verification && (
                    <div class="banner" role="alert">
                      <p>
                        {t('devices.compare')} <strong data-testid="link-verification">{link.verification}</strong>
                      </p>
                      <div class="row">
                        <button class="btn btn-primary" onClick={act(() => call('answerLink', { body: { code: link.code, approve: true } }))}>
                          {t('devices.approve')}
                        </button>
                        <button class="btn btn-danger" onClick={act(async () => (await call('answerLink', { body: { code: link.code, approve: false } }), setLink(null)))}>
                          {t('devices.reject')}
                        </button>
                      </div>
                    </div>
                  )}
                </div>
                <Qr text={link.code} label={t('devices.linkQr')} />
              </div>
            )}
            {link?.done && <p class="notice notice-ok">{t('devices.linked', { id: link.done })}</p>}
            {link?.failed && <p class="notice notice-error">{t('devices.linkFailed')}</p>}
          </section>
        )}
      </div>
    </div>
  );
}
