import { deviceAuthorization, isCanonicalBase64, MAX_DEVICE_ID } from '@kluis/protocol';
import type { Db } from '../db/schema.js';
import { unauthorized } from '../errors.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { DeviceStore } from '../store/devices.js';
import type { AuthCache, CachedIdentity } from './auth-cache.js';
import type { PasswordHasher } from './password-hasher.js';
import { sha256 } from './secrets.js';
import { addressSource } from '../api/source-address.js';

export type DeviceIdentity = CachedIdentity;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Parses `Basic base64("accountId.deviceId:password")`; undefined when malformed. */
export function parseDeviceAuthorization(header: string | undefined): { accountId: string; deviceId: number; password: string } | undefined {
  if (!header || header.length > 1024) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  // Canonical base64 only: one credential, one spelling (and one auth-cache key).
  if (!match || !isCanonicalBase64(match[1]!)) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const dot = user.lastIndexOf('.');
  if (dot < 0) return undefined;
  const accountId = user.slice(0, dot);
  const deviceText = user.slice(dot + 1);
  if (!UUID.test(accountId) || !/^[0-9]{1,3}$/.test(deviceText)) return undefined;
  const deviceId = Number(deviceText);
  if (deviceId < 1 || deviceId > MAX_DEVICE_ID || password.length === 0) return undefined;
  return { accountId, deviceId, password };
}

export class DeviceAuthenticator {
  constructor(
    private readonly db: Db,
    private readonly devices: DeviceStore,
    private readonly hasher: PasswordHasher,
    private readonly cache: AuthCache,
    /** Failed verifies per device (limits/rules.ts `deviceAuthFailure`); none: unlimited. */
    private readonly limits?: RateLimiter,
  ) {}

  /** The device a request speaks for, or an UNAUTHORIZED ApiError. */
  /**
   * @param address the peer's address: failures are counted per device *and* source, so
   * someone elsewhere who knows a device's id cannot lock its owner out by failing on
   * purpose; the node-wide bucket still bounds the argon2 work of a flood from anywhere.
   */
  async authenticate(header: string | undefined, address?: string): Promise<DeviceIdentity> {
    if (!header) throw unauthorized('missing device credentials (HTTP Basic "accountId.deviceId:password")');
    const key = sha256(header).toString('base64');
    const cached = this.cache.get(key);
    if (cached) return cached;
    const parsed = parseDeviceAuthorization(header);
    if (!parsed) throw unauthorized('malformed device credentials (expected HTTP Basic "accountId.deviceId:password")');
    // Before any work: past the limit a guess costs no argon2 (429 with Retry-After). The
    // bucket is keyed by the ids as presented (and the source), so an unknown device is limited the same.
    const ids = [parsed.accountId, String(parsed.deviceId), address ? addressSource(address).source : ''];
    this.limits?.take('deviceAuthFailure', ...ids);
    const epoch = this.cache.currentEpoch();
    let failed = false;
    try {
      const stored = await this.devices.passwordHash(this.db, parsed.accountId, parsed.deviceId);
      // Unknown device and wrong password answer alike, after the same argon2 work (a verify
      // against a dummy hash): no oracle, by answer or by time, for which devices exist.
      const ok = stored === undefined ? await this.hasher.verifyNone(parsed.password) : await this.hasher.verify(stored, parsed.password);
      failed = !ok;
      if (failed) throw unauthorized('invalid device credentials');
    } finally {
      // Only failed passwords count: a right one (or a database outage, 503) gives the token back.
      if (!failed) this.limits?.refund('deviceAuthFailure', ...ids);
    }
    const identity = { accountId: parsed.accountId, deviceId: parsed.deviceId };
    this.cache.set(key, identity, epoch);
    return identity;
  }

  /** After registration or linking the password is known: skip the first argon2 verify. */
  remember(accountId: string, deviceId: number, password: string): void {
    this.cache.set(sha256(deviceAuthorization(accountId, deviceId, password)).toString('base64'), { accountId, deviceId });
  }

  forget(accountId: string, deviceId?: number): void {
    this.cache.evict(accountId, deviceId);
  }
}
