/**
 * A single re-armable timer for "run at time T" work (disappearing messages, gap checks):
 * never more than one pending timeout, unref'd so it never keeps a process alive.
 */
export class WakeTimer {
  private timer: NodeJS.Timeout | undefined;
  private at: number | undefined;
  private stopped = false;

  constructor(
    private readonly run: () => void,
    private readonly now: () => number,
  ) {}

  /** Wakes at `t` (or earlier, if already armed for earlier). */
  arm(t: number | undefined): void {
    if (this.stopped || t === undefined) return;
    if (this.at !== undefined && this.at <= t) return;
    if (this.timer) clearTimeout(this.timer);
    this.at = t;
    // setTimeout's limit is 2^31-1 ms; a later time is re-armed on the next wake.
    const delay = Math.min(Math.max(0, t - this.now()), 2_000_000_000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.at = undefined;
      this.run();
    }, delay);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
