import type { Generated, Kysely, Transaction } from 'kysely';

/*
 * Column conventions: ids of accounts are UUID text; times are integer milliseconds
 * since the epoch; keys, signatures and ciphertexts are raw bytes (BLOB / bytea).
 * Secrets (codes, tokens) are stored only as SHA-256 hashes, passwords as argon2id.
 */

/** `id` is the brand's slug; `name` its display name. Booleans are 0/1. */
export interface BrandsTable {
  id: string;
  name: string;
  created_at: number;
  primary_color: string | null;
  accent_color: string | null;
  logo_url: string | null;
  default_language: Generated<string>;
  members_may_invite: Generated<number>;
  member_invite_quota: Generated<number>;
  grace_days: Generated<number>;
  retention_days: Generated<number>;
  retired_at: number | null;
}

export interface PlansTable {
  id: string;
  brand_id: string;
  name: string;
  duration_unit: 'days' | 'months';
  duration_count: number;
  price_cents: number;
  currency: string;
  created_at: number;
  /** Retired plans mint no new codes; subscriptions bought on them are untouched. */
  retired_at: number | null;
}

export interface AccountsTable {
  id: string;
  /** Normalised (lowercase); unique. */
  username: string;
  brand_id: string;
  identity_key: Buffer;
  /** Midnight UTC of the day it was created (store/coarse-time.ts: user times are kept to the day). */
  created_at: number;
  /** End of the paid period, rounded up to the last millisecond of its UTC day; null = no end. */
  paid_until: number | null;
  /** Set when an admin suspended the account (lapsed subscriptions are computed from paid_until); the end of that UTC day. */
  suspended_at: number | null;
  /** When the retention job deleted the account's keys and queues (midnight UTC of that day). */
  purged_at: number | null;
  /** How many member invites this account created: a count only, never who redeemed them. */
  member_invites_used: Generated<number>;
  /** Unidentified-access key for sealed sends (set by the client; derived from its profile key). */
  access_key: Buffer | null;
  /** 1 = accepts sealed messages from anyone. */
  unrestricted_access: Generated<number>;
}

export interface SealedSenderKeysTable {
  key_id: number;
  trust_root: Buffer;
  certificate: Buffer;
  private_key: Buffer;
  created_at: number;
}

export interface DevicesTable {
  account_id: string;
  device_id: number;
  registration_id: number;
  password_hash: string;
  /** Sealed by the client to the account identity key; opaque here. */
  name: Buffer | null;
  signed_prekey_id: number;
  signed_prekey: Buffer;
  signed_prekey_signature: Buffer;
  kyber_last_resort_id: number;
  kyber_last_resort: Buffer;
  kyber_last_resort_signature: Buffer;
  /** Midnight UTC of the day it was registered or linked. */
  created_at: number;
  /** Midnight UTC of the last day the device connected: no finer time is kept. */
  last_seen_day: number | null;
}

export interface PreKeysTable {
  account_id: string;
  device_id: number;
  key_id: number;
  public_key: Buffer;
}

export interface KyberPreKeysTable {
  account_id: string;
  device_id: number;
  key_id: number;
  public_key: Buffer;
  signature: Buffer;
}

/** No column links a redeemed code to the account it created. */
export interface InviteCodesTable {
  code_hash: Buffer;
  brand_id: string;
  created_at: number;
  expires_at: number | null;
  /** Rounded to the day, so it cannot be matched to an account's creation time. */
  used_at: number | null;
  /** Public handle for listing and revoking (the code itself is never stored). */
  id: string | null;
  type: Generated<'invite' | 'renewal'>;
  plan_id: string | null;
  batch_id: string | null;
  source: Generated<'admin' | 'member'>;
  revoked_at: number | null;
}

export interface AdminTokensTable {
  id: string;
  name: string;
  role: 'operator' | 'brand-admin';
  brand_id: string | null;
  token_hash: Buffer;
  created_at: number;
  revoked_at: number | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  admin_id: string;
  admin_name: string;
  role: string;
  brand_id: string | null;
  action: string;
  /** A brand, plan, batch, admin or account (its username); a deleted or purged account's is 'deleted-' + 16 random hex digits. */
  target: string | null;
  detail: string | null;
}

export type LinkCodeState = 'waiting' | 'requested' | 'provisioned' | 'linked';

export interface LinkCodesTable {
  code_hash: Buffer;
  account_id: string;
  /** Midnight UTC; expires_at (minutes away, when the row goes) is the only fine time. */
  created_at: number;
  expires_at: number;
  state: LinkCodeState;
  /** The new device's one-time public key (step 2 of linking). */
  public_key: Buffer | null;
  /** Account secrets sealed (HPKE) to public_key by the primary; cleared once linked. */
  sealed: Buffer | null;
  device_id: number | null;
}

export interface EnvelopesTable {
  /** Rising within a device queue (EnvelopeStore's lanes, or the shared sequence in cluster mode): the queue order and the socket's cursor. */
  id: Generated<number>;
  guid: string;
  account_id: string;
  device_id: number;
  type: number;
  source_account: string | null;
  source_device: number | null;
  timestamp: number;
  server_timestamp: number;
  content: Buffer;
  expires_at: number;
}

/** One row per cluster node (or the one embedded node), upserted by its heartbeat. */
export interface NodesTable {
  name: string;
  region: string;
  /** The URL clients use to reach this node. */
  url: string;
  started_at: number;
  heartbeat_at: number;
  /** Open device sockets at the last heartbeat. */
  connections: number;
  /** 0/1: store and bus reachable at the last heartbeat. */
  ready: number;
  /** 0/1: SIGTERM received; clients are being moved to other nodes. */
  draining: number;
}

/** An encrypted attachment blob; no column links it to an account. Booleans are 0/1. */
export interface BlobsTable {
  /** 128 random bits, base64url. */
  id: string;
  /** Declared by the uploader before the first byte. */
  size: number;
  /** Bytes on disk that a resumed upload continues after. */
  received: Generated<number>;
  complete: Generated<number>;
  /** The UTC day the upload was reserved (midnight): never finer, so no row sits next to a message. */
  created_at: number;
  /** A UTC midnight: the day after the TTL ends (a blob is kept at least its TTL). */
  expires_at: number;
}

/** An account's encrypted profile; the server holds no key that opens it. */
export interface ProfilesTable {
  account_id: string;
  /** Lowercase hex of 32 bytes, chosen by the client (a commitment to its profile key). */
  version: string;
  ciphertext: Buffer;
  /** Midnight UTC of the last write: a millisecond would date each profile-key rotation (a block). */
  updated_at: number;
}

export interface Schema {
  brands: BrandsTable;
  accounts: AccountsTable;
  devices: DevicesTable;
  prekeys: PreKeysTable;
  kyber_prekeys: KyberPreKeysTable;
  invite_codes: InviteCodesTable;
  plans: PlansTable;
  admin_tokens: AdminTokensTable;
  audit_log: AuditLogTable;
  link_codes: LinkCodesTable;
  envelopes: EnvelopesTable;
  nodes: NodesTable;
  blobs: BlobsTable;
  profiles: ProfilesTable;
  sealed_sender_keys: SealedSenderKeysTable;
}

export type Db = Kysely<Schema>;
/** Anything queries can run on: the database or an open transaction. */
export type Executor = Kysely<Schema> | Transaction<Schema>;
