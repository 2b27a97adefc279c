import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ProtocolViolationError } from '../errors.js';

const cache = new WeakMap<TSchema, TypeCheck<TSchema>>();

function compiled<T extends TSchema>(schema: T): TypeCheck<T> {
  let c = cache.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    cache.set(schema, c);
  }
  return c as TypeCheck<T>;
}

export function check<T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  return compiled(schema).Check(value);
}

/** Returns value typed as the schema, or throws ProtocolViolationError naming the first mismatch. */
export function expectShape<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  const c = compiled(schema);
  if (c.Check(value)) return value;
  const first = c.Errors(value).First();
  throw new ProtocolViolationError(
    `${what}: unexpected response from the server` + (first ? ` (${first.path || '/'}: ${first.message})` : ''),
  );
}
