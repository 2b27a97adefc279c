import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { Field } from '../components/field.js';
import { PaneHead } from '../components/pane-head.js';
import { errorText } from '../errors.js';
import { t } from '../i18n.js';

export function NewGroup({ onBack, onCreated }: { onBack: () => void; onCreated: (conv: string) => void }) {
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const list = members.split(/[\s,]+/).filter(Boolean);
      const r = await call('createGroup', { body: { title, members: list } });
      onCreated(r.conversation);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="screen">
      <PaneHead title={t('group.newTitle')} onBack={onBack} />
      <form class="screen-body" onSubmit={submit}>
        <Field label={t('group.name')} value={title} onInput={setTitle} required />
        <Field label={t('group.members')} value={members} onInput={setMembers} required hint={t('group.membersHint')} />
        {error != null && (
          <p class="notice notice-error" role="alert">
            {errorText(error)}
          </p>
        )}
        <div class="actions">
          <button class="btn btn-primary" type="submit" disabled={busy}>
            {t('group.create')}
          </button>
        </div>
      </form>
    </div>
  );
}
