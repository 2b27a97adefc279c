import { useEffect, useState } from 'preact/hooks';
import { call } from '../api.js';
import { Field } from '../components/field.js';
import { PaneHead } from '../components/pane-head.js';
import { errorText } from '../errors.js';
import { useAppEvent } from '../events.js';
import { t } from '../i18n.js';
import type { Account, ConversationDetail } from '@kluis/app/api';

export function GroupInfo({ conv, account, onBack, onLeft }: { conv: string; account: Account; onBack: () => void; onLeft: () => void }) {
  const [d, setD] = useState<ConversationDetail | null>(null);
  const [title, setTitle] = useState('');
  const [add, setAdd] = useState('');
  const [error, setError] = useState<unknown>(null);
  const load = () =>
    call('conversation', { params: { conv } }).then((x) => {
      setD(x);
      setTitle(x.title);
    }, (e) => setError(e));
  useEffect(() => void load(), []);
  useAppEvent((e) => e.type === 'group-updated' && e.data.conversation === conv && void load());
  const act = (fn: () => Promise<unknown>, after?: () => void) => async (e?: Event) => {
    e?.preventDefault();
    setError(null);
    try {
      await fn();
      if (after) after();
      else await load();
    } catch (err) {
      setError(err);
    }
  };
  const g = d?.group;
  const amAdmin = g?.members.some((m) => m.accountId === account.accountId && m.admin) ?? false;

  return (
    <div class="screen">
      <PaneHead title={d?.title ?? ''} onBack={onBack} />
      <div class="screen-body">
        {error != null && (
          <p class="notice notice-error" role="alert">
            {errorText(error)}
          </p>
        )}
        {g && (
          <>
            <h2>{t('group.membersTitle', { count: g.members.length })}</h2>
            <ul class="list" data-testid="group-members">
              {g.members.map((m) => (
                <li key={m.accountId} class="list-row">
                  <span>
                    {m.username}
                    {m.accountId === account.accountId && <span class="muted"> ({t('message.you')})</span>}
                  </span>
                  {m.admin && <span class="badge badge-info">{t('group.admin')}</span>}
                  {amAdmin && m.accountId !== account.accountId && (
                    <span class="row">
                      {!m.admin && (
                        <button class="btn btn-small" onClick={act(() => call('changeMembers', { params: { conv }, body: { promote: m.username } }))}>
                          {t('group.promote')}
                        </button>
                      )}
                      <button class="btn btn-small btn-danger" onClick={act(() => call('changeMembers', { params: { conv }, body: { remove: [m.username] } }))}>
                        {t('group.remove')}
                      </button>
                    </span>
                  )}
                </li>
              ))}
            </ul>
            {amAdmin && (
              <>
                <form class="inline-form" onSubmit={act(() => call('changeMembers', { params: { conv }, body: { add: add.split(/[\s,]+/).filter(Boolean) } }), () => (setAdd(''), void load()))}>
                  <Field label={t('group.add')} value={add} onInput={setAdd} hint={t('group.membersHint')} />
                  <button class="btn" type="submit">
                    {t('group.addButton')}
                  </button>
                </form>
                <form class="inline-form" onSubmit={act(() => call('renameGroup', { params: { conv }, body: { title } }))}>
                  <Field label={t('group.name')} value={title} onInput={setTitle} />
                  <button class="btn" type="submit">
                    {t('group.rename')}
                  </button>
                </form>
              </>
            )}
            <div class="actions">
              <button class="btn btn-danger" onClick={act(() => call('leaveGroup', { params: { conv } }), onLeft)}>
                {t('group.leave')}
              </button>
            </div>
          </>
        )}
      </div>
    </div>
  );
}
