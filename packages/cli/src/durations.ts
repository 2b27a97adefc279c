// The module, not the SDK's index: this loads with every command, `kluis --help` included.
export { formatTimer } from '@kluis/sdk/conversation-events';
import { UsageError } from './errors.js';

/** The SDK's bounds for disappearing messages: off, or 30 s to 4 weeks. */
const MIN_TIMER = 30;
const MAX_TIMER = 4 * 7 * 86400;
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

export const TIMER_HELP = 'off, or a number with s/m/h/d/w from 30s to 4w (e.g. 30s, 5m, 1h, 1d, 1w, 4w)';

/** "off", "30s", "5m", "1h", "1d", "1w", "4w" … → seconds (0 = off). */
export function parseTimer(text: string, what = 'a disappearing-message timer'): number {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === '0') return 0;
  const m = /^(\d+)\s*([smhdw])$/.exec(t);
  if (!m) throw new UsageError(`"${text}" is not ${what}: use ${TIMER_HELP}`);
  const seconds = Number(m[1]) * UNITS[m[2]!]!;
  if (seconds < MIN_TIMER || seconds > MAX_TIMER) {
    throw new UsageError(`"${text}" is out of range for ${what}: use ${TIMER_HELP}`);
  }
  return seconds;
}

/** "on"/"off" switches; yes/no and true/false too, since people type those. */
export function parseSwitch(text: string, flag: string): boolean {
  const t = text.trim().toLowerCase();
  if (['on', 'yes', 'true', '1'].includes(t)) return true;
  if (['off', 'no', 'false', '0'].includes(t)) return false;
  throw new UsageError(`${flag} takes on or off, not "${text}"`);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}
