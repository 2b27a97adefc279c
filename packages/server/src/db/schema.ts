import type { Generated, Kysely, Transaction } from 'kysely';

/*
 * Column conventions: ids of accounts are UUID text; times are integer milliseconds
 * since the epoch; keys, signatures and ciphertexts are raw bytes (BLOB / bytea).
 * Secrets (codes, tokens) are stored only as SHA-256 hashes, passwords as argon2id.
 */

export interface BrandsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface AccountsTable {
  id: string;
  /** Normalised (lowercase); unique. */
  username: string;
  brand_id: string;
  identity_key: Buffer;
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
}

export interface OperatorTokensTable {
  token_hash: Buffer;
  created_at: number;
}

export type LinkCodeState = 'waiting' | 'requested' | 'provisioned' | 'linked';

export interface LinkCodesTable {
  code_hash: Buffer;
  account_id: string;
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
  /** Monotonic (AUTOINCREMENT): the per-device queue order and the socket's cursor. */
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

export interface Schema {
  brands: BrandsTable;
  accounts: AccountsTable;
  devices: DevicesTable;
  prekeys: PreKeysTable;
  kyber_prekeys: KyberPreKeysTable;
  invite_codes: InviteCodesTable;
  operator_tokens: OperatorTokensTable;
  link_codes: LinkCodesTable;
  envelopes: EnvelopesTable;
}

export type Db = Kysely<Schema>;
/** Anything queries can run on: the database or an open transaction. */
export type Executor = Kysely<Schema> | Transaction<Schema>;
