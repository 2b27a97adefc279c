import { DEFAULT_LIMITS, type LimitName, type LimitRate } from './rules.js';

/** The flag that sets a bucket in the terms people think in, where there is one (config.ts). */
const NAMED_FLAGS: Partial<Record<LimitName, string>> = {
  deviceAuthFailure: '--device-login-failures-per-minute',
  attachmentReserve: '--attachment-reservations-per-hour',
  attachmentBytes: '--attachment-mib-per-day',
  identifiedSend: '--sends-per-second',
  renewalFailure: '--renewal-failures',
  linkCodeGuess: '--link-code-misses',
};

function window(ms: number): string {
  const s = ms / 1000;
  if (s % 86_400 === 0) return s === 86_400 ? 'day' : `${s / 86_400} days`;
  if (s % 3600 === 0) return s === 3600 ? 'hour' : `${s / 3600} hours`;
  if (s % 60 === 0) return s === 60 ? 'minute' : `${s / 60} minutes`;
  return `${s} s`;
}

const count = (n: number) => (n >= 1024 ** 3 && n % 1024 ** 3 === 0 ? `${n / 1024 ** 3} GiB` : n.toLocaleString('en-US'));
const rate = (r: LimitRate) => `${count(r.burst)} at once, ${count(r.perWindow)} per ${window(r.windowMs)}`;

/**
 * The rate-limit buckets as a Markdown table (docs/limits.md): name, default, the
 * kind-wide bucket, the flag. Generated from rules.ts so the manual cannot drift.
 */
export function rateLimitTable(): string {
  const rows = (Object.entries(DEFAULT_LIMITS) as [LimitName, (typeof DEFAULT_LIMITS)[LimitName]][]).map(([name, rule]) => {
    const global = 'global' in rule && rule.global ? rate(rule.global) : '—';
    const flags = [NAMED_FLAGS[name] && `\`${NAMED_FLAGS[name]}\``, `\`--rate-limit ${name}=B/R/S\``].filter(Boolean).join(', ');
    return `| \`${name}\` | too many ${rule.what} | ${rate(rule)} | ${global} | ${flags} |`;
  });
  return ['| bucket | past it: 429 "too many …" | default (per key) | kind-wide, per node | set with |', '|---|---|---|---|---|', ...rows].join('\n');
}
