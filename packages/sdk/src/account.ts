import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { b64, unb64 } from './keys.js';
import type { DataStore } from './store/data-store.js';

/** The local device's account, as kept in kv under 'account'. */
export interface AccountState {
  accountId: string;
  username: string;
  deviceId: number;
  serverUrl: string;
  password: string;
  registrationId: number;
  identityKeyPair: IdentityKeyPair;
}

type StoredAccount = Omit<AccountState, 'identityKeyPair'> & { identityKeyPair: string };

const KEY = 'account';

export function loadAccount(data: DataStore): AccountState | undefined {
  const s = data.get<StoredAccount>(KEY);
  if (!s) return undefined;
  return { ...s, identityKeyPair: IdentityKeyPair.deserialize(unb64(s.identityKeyPair)) };
}

export function saveAccount(data: DataStore, a: AccountState): void {
  const s: StoredAccount = { ...a, identityKeyPair: b64(a.identityKeyPair.serialize()) };
  data.set(KEY, s);
}
