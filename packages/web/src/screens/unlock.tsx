import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { Field } from '../components/field.js';
import { LanguageSelect } from '../components/language-select.js';
import { errorText } from '../errors.js';
import { t } from '../i18n.js';

export function Unlock({ profile, onDone }: { profile: string; onDone: () => void }) {
  const [pass, setPass] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call('unlock', { body: { passphrase: pass } });
      setPass('');
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="center">
      <form class="card narrow" onSubmit={submit}>
        <div class="row-between">
          <h1>{t('unlock.title')}</h1>
          <LanguageSelect />
        </div>
        <p class="muted">{t('unlock.intro', { profile })}</p>
        <Field label={t('onboarding.passphrase')} type="password" value={pass} onInput={setPass} required autocomplete="current-password" />
        {error != null && (
          <p class="notice notice-error" role="alert">
            {errorText(error)}
          </p>
        )}
        <div class="actions">
          <button class="btn btn-primary" type="submit" disabled={busy}>
            {t('unlock.submit')}
          </button>
        </div>
      </form>
    </main>
  );
}
