import {
  Aci,
  ContentHint,
  KEMPublicKey,
  PreKeyBundle,
  PrivateKey,
  processPreKeyBundle,
  ProtocolAddress,
  PublicKey,
  SenderCertificate,
  ServerCertificate,
  UnidentifiedSenderMessageContent,
  sealedSenderMultiRecipientEncrypt,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import type { TestDevice } from './accounts.js';
import { call } from './http.js';

const buf = (b64: string) => Buffer.from(b64, 'base64') as Buffer<ArrayBuffer>;

export const addressOf = (d: TestDevice) => ProtocolAddress.new(d.accountId, d.deviceId);

/**
 * What a client does with GET /v1/keys: fetches `to`'s bundle and builds a session (libsignal
 * must accept it as is). `as` files the session under another address (a made-up account
 * id, for sends to accounts that do not exist).
 */
export async function startSession(url: string, from: TestDevice, to: TestDevice, as: ProtocolAddress = addressOf(to)): Promise<void> {
  const r = await call(url, 'GET', `/v1/keys/${to.accountId}/${to.deviceId}`, { auth: from.auth });
  const d = r.body.devices[0];
  const bundle = PreKeyBundle.new(
    d.registrationId,
    d.deviceId,
    d.preKey?.keyId ?? null,
    d.preKey ? PublicKey.deserialize(buf(d.preKey.publicKey)) : null,
    d.signedPreKey.keyId,
    PublicKey.deserialize(buf(d.signedPreKey.publicKey)),
    buf(d.signedPreKey.signature),
    PublicKey.deserialize(buf(r.body.identityKey)),
    d.kyberPreKey.keyId,
    KEMPublicKey.deserialize(buf(d.kyberPreKey.publicKey)),
    buf(d.kyberPreKey.signature),
  );
  await processPreKeyBundle(bundle, as, addressOf(from), from.signal.sessions, from.signal.identities);
}

/** A recipient of sealedMultiMessage: a device, or a real device's session filed under a made-up account id. */
export type MultiRecipient = TestDevice | { device: TestDevice; as: string };

/**
 * A real libsignal multi-recipient sealed message from `from` to `to` (sessions built
 * here), with `excluded` accounts named but given nothing, as a client's group fan-out.
 * The server never checks the sender certificate (recipients do): any one will do here.
 */
export async function sealedMultiMessage(url: string, from: TestDevice, to: readonly MultiRecipient[], excluded: readonly TestDevice[] = []): Promise<string> {
  const addresses = to.map((t) => ('as' in t ? ProtocolAddress.new(t.as, t.device.deviceId) : addressOf(t)));
  for (let i = 0; i < to.length; i++) {
    const t = to[i]!;
    await startSession(url, from, 'as' in t ? t.device : t, addresses[i]);
  }
  const root = PrivateKey.generate();
  const serverKey = PrivateKey.generate();
  const server = ServerCertificate.new(1, serverKey.getPublicKey(), root);
  const cert = SenderCertificate.new(from.accountId, null, from.deviceId, from.identity.publicKey, Date.now() + 86_400_000, server, serverKey);
  const inner = await signalEncrypt(new Uint8Array(32), addresses[0]!, addressOf(from), from.signal.sessions, from.signal.identities);
  const bytes = await sealedSenderMultiRecipientEncrypt({
    content: UnidentifiedSenderMessageContent.new(inner, cert, ContentHint.Default, null),
    recipients: addresses,
    excludedRecipients: excluded.map((d) => Aci.fromUuid(d.accountId)),
    identityStore: from.signal.identities,
    sessionStore: from.signal.sessions,
  });
  return Buffer.from(bytes).toString('base64');
}
