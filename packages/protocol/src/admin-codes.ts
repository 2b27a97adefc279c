import { Type, type Static } from '@sinclair/typebox';
import { BrandSlug } from './admin-brands.js';
import { CodeInput, Timestamp, Uuid } from './common.js';

/** Largest batch minted by one request: big enough for a reseller, small enough for one transaction. */
export const MAX_CODE_BATCH = 1000;

export const CodeType = Type.Union([Type.Literal('invite'), Type.Literal('renewal')]);
export type CodeType = Static<typeof CodeType>;
export const CodeStatus = Type.Union([Type.Literal('unused'), Type.Literal('used'), Type.Literal('expired'), Type.Literal('revoked')]);
export type CodeStatus = Static<typeof CodeStatus>;

/** ISO 8601 date or date-time (`2026-06-30`, `2026-06-30T12:00:00Z`); checked again for real calendar dates. */
export const IsoDate = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2}))?$',
  description: 'ISO 8601 date (midnight UTC) or date-time with zone',
});

export const CreateCodesRequest = Type.Object(
  {
    planId: Uuid,
    type: CodeType,
    count: Type.Integer({ minimum: 1, maximum: MAX_CODE_BATCH }),
    expiresAt: Type.Optional(IsoDate),
  },
  { additionalProperties: false },
);
export type CreateCodesRequest = Static<typeof CreateCodesRequest>;

/** The only time codes are shown: the server keeps their SHA-256 hashes. */
export const CreateCodesResponse = Type.Object({
  batchId: Uuid,
  brand: BrandSlug,
  planId: Uuid,
  type: CodeType,
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  codes: Type.Array(Type.Object({ id: Uuid, code: Type.String() })),
});
export type CreateCodesResponse = Static<typeof CreateCodesResponse>;

export const CodeView = Type.Object({
  id: Uuid,
  batchId: Type.Union([Uuid, Type.Null()]),
  brand: BrandSlug,
  planId: Type.Union([Uuid, Type.Null()]),
  type: CodeType,
  /** 'member' codes were created by a subscriber within the brand's quota. */
  source: Type.Union([Type.Literal('admin'), Type.Literal('member')]),
  status: CodeStatus,
  createdAt: Timestamp,
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  /** Day only, on purpose: it cannot be matched to an account's creation time. */
  usedDay: Type.Union([Timestamp, Type.Null()]),
  revokedAt: Type.Union([Timestamp, Type.Null()]),
});
export type CodeView = Static<typeof CodeView>;

export const CodeList = Type.Object({ codes: Type.Array(CodeView) });
export type CodeList = Static<typeof CodeList>;

/** Query strings are not coerced: numbers arrive as digit strings. */
export const Limit = Type.String({ pattern: '^[0-9]{1,5}$', description: 'maximum rows (default 100, at most 10000)' });

export const ListCodesQuery = Type.Object(
  {
    status: Type.Optional(CodeStatus),
    type: Type.Optional(CodeType),
    batchId: Type.Optional(Uuid),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);
export type ListCodesQuery = Static<typeof ListCodesQuery>;

export const RevokeCodesRequest = Type.Object(
  {
    ids: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: MAX_CODE_BATCH })),
    batchId: Type.Optional(Uuid),
    codes: Type.Optional(Type.Array(CodeInput, { minItems: 1, maxItems: MAX_CODE_BATCH })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type RevokeCodesRequest = Static<typeof RevokeCodesRequest>;

export const RevokeCodesResponse = Type.Object({ revoked: Type.Integer() });
export type RevokeCodesResponse = Static<typeof RevokeCodesResponse>;
