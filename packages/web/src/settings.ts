/** Preferences of this browser (never secrets): kept in localStorage. */
const LOCK_KEY = 'kluis.app.lockAfterMinutes';
const NOTIFY_KEY = 'kluis.app.notifications';

export const LOCK_CHOICES = [0, 5, 15, 60];

export function lockAfterMinutes(): number {
  const v = Number(localStorage.getItem(LOCK_KEY) ?? '15');
  return LOCK_CHOICES.includes(v) ? v : 15;
}

export function lockAfterMs(): number {
  return lockAfterMinutes() * 60_000;
}

export function setLockAfterMinutes(n: number): void {
  localStorage.setItem(LOCK_KEY, String(n));
}

export type NotifyMode = 'off' | 'hidden' | 'full';

export function notifyMode(): NotifyMode {
  const v = localStorage.getItem(NOTIFY_KEY);
  return v === 'hidden' || v === 'full' ? v : 'off';
}

export function setNotifyMode(m: NotifyMode): void {
  localStorage.setItem(NOTIFY_KEY, m);
}

const RELAY_KEY = 'kluis.app.relayAllCalls';

/** "Relay all calls" (on unless turned off): the other side never learns this device's IP address. */
export function relayAllCalls(): boolean {
  return localStorage.getItem(RELAY_KEY) !== 'off';
}

export function setRelayAllCalls(on: boolean): void {
  localStorage.setItem(RELAY_KEY, on ? 'on' : 'off');
}
