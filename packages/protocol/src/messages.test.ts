import { describe, expectTypeOf, it } from 'vitest';
import type { Envelope, EnvelopeHeader } from './messages.js';

describe('Envelope', () => {
  it('names on the wire exactly the header fields the server keeps, plus the content', () => {
    // Checked by the type checker (npm run typecheck): a field added to one and not the other fails it.
    expectTypeOf<keyof Envelope>().toEqualTypeOf<keyof EnvelopeHeader | 'content'>();
  });
});
