import { randomInt } from 'node:crypto';

/**
 * Positions in one device queue's lane: 2^27 (134 million) before the queue moves to a
 * new lane. Lanes are aligned slots between 2^32 and 2^47: a million of them, far more
 * than devices, and every position stays an exact JavaScript number.
 */
export const LANE_SIZE = 2 ** 27;
const FIRST_SLOT = 2 ** 32 / LANE_SIZE;
const END_SLOT = 2 ** 47 / LANE_SIZE;
/** Random draws before giving up on finding a free slot (the space is ~95% free). */
const DRAWS = 256;

/** What the allocator asks the database (inside the inserting transaction). */
export interface LaneLookups {
  /** The device queue's largest stored position, if it holds any. */
  lastStored(accountId: string, deviceId: number): Promise<number | undefined>;
  /** Whether any row of any queue sits in [from, to). */
  anyStored(from: number, to: number): Promise<boolean>;
}

export class LanesExhaustedError extends Error {
  readonly code = 'LANES_EXHAUSTED' as const;
}

interface Lane {
  next: number;
  end: number;
}

/**
 * Hands out queue positions so that order holds within each device queue and nothing
 * else: one global counter would make the rows of one send adjacent (a sealed envelope to
 * Bob at 100, its sender's sync copy at 101) and so name the sender to whoever copies the
 * database. Each queue gets a slot of its own, drawn at random, counting up by one inside
 * it. A slot is taken only if it holds no stored row and no other queue of this process
 * has it, so two queues never meet; a queue with stored rows continues above them, in
 * its own slot when it alone has rows there, else in a new slot further up (positions only
 * grow within a queue). Only this process writes its SQLite file, so what it has handed
 * out plus what is stored is the whole truth.
 */
export class QueueLanes {
  private readonly lanes = new Map<string, Lane>();
  /** Slots handed to a queue by this process. */
  private readonly claimed = new Set<number>();

  /** The next position of the device's queue. Advanced even if the transaction rolls back: a gap, never a reuse. */
  async next(accountId: string, deviceId: number, db: LaneLookups): Promise<number> {
    const key = `${accountId}.${deviceId}`;
    let lane = this.lanes.get(key);
    if (!lane || lane.next >= lane.end) {
      lane = lane ? await this.fresh(Math.floor((lane.end - 1) / LANE_SIZE) + 1, db) : await this.resume(accountId, deviceId, db);
      this.lanes.set(key, lane);
    }
    return lane.next++;
  }

  /** Lanes held in memory (tests). */
  get size(): number {
    return this.lanes.size;
  }

  private async resume(accountId: string, deviceId: number, db: LaneLookups): Promise<Lane> {
    const last = await db.lastStored(accountId, deviceId);
    if (last === undefined) return this.fresh(FIRST_SLOT, db);
    const slot = Math.floor(last / LANE_SIZE);
    const end = (slot + 1) * LANE_SIZE;
    // Rows from before lanes (one counter, slot 0) or another queue's rows above ours in
    // this slot: move up rather than run into them.
    if (slot >= FIRST_SLOT && !this.claimed.has(slot) && last + 1 < end && !(await db.anyStored(last + 1, end))) {
      this.claimed.add(slot);
      return { next: last + 1, end };
    }
    return this.fresh(Math.max(FIRST_SLOT, slot + 1), db);
  }

  /** A free slot at or above `from`, drawn at random. */
  private async fresh(from: number, db: LaneLookups): Promise<Lane> {
    for (let i = 0; i < DRAWS && from < END_SLOT; i++) {
      const slot = randomInt(from, END_SLOT);
      if (this.claimed.has(slot)) continue;
      const start = slot * LANE_SIZE;
      if (await db.anyStored(start, start + LANE_SIZE)) continue;
      this.claimed.add(slot);
      return { next: start, end: start + LANE_SIZE };
    }
    throw new LanesExhaustedError(`no free queue lane above slot ${from}; the envelopes table needs compacting`);
  }
}
