import { Type } from '@sinclair/typebox';
import { defineRoute } from './route.js';

export const health = defineRoute({
  name: 'health',
  auth: 'none',
  response: Type.Object({ status: Type.Literal('ok') }),
  async handler() {
    return { status: 'ok' as const };
  },
});
