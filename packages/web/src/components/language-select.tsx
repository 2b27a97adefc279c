import { language, languages, setLanguage, t } from '../i18n.js';

export function LanguageSelect({ id = 'language' }: { id?: string }) {
  return (
    <span class="lang">
      <label for={id}>{t('app.language')}</label>
      <select id={id} value={language()} onChange={(e) => setLanguage((e.target as HTMLSelectElement).value)}>
        {languages().map((l) => (
          <option value={l.code} key={l.code}>
            {l.name}
          </option>
        ))}
      </select>
    </span>
  );
}
