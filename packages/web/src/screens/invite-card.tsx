import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { errorText } from '../errors.js';
import { t } from '../i18n.js';
import type { Subscription } from '@kluis/app/api';

/**
 * Member invites: a code for someone new, within the brand's quota. The code is shown only
 * here and now (the server keeps a hash), so it is selectable and can be copied.
 */
export function InviteCard({ invites }: { invites: Subscription['memberInvites'] }) {
  const [created, setCreated] = useState<{ code: string; remaining: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [copied, setCopied] = useState(false);
  // The server's answer is newer than the account info, which is not reloaded (that would
  // drop an unsaved profile name on the same screen).
  const left = created?.remaining ?? Math.max(0, invites.quota - invites.used);

  const create = async () => {
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      setCreated(await call('createInvite'));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const copy = async (code: string) => {
    try {
      await navigator.clipboard.writeText(code);
      setCopied(true);
    } catch (e) {
      setError(e);
    }
  };
  // Without a secure context (or permission) there is no clipboard: the code stays selectable.
  const canCopy = typeof navigator.clipboard?.writeText === 'function';

  return (
    <section class="card" data-testid="invite">
      <h2>{t('account.invite')}</h2>
      {!invites.allowed ? (
        <p class="muted">{t('account.inviteNotAllowed')}</p>
      ) : (
        <>
          <p data-testid="invites-left">{left > 0 ? t('account.inviteLeft', { count: left }) : t('account.inviteNoneLeft')}</p>
          {created && (
            <div class="field">
              <label for="invite-code">{t('account.inviteCode')}</label>
              <input id="invite-code" class="code" type="text" readOnly value={created.code} onFocus={(e) => (e.target as HTMLInputElement).select()} />
              <small>{t('account.inviteCodeHint')}</small>
            </div>
          )}
          {error !== null && (
            <p class="notice notice-error" role="alert">
              {errorText(error)}
            </p>
          )}
          {copied && (
            <p class="notice notice-ok" role="status">
              {t('account.inviteCopied')}
            </p>
          )}
          <div class="actions">
            <button class="btn btn-primary" type="button" disabled={busy || left <= 0} onClick={() => void create()}>
              {t('account.inviteCreate')}
            </button>
            {created && canCopy && (
              <button class="btn" type="button" onClick={() => void copy(created.code)}>
                {t('account.inviteCopy')}
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}
