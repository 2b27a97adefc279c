import { AdminMe } from '@kluis/protocol';
import { defineRoute } from './route.js';

/** Who this token is: the console uses it to sign in and to show only what the role allows. */
export const adminMe = defineRoute({
  name: 'adminMe',
  auth: 'admin',
  summary: 'The admin this token belongs to',
  response: AdminMe,
  async handler(_ctx, { auth }) {
    return { id: auth.id, name: auth.name, role: auth.role, brand: auth.brandId };
  },
});
