import { t } from '../i18n.js';

export function PaneHead({ title, onBack }: { title: string; onBack: () => void }) {
  return (
    <header class="pane-head">
      <button class="btn btn-small back" onClick={onBack} aria-label={t('common.back')}>
        ←
      </button>
      <h1 class="pane-title">{title}</h1>
    </header>
  );
}
