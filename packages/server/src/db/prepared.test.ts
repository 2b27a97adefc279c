import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestDb, seedAccount, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { bucketedChunks, bucketFor, prepare } from './prepared.js';

let t: TestDb;

describeStores('prepared queries', (dialect) => {
  beforeEach(async () => {
    t = await openTestDb(dialect);
  });
  afterEach(() => t.close());

  it('binds arguments by index, keeping constants', async () => {
    await seedAccount(t.db, '11111111-1111-4111-8111-111111111111', 'alice');
    await seedAccount(t.db, '22222222-2222-4222-8222-222222222222', 'bob');
    const q = prepare((arg) => t.db.selectFrom('accounts').select('username').where('brand_id', '=', 'b').where('id', 'in', [arg(1), arg(0)]).orderBy('username'));
    const { rows } = await q.execute(t.db, ['22222222-2222-4222-8222-222222222222', 'nobody']);
    expect(rows).toEqual([{ username: 'bob' }]);
  });

  it('pads IN lists to a few bucket sizes', () => {
    expect([1, 2, 4, 5, 16, 17, 64, 65, 256, 300].map(bucketFor)).toEqual([1, 4, 4, 16, 16, 64, 64, 256, 256, 256]);
    const chunks = bucketedChunks(Array.from({ length: 300 }, (_, i) => i));
    expect(chunks.map((c) => c.length)).toEqual([256, 64]);
    expect(chunks[1]!.slice(43)).toEqual(Array(21).fill(299));
  });
});
