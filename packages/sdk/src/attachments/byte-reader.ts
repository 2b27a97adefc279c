/**
 * Pulls exact byte counts out of a chunked stream, for the container parsers in
 * sanitize.ts: headers are buffered (a few bytes), bodies are passed or skipped in
 * the chunks they arrive in, so a large image never sits in memory whole.
 */
export class ByteReader {
  private buf = Buffer.alloc(0);
  private readonly it: AsyncIterator<Uint8Array>;
  private ended = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.it.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.buf = this.buf.byteLength === 0 ? Buffer.from(next.value) : Buffer.concat([this.buf, next.value]);
    return true;
  }

  /** Exactly n bytes, or whatever is left (shorter) at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.buf.byteLength < n && (await this.pull()));
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.byteLength);
    return out;
  }

  /** Up to n bytes, yielded as they come. */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.byteLength === 0 && !(await this.pull())) return;
      const out = this.buf.subarray(0, Math.min(left, this.buf.byteLength));
      this.buf = this.buf.subarray(out.byteLength);
      left -= out.byteLength;
      yield out;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n));
  }

  async *rest(): AsyncGenerator<Buffer> {
    if (this.buf.byteLength > 0) yield this.buf;
    this.buf = Buffer.alloc(0);
    while (await this.pull()) {
      const out = this.buf;
      this.buf = Buffer.alloc(0);
      yield out;
    }
  }
}
