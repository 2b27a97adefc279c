/**
 * The admin token lives in sessionStorage only: gone when the tab closes, never in
 * localStorage or a cookie (so no CSRF surface and nothing left on a shared machine).
 */
const KEY = 'kluis.console.token';

export function loadToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}
