import { ApiError } from './api.js';
import { hasKey, t } from './i18n.js';

/** A message of the UI itself, kept as a key so it follows a language switch. */
export class UiMessage {
  constructor(readonly key: string) {}
}

/** A translated sentence for a failed call: by the error's code where the catalog knows it. */
export function errorText(e: unknown): string {
  if (e instanceof UiMessage) return t(e.key);
  if (e instanceof ApiError) {
    const key = `error.${e.code}`;
    if (hasKey(key)) return t(key, { username: String(e.body.username ?? '') });
    return t('error.generic', { code: e.code });
  }
  return t('error.generic', { code: 'UI' });
}
