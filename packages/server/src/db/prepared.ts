import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Executor } from './schema.js';

/*
 * Hot paths (envelope insert, page, delete on ack) run tens of thousands of times a
 * second. Building and compiling a Kysely query costs ~10 µs, more than SQLite needs
 * to run it, so those queries are compiled once, with marker values standing in for
 * the arguments, and re-bound per call. The SQL still comes from Kysely's compiler for
 * the current dialect, so nothing here is SQLite-specific.
 */

const MARK = '\u0000kluis-arg:';

/** Stands in for argument `i` while the query is compiled. */
export type Arg = (i: number) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

const arg: Arg = (i) => MARK + i;

export interface PreparedQuery<R> {
  execute(executor: Executor, args: readonly unknown[]): Promise<QueryResult<R>>;
}

export function prepare<R>(build: (arg: Arg) => Compilable<R>): PreparedQuery<R> {
  const compiled = build(arg).compile();
  const slots = compiled.parameters.map((value): number | { value: unknown } =>
    typeof value === 'string' && value.startsWith(MARK) ? Number(value.slice(MARK.length)) : { value },
  );
  return {
    execute(executor, args) {
      const parameters = slots.map((slot) => (typeof slot === 'number' ? args[slot] : slot.value));
      const query: CompiledQuery<R> = { ...compiled, parameters };
      return executor.executeQuery(query);
    },
  };
}

/** Sizes a variable-length IN list is padded to, so only a handful of SQL texts exist. */
export const IN_LIST_BUCKETS = [1, 4, 16, 64, 256] as const;

export function bucketFor(n: number): number {
  for (const size of IN_LIST_BUCKETS) if (n <= size) return size;
  return IN_LIST_BUCKETS[IN_LIST_BUCKETS.length - 1]!;
}

/**
 * Splits values into chunks whose lengths are buckets, padding the last chunk by
 * repeating its final value (harmless in an IN list).
 */
export function bucketedChunks<T>(values: readonly T[]): T[][] {
  const max = IN_LIST_BUCKETS[IN_LIST_BUCKETS.length - 1]!;
  const chunks: T[][] = [];
  for (let i = 0; i < values.length; i += max) {
    const chunk = values.slice(i, i + max);
    const size = bucketFor(chunk.length);
    while (chunk.length < size) chunk.push(chunk[chunk.length - 1]!);
    chunks.push(chunk);
  }
  return chunks;
}
