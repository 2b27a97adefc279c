import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { Field } from '../components/field.js';
import { LanguageSelect } from '../components/language-select.js';
import { errorText, UiMessage } from '../errors.js';
import { useAppEvent } from '../events.js';
import { t } from '../i18n.js';

type Mode = 'register' | 'link';

/** First start of a profile: create an account with an invite, or join an existing one as a new device. */
export function Onboarding({ profile, defaultServerUrl, onDone }: { profile: string; defaultServerUrl: string; onDone: () => void }) {
  const [mode, setMode] = useState<Mode>('register');
  const [serverUrl, setServerUrl] = useState(defaultServerUrl);
  const [invite, setInvite] = useState('');
  const [code, setCode] = useState('');
  const [username, setUsername] = useState('');
  const [pass, setPass] = useState('');
  const [pass2, setPass2] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [verification, setVerification] = useState('');

  useAppEvent((e) => {
    if (e.type === 'link-verification') setVerification(e.data.verification);
  });

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (pass !== pass2) return setError(new UiMessage('onboarding.passphraseMismatch'));
    setBusy(true);
    try {
      if (mode === 'register') await call('register', { body: { serverUrl: serverUrl.trim(), inviteCode: invite.trim(), username: username.trim(), passphrase: pass } });
      else await call('link', { body: { serverUrl: serverUrl.trim(), code: code.trim(), passphrase: pass } });
      onDone();
    } catch (err) {
      setError(err);
      setVerification('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="center">
      <form class="card narrow" onSubmit={submit} aria-busy={busy}>
        <div class="row-between">
          <h1>{t('onboarding.title')}</h1>
          <LanguageSelect />
        </div>
        <p class="muted">{t('onboarding.intro', { profile })}</p>
        <div class="tabs-inline" role="radiogroup" aria-label={t('onboarding.how')}>
          <label class="check">
            <input type="radio" name="mode" checked={mode === 'register'} onChange={() => setMode('register')} />
            {t('onboarding.modeRegister')}
          </label>
          <label class="check">
            <input type="radio" name="mode" checked={mode === 'link'} onChange={() => setMode('link')} />
            {t('onboarding.modeLink')}
          </label>
        </div>
        <Field label={t('onboarding.server')} value={serverUrl} onInput={setServerUrl} required placeholder="https://" hint={t('onboarding.serverHint')} />
        {mode === 'register' ? (
          <>
            <Field label={t('onboarding.invite')} value={invite} onInput={setInvite} required />
            <Field label={t('onboarding.username')} value={username} onInput={setUsername} required hint={t('onboarding.usernameHint')} />
          </>
        ) : (
          <Field label={t('onboarding.linkCode')} value={code} onInput={setCode} required hint={t('onboarding.linkCodeHint')} />
        )}
        <Field label={t('onboarding.passphrase')} type="password" value={pass} onInput={setPass} required autocomplete="new-password" hint={t('onboarding.passphraseHint')} />
        <Field label={t('onboarding.passphraseRepeat')} type="password" value={pass2} onInput={setPass2} required autocomplete="new-password" />
        {verification && (
          <p class="notice notice-info" role="status">
            {t('onboarding.verification')} <strong data-testid="link-verification">{verification}</strong>
          </p>
        )}
        {error != null && (
          <p class="notice notice-error" role="alert">
            {errorText(error)}
          </p>
        )}
        <div class="actions">
          <button class="btn btn-primary" type="submit" disabled={busy}>
            {busy ? t('onboarding.working') : mode === 'register' ? t('onboarding.register') : t('onboarding.link')}
          </button>
        </div>
      </form>
    </main>
  );
}
