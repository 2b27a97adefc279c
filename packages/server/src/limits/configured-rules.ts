import type { ResolvedServerConfig } from '../config.js';
import { DEFAULT_LIMITS, type LimitName, type LimitRate, type LimitRules } from './rules.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A bucket's numbers without its sentence: what `--rate-limit NAME=BURST/PER/SECONDS` sets. */
export type RateOverride = Pick<LimitRate, 'burst' | 'perWindow' | 'windowMs'>;

type RuleConfig = Pick<
  ResolvedServerConfig,
  | 'attachmentReservationsPerHour'
  | 'attachmentBytesPerDay'
  | 'deviceLoginFailuresPerMinute'
  | 'sendsPerSecond'
  | 'renewalFailures'
  | 'linkCodeMisses'
  | 'rateLimitOverrides'
>;

/**
 * Every bucket as the operator configured it: the named flags first (a rate people think
 * in: per minute, per hour, per day), then `--rate-limit` for any bucket by name, which
 * wins. A bucket's kind-wide `global` limit and its sentence stay as in rules.ts.
 */
export function configuredRules(config: RuleConfig): LimitRules {
  const d = DEFAULT_LIMITS;
  const logins = config.deviceLoginFailuresPerMinute;
  const uploads = config.attachmentReservationsPerHour;
  const bytes = config.attachmentBytesPerDay;
  const rules: LimitRules = {
    ...d,
    deviceAuthFailure: { ...d.deviceAuthFailure, burst: logins, perWindow: logins, windowMs: MINUTE },
    attachmentReserve: { ...d.attachmentReserve, burst: uploads, perWindow: uploads, windowMs: HOUR },
    attachmentBytes: { ...d.attachmentBytes, burst: bytes, perWindow: bytes, windowMs: DAY },
    // The send burst is ten seconds' worth; the guess buckets refill over their window.
    identifiedSend: { ...d.identifiedSend, burst: 10 * config.sendsPerSecond, perWindow: 60 * config.sendsPerSecond, windowMs: MINUTE },
    renewalFailure: { ...d.renewalFailure, burst: config.renewalFailures, perWindow: config.renewalFailures },
    linkCodeGuess: { ...d.linkCodeGuess, burst: config.linkCodeMisses, perWindow: config.linkCodeMisses },
  };
  for (const [name, rate] of Object.entries(config.rateLimitOverrides) as [LimitName, RateOverride][]) {
    rules[name] = { ...rules[name], ...rate };
  }
  return rules;
}

export class RateOverrideError extends Error {
  readonly code = 'INVALID_RATE_LIMIT' as const;
}

/**
 * Parses `NAME=BURST/PER/SECONDS[,NAME=…]` (e.g. `usernameLookup=240/240/60`): a bucket
 * of BURST tokens refilled with PER tokens every SECONDS. Unknown names and numbers that
 * are not positive integers are refused, naming the bucket names there are.
 */
export function parseRateOverrides(text: string, origin: string): Partial<Record<LimitName, RateOverride>> {
  const out: Partial<Record<LimitName, RateOverride>> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z]+)=(\d+)\/(\d+)\/(\d+)$/.exec(part);
    if (!m) throw new RateOverrideError(`${origin}: '${part}' is not NAME=BURST/PER/SECONDS (e.g. usernameLookup=240/240/60)`);
    const name = m[1]!;
    if (!Object.hasOwn(DEFAULT_LIMITS, name)) {
      throw new RateOverrideError(`${origin}: no rate limit is called '${name}'; there are ${Object.keys(DEFAULT_LIMITS).join(', ')}`);
    }
    const [burst, perWindow, seconds] = [Number(m[2]), Number(m[3]), Number(m[4])];
    const max = 1e12;
    if (![burst, perWindow, seconds].every((n) => Number.isSafeInteger(n) && n >= 1 && n <= max)) {
      throw new RateOverrideError(`${origin}: '${part}': burst, refill and seconds must be whole numbers from 1`);
    }
    out[name as LimitName] = { burst, perWindow, windowMs: seconds * 1000 };
  }
  return out;
}
