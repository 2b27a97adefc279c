/**
 * GroupSender's 1:1 fan-out (sender keys, group updates) when a member device's queue is
 * full: the server refuses a 1:1 send whole (507 QUEUE_FULL), so the account's other
 * devices get it as a resend naming them alone, and the full one is reported, not
 * retried. The end-to-end case (a real server, a group message) is in
 * conversations/groups.integration.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Ctx } from '../context.js';
import { ServerError } from '../errors.js';
import type { MultiSender } from '../multi-sender.js';
import type { SealedSender } from '../sealed/sealed-sender.js';
import type { Sender } from '../sender.js';
import type { GroupBook } from './group-book.js';
import { GroupSender } from './group-sender.js';

const ME = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const CAROL = '33333333-3333-4333-8333-333333333333';

describe('GroupSender.sendToAccounts with a full device queue', () => {
  it('sealed: the account is sent again without its full device; the full device is reported; other accounts are unaffected', async () => {
    const calls: Array<{ accountId: string; only?: number[] }> = [];
    const sender = {
      async sendToAccount(accountId: string, _content: Uint8Array, _ts: number, o: { onlyDevices?: number[] } = {}) {
        calls.push({ accountId, ...(o.onlyDevices ? { only: o.onlyDevices } : {}) });
        if (accountId === BOB && !o.onlyDevices) {
          // Before: this error failed the whole group send.
          throw new ServerError(507, 'QUEUE_FULL', 'the recipient’s device 2 is full', {
            code: 'QUEUE_FULL',
            message: 'the recipient’s device 2 is full',
            retryAfterSeconds: 60,
            full: [{ accountId: BOB, deviceIds: [2] }],
          });
        }
        return 1;
      },
    } as unknown as Sender;
    const devices: Record<string, number[]> = { [BOB]: [1, 2, 3], [CAROL]: [1] };
    const ctx = {
      me: () => ({ accountId: ME, deviceId: 1 }),
      store: { usableDevices: (a: string) => devices[a] ?? [] },
    } as unknown as Ctx;
    const sealed = { accessKeyFor: () => new Uint8Array(16) } as unknown as SealedSender;
    const g = new GroupSender(ctx, sender, {} as MultiSender, {} as GroupBook, sealed);
    const r = await g.sendToAccounts([BOB, CAROL], new Uint8Array([1]), 1);
    expect(r).toEqual({ devices: 3, undelivered: [{ accountId: BOB, deviceIds: [2] }] });
    expect(calls).toHaveLength(3);
    expect(calls).toEqual(expect.arrayContaining([{ accountId: BOB }, { accountId: CAROL }, { accountId: BOB, only: [1, 3] }]));
  });

  it('a full disk (507 STORAGE_FULL) is still an error', async () => {
    const sender = {
      async sendToAccount() {
        throw new ServerError(507, 'STORAGE_FULL', 'the server’s storage is full', { code: 'STORAGE_FULL', message: 'full' });
      },
    } as unknown as Sender;
    const ctx = { me: () => ({ accountId: ME, deviceId: 1 }), store: { usableDevices: () => [1] } } as unknown as Ctx;
    const sealed = { accessKeyFor: () => new Uint8Array(16) } as unknown as SealedSender;
    const g = new GroupSender(ctx, sender, {} as MultiSender, {} as GroupBook, sealed);
    await expect(g.sendToAccounts([BOB], new Uint8Array([1]), 1)).rejects.toMatchObject({ code: 'STORAGE_FULL' });
  });
});
