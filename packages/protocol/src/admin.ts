import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common.js';

/** POST /admin/invites (operator token as Bearer). Later issues grow /admin into brands, plans, codes. */
export const CreateInvitesRequest = Type.Object(
  {
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    expiresAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type CreateInvitesRequest = Static<typeof CreateInvitesRequest>;

export const CreateInvitesResponse = Type.Object({ codes: Type.Array(Type.String()) });
export type CreateInvitesResponse = Static<typeof CreateInvitesResponse>;
