import { ApiError } from './api.js';
import { hasKey, t } from './i18n.js';

/** A translated sentence for a failed call: by the error's code where the catalog knows it. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    const key = `error.${e.code}`;
    if (hasKey(key)) return t(key, { username: String(e.body.username ?? '') });
    return t('error.generic', { code: e.code });
  }
  return t('error.generic', { code: 'UI' });
}
