import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { IdentityKeyPair, KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord } from '@signalapp/libsignal-client';
import type { Client } from '@kluis/sdk';
import type { Secret } from './search.js';
import { internalsOf } from '@kluis/sdk/testing';

type Row = Record<string, unknown>;

/**
 * Every private key and key seed a client holds, read from its own encrypted store: what
 * must never appear anywhere on the server or the wire.
 */
export function clientSecrets(client: Client, who: string): Secret[] {
  const { data } = internalsOf(client);
  const db = data.db;
  const all = (sql: string): Row[] => db.prepare(sql).all() as Row[];
  const out: Secret[] = [];
  const add = (kind: string, label: string, value: Uint8Array) => out.push({ kind, label: `${who}: ${label}`, value });

  const account = data.get<{ identityKeyPair: string }>('account');
  if (account) add('identity private keys', 'identity', IdentityKeyPair.deserialize(Buffer.from(account.identityKeyPair, 'base64')).privateKey.serialize());

  for (const r of all('SELECT id, record FROM prekeys')) add('prekey private keys', `prekey ${r.id}`, PreKeyRecord.deserialize(bytes(r.record)).privateKey().serialize());
  for (const r of all('SELECT id, record FROM signed_prekeys'))
    add('prekey private keys', `signed prekey ${r.id}`, SignedPreKeyRecord.deserialize(bytes(r.record)).privateKey().serialize());
  for (const r of all('SELECT id, record FROM kyber_prekeys'))
    add('prekey private keys', `kyber prekey ${r.id}`, KyberPreKeyRecord.deserialize(bytes(r.record)).secretKey().serialize());

  for (const r of all('SELECT address, distribution_id, record FROM sender_keys')) {
    for (const [i, secret] of senderKeySecrets(bytes(r.record)).entries()) add('sender keys', `sender key ${String(r.address)}/${String(r.distribution_id)} #${i}`, secret);
  }
  for (const r of all('SELECT address, record FROM sessions')) {
    for (const [i, secret] of fieldsOfLength(bytes(r.record), 32).entries()) add('session ratchet secrets', `session ${String(r.address)} #${i}`, secret);
  }

  const own = data.get<string>('profileKey');
  if (own) add('profile keys', 'own profile key', Buffer.from(own, 'base64'));
  for (const r of all('SELECT account_id, profile_key FROM profiles WHERE profile_key IS NOT NULL')) add('profile keys', `profile key of ${String(r.account_id)}`, bytes(r.profile_key));

  for (const r of all('SELECT id, attachments FROM messages WHERE attachments IS NOT NULL')) {
    const list = JSON.parse(String(r.attachments)) as Array<{ key: string }>;
    for (const [i, a] of list.entries()) {
      const key = Buffer.from(a.key, 'base64');
      // AES key and HMAC key: each half alone would be enough to matter.
      add('attachment keys', `attachment ${String(r.id)}/${i} (cipher)`, key.subarray(0, 32));
      if (key.length > 32) add('attachment keys', `attachment ${String(r.id)}/${i} (mac)`, key.subarray(32));
    }
  }
  return dedupe(out);
}

function bytes(v: unknown): Uint8Array<ArrayBuffer> {
  return new Uint8Array(v as Uint8Array);
}

function dedupe(secrets: Secret[]): Secret[] {
  const seen = new Set<string>();
  return secrets.filter((s) => {
    const k = `${s.kind}|${Buffer.from(s.value).toString('hex')}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * libsignal's SenderKeyRecordStructure: states (1) → chain key (2) → seed (2), and signing
 * key (3) → private (2). Only the sender's own record has the private signing key.
 */
export function senderKeySecrets(record: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const state of fields(record, 1)) {
    for (const chain of fields(state, 2)) out.push(...fields(chain, 2));
    for (const signing of fields(state, 3)) out.push(...fields(signing, 2));
    for (const messageKey of fields(state, 4)) out.push(...fields(messageKey, 2));
  }
  return out.filter((b) => b.length >= 16);
}

/** The length-delimited fields numbered `no` of a protobuf message (empty if it does not parse). */
function fields(message: Uint8Array, no: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  try {
    const r = new BinaryReader(message);
    while (r.pos < r.len) {
      const [fieldNo, wireType] = r.tag();
      if (wireType === WireType.LengthDelimited) {
        const b = r.bytes();
        if (fieldNo === no) out.push(b);
      } else r.skip(wireType, fieldNo);
    }
  } catch {
    return [];
  }
  return out;
}

/**
 * Every `length`-byte field anywhere in a protobuf message, nested messages included. In a
 * libsignal session record the 32-byte fields are the secrets (root key, chain keys,
 * ratchet private keys, message keys); public keys are 33 bytes with their type prefix.
 * A bytes field is walked into only if it parses as a message to its last byte.
 */
export function fieldsOfLength(message: Uint8Array, length: number, depth = 0): Uint8Array[] {
  const parsed = parseStrict(message);
  if (!parsed) return [];
  const out: Uint8Array[] = [];
  for (const b of parsed) {
    if (b.length === length) out.push(b);
    else if (b.length > length && depth < 6) out.push(...fieldsOfLength(b, length, depth + 1));
  }
  return out;
}

/** The length-delimited fields of `message`, or undefined if it is not a well-formed message. */
function parseStrict(message: Uint8Array): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  try {
    const r = new BinaryReader(message);
    while (r.pos < r.len) {
      const [fieldNo, wireType] = r.tag();
      if (fieldNo < 1 || fieldNo > 64 || wireType === WireType.StartGroup || wireType === WireType.EndGroup) return undefined;
      if (wireType === WireType.LengthDelimited) out.push(r.bytes());
      else r.skip(wireType, fieldNo);
    }
    return r.pos === r.len ? out : undefined;
  } catch {
    return undefined;
  }
}
