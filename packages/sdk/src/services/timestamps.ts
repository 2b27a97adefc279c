/** Message timestamps of this device: from the clock, but strictly increasing (receivers dedupe by them). */
export class Timestamps {
  private last = 0;
  constructor(private readonly now: () => number) {}

  next(): number {
    this.last = Math.max(this.now(), this.last + 1);
    return this.last;
  }
}
