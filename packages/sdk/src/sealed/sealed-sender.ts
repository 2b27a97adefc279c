import { createHash } from 'node:crypto';
import { hkdf, PublicKey, SenderCertificate } from '@signalapp/libsignal-client';
import { ACCESS_KEY_BYTES, PRIMARY_DEVICE_ID } from '@kluis/protocol';
import type { Ctx } from '../context.js';
import { KluisError } from '../errors.js';
import { unb64 } from '../keys.js';

/** Sender certificates are refreshed this long before they expire. */
export const CERTIFICATE_REFRESH_MS = 24 * 60 * 60 * 1000;
/** After a refused key or an unavailable certificate, sends go identified this long before trying again. */
const RETRY_MS = 10 * 60 * 1000;
const ACCESS_KEY_LABEL = new TextEncoder().encode('kluis unidentified access key v1') as Uint8Array<ArrayBuffer>;

export class SealingUnavailableError extends KluisError {
  constructor(reason: string) {
    super('SEALING_UNAVAILABLE', `sealed sender is unavailable: ${reason}`);
  }
}

/** An account's unidentified-access key: derived from its profile key, so only those given the key can send sealed. */
export function deriveAccessKey(profileKey: Uint8Array): Uint8Array<ArrayBuffer> {
  return hkdf(ACCESS_KEY_BYTES, new Uint8Array(profileKey), ACCESS_KEY_LABEL, null);
}

export function xorAccessKeys(keys: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(ACCESS_KEY_BYTES);
  for (const k of keys) for (let i = 0; i < ACCESS_KEY_BYTES; i++) out[i]! ^= k[i] ?? 0;
  return out;
}

export interface SealingMaterial {
  certificate: SenderCertificate;
  accessKey: Uint8Array<ArrayBuffer>;
}

/**
 * This device's side of sealed sender: the pinned trust root, a fresh sender certificate,
 * the access keys of contacts (from their profile keys), and our own access key on the
 * server (re-uploaded whenever our profile key changes).
 */
export class SealedSender {
  private refreshing: Promise<SenderCertificate> | undefined;
  private readonly refusedUntil = new Map<string, number>();
  private unavailableUntil = 0;

  constructor(
    private readonly ctx: Ctx,
    private readonly profileKey: () => Uint8Array | undefined,
  ) {}

  /** The trust root pinned at registration (or now, trust on first use, for older profiles). */
  async trustRoot(): Promise<PublicKey> {
    let pinned = this.ctx.data.get<string>('trustRoot');
    if (!pinned) {
      pinned = (await this.ctx.api().getTrustRoot()).publicKey;
      this.ctx.data.set('trustRoot', pinned);
    }
    return PublicKey.deserialize(unb64(pinned));
  }

  pinnedTrustRoot(): PublicKey | undefined {
    const pinned = this.ctx.data.get<string>('trustRoot');
    return pinned ? PublicKey.deserialize(unb64(pinned)) : undefined;
  }

  pinTrustRoot(publicKey: string): void {
    this.ctx.data.set('trustRoot', publicKey);
  }

  /** A usable sender certificate; SealingUnavailableError when the server has none for us (or a forged one). */
  async certificate(): Promise<SenderCertificate> {
    try {
      return await this.fetchCertificate();
    } catch (e) {
      throw new SealingUnavailableError((e as Error).message);
    }
  }

  /** After a re-registration the certificate names the old identity key. */
  forgetCertificate(): void {
    this.ctx.data.delete('senderCertificate');
  }

  private async fetchCertificate(): Promise<SenderCertificate> {
    const cached = this.ctx.data.get<{ certificate: string; expiresAt: number }>('senderCertificate');
    if (cached && cached.expiresAt - this.ctx.now() > CERTIFICATE_REFRESH_MS) return SenderCertificate.deserialize(unb64(cached.certificate));
    this.refreshing ??= (async () => {
      try {
        const r = await this.ctx.api().getSenderCertificate();
        const cert = SenderCertificate.deserialize(unb64(r.certificate));
        // A certificate our pinned root does not vouch for would be refused by every receiver.
        if (!cert.validate(await this.trustRoot(), this.ctx.now())) throw new Error('the server issued a sender certificate the pinned trust root does not vouch for');
        this.ctx.data.set('senderCertificate', { certificate: r.certificate, expiresAt: r.expiresAt });
        return cert;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** The access key we can use for `accountId`: known when they shared their profile key with us. */
  accessKeyFor(accountId: string): Uint8Array<ArrayBuffer> | undefined {
    if (accountId === this.ctx.me().accountId) {
      const own = this.profileKey();
      return own ? deriveAccessKey(own) : undefined;
    }
    const key = this.ctx.conv.getProfile(accountId)?.profileKey;
    return key ? deriveAccessKey(key) : undefined;
  }

  /** Certificate and key for a sealed send to `accountId`, or undefined (identified send). */
  async material(accountId: string): Promise<SealingMaterial | undefined> {
    // Our own account too (sync copies): an identified copy beside the sealed envelopes
    // would name their sender. Sealed only with our own key: no zero-key guess.
    if (accountId === this.ctx.me().accountId && !this.accessKeyFor(accountId)) return undefined;
    // No key yet (first contact): try anyway, in case they accept sealed messages from
    // anyone; a 401 (also what a restricted account answers) means "send identified".
    const accessKey = this.accessKeyFor(accountId) ?? new Uint8Array(ACCESS_KEY_BYTES);
    const key = `${accountId}:${Buffer.from(accessKey).toString('base64')}`;
    if ((this.refusedUntil.get(key) ?? 0) > this.ctx.now()) return undefined;
    if (this.unavailableUntil > this.ctx.now()) return undefined;
    try {
      return { certificate: await this.certificate(), accessKey };
    } catch {
      // A server without sealed sender (or a hiccup): identified for a while, then try again.
      this.unavailableUntil = this.ctx.now() + RETRY_MS;
      return undefined;
    }
  }

  /** The server refused this key for this account: do not try it again for a while. */
  refused(accountId: string): void {
    const accessKey = this.accessKeyFor(accountId) ?? new Uint8Array(ACCESS_KEY_BYTES);
    this.refusedUntil.set(`${accountId}:${Buffer.from(accessKey).toString('base64')}`, this.ctx.now() + RETRY_MS);
  }

  /** Uploads our access key when it is not the one derived from the current profile key. */
  async publishAccessKey(unrestricted = this.unrestricted()): Promise<void> {
    // Only the primary holds the account's profile key from the start; it publishes.
    if (this.ctx.me().deviceId !== PRIMARY_DEVICE_ID) return;
    const profileKey = this.profileKey();
    if (!profileKey) return;
    const key = deriveAccessKey(profileKey);
    const tag = createHash('sha256').update(key).update(unrestricted ? '1' : '0').digest('base64');
    if (this.ctx.data.get<string>('accessKeyPublished') === tag) return;
    await this.ctx.api().setAccessKey(key, unrestricted);
    this.ctx.data.set('accessKeyPublished', tag);
  }

  unrestricted(): boolean {
    return this.ctx.data.get<boolean>('sealedFromAnyone') ?? false;
  }

  async setUnrestricted(on: boolean): Promise<void> {
    this.ctx.data.set('sealedFromAnyone', on);
    await this.publishAccessKey(on);
  }
}
