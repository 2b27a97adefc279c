import { pb } from '@kluis/protocol';

/**
 * Collects receipts per sender account and sends them in one message after a short pause,
 * so a backlog of 500 messages gives one receipt per sender, not 500.
 */
export class ReceiptBatcher {
  private readonly pending = new Map<string, { type: pb.ReceiptMessage_Type; timestamps: Set<number> }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (accountId: string, type: pb.ReceiptMessage_Type, timestamps: number[]) => void,
    private readonly delayMs = 200,
  ) {}

  add(accountId: string, type: pb.ReceiptMessage_Type, timestamp: number): void {
    const key = `${type}:${accountId}`;
    const entry = this.pending.get(key) ?? { type, timestamps: new Set<number>() };
    entry.timestamps.add(timestamp);
    this.pending.set(key, entry);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batches = [...this.pending.entries()];
    this.pending.clear();
    for (const [key, e] of batches) {
      const accountId = key.slice(key.indexOf(':') + 1);
      const all = [...e.timestamps].sort((a, b) => a - b);
      for (let i = 0; i < all.length; i += 1000) this.send(accountId, e.type, all.slice(i, i + 1000));
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
