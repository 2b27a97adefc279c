import { randomBytes } from 'node:crypto';
import type { TestDevice } from './accounts.js';
import { call } from './http.js';
import type { TestServer } from './test-server.js';

/**
 * Random access keys set on accounts (so they take sealed mail), and the XOR of several
 * of them that a sealed multi-recipient send presents.
 */
export class AccessKeys {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly ts: () => TestServer) {}

  /** Gives the account a fresh key; returns the device, for `const bob = await keys.give(await registerAccount(ts))`. */
  async give(d: TestDevice): Promise<TestDevice> {
    const key = randomBytes(16);
    this.keys.set(d.accountId, key);
    const r = await call(this.ts().url, 'PUT', '/v1/accounts/access-key', { auth: d.auth, body: { accessKey: key.toString('base64'), unrestricted: false } });
    if (r.status !== 200) throw new Error(`setting an access key failed: ${r.status} ${JSON.stringify(r.body)}`);
    return d;
  }

  /** One account's key, or the XOR of several accounts' keys. */
  xor(...ds: TestDevice[]): Buffer {
    const out = Buffer.alloc(16);
    for (const d of ds) for (let i = 0; i < 16; i++) out[i]! ^= this.keys.get(d.accountId)![i]!;
    return out;
  }
}
