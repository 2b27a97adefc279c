import { randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /**
   * The work of a failed verify when there is nothing to verify against (unknown device or
   * account): a verify against a dummy hash of the same parameters, so the answer takes
   * as long as for a known device with a wrong password. Always false.
   */
  verifyNone(password: string): Promise<false>;
}

/** @node-rs/argon2 declares Algorithm as a const enum, which isolatedModules cannot read. */
const ARGON2ID = 2 as Algorithm;

/**
 * argon2id with a modest cost (default 4 MiB, 2 passes: ~2 ms per verify here). The
 * passwords are ≥ 128-bit random strings made by clients, so no amount of hashing cost
 * changes whether a leaked table can be brute-forced (it cannot); the hash only has to
 * be one-way and slow enough to rule out bulk precomputation. A cheap verify keeps
 * logins and reconnect storms (thousands of sockets after a restart) affordable. The
 * cost parameters live in each PHC string, so raising them later still verifies old
 * hashes. Runs on libuv's thread pool, off the event loop.
 */
export function createPasswordHasher(options: { memoryKib: number; iterations: number }): PasswordHasher {
  const params = { algorithm: ARGON2ID, memoryCost: options.memoryKib, timeCost: options.iterations, parallelism: 1 };
  const check = async (stored: string, password: string) => {
    try {
      return await verify(stored, password);
    } catch {
      return false;
    }
  };
  // Of a random password nobody knows, made once at start with the configured cost (made
  // on first need instead, the first unknown device would take one hash longer).
  const dummy = hash(randomBytes(32).toString('base64'), params);
  dummy.catch(() => undefined); // surfaces, if ever, at the verify that awaits it
  return {
    hash: (password) => hash(password, params),
    verify: check,
    async verifyNone(password) {
      await check(await dummy, password);
      return false;
    },
  };
}
