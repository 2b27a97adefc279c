import { Type, type Static } from '@sinclair/typebox';
import { DisplayText, Timestamp, Uuid } from './common.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

/** Brand ids are slugs: they appear in URLs, CLI flags and CSV files, and never change. */
export const BrandSlug = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,31}$', description: 'lowercase letters, digits and dashes, 2–32 characters' });
/** Shown in the console and the app: no controls, bidi overrides or invisible characters (spoofing). */
export const BrandName = DisplayText(64);
export const PlanName = DisplayText(64);
export const Color = Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: '#rrggbb' });
/** Printable ASCII only (IDNs in punycode, the rest percent-encoded): no spaces, controls or look-alikes. */
export const LogoUrl = Type.String({ pattern: '^https://[!-~]+$', maxLength: 512 });
export const Language = Type.String({ pattern: '^[a-z]{2}$', description: 'ISO 639-1 code, e.g. en or nl' });

/** Settings shared by create and update: every one optional, with the defaults the issue names. */
const brandSettings = {
  name: Type.Optional(BrandName),
  primaryColor: Type.Optional(Nullable(Color)),
  accentColor: Type.Optional(Nullable(Color)),
  logoUrl: Type.Optional(Nullable(LogoUrl)),
  defaultLanguage: Type.Optional(Language),
  membersMayInvite: Type.Optional(Type.Boolean()),
  memberInviteQuota: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  graceDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
  retentionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
};

export const CreateBrandRequest = Type.Object({ ...brandSettings, slug: BrandSlug, name: BrandName }, { additionalProperties: false });
export type CreateBrandRequest = Static<typeof CreateBrandRequest>;

export const UpdateBrandRequest = Type.Object(brandSettings, { additionalProperties: false, minProperties: 1 });
export type UpdateBrandRequest = Static<typeof UpdateBrandRequest>;

export const BrandView = Type.Object({
  slug: BrandSlug,
  name: Type.String(),
  primaryColor: Nullable(Type.String()),
  accentColor: Nullable(Type.String()),
  logoUrl: Nullable(Type.String()),
  defaultLanguage: Type.String(),
  membersMayInvite: Type.Boolean(),
  memberInviteQuota: Type.Integer(),
  graceDays: Type.Integer(),
  retentionDays: Type.Integer(),
  createdAt: Timestamp,
  retiredAt: Type.Union([Timestamp, Type.Null()]),
});
export type BrandView = Static<typeof BrandView>;

export const BrandList = Type.Object({ brands: Type.Array(BrandView) });
export type BrandList = Static<typeof BrandList>;

export const BrandParams = Type.Object({ brand: BrandSlug });
export type BrandParams = Static<typeof BrandParams>;

export const DurationUnit = Type.Union([Type.Literal('days'), Type.Literal('months')]);
export type DurationUnit = Static<typeof DurationUnit>;

export const CreatePlanRequest = Type.Object(
  {
    name: PlanName,
    durationUnit: DurationUnit,
    /** A zero-length plan would mint codes that buy nothing. */
    durationCount: Type.Integer({ minimum: 1, maximum: 3650 }),
    priceCents: Type.Integer({ minimum: 0, maximum: 100_000_000 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217, e.g. EUR' }),
  },
  { additionalProperties: false },
);
export type CreatePlanRequest = Static<typeof CreatePlanRequest>;

export const UpdatePlanRequest = Type.Object(
  {
    name: Type.Optional(PlanName),
    priceCents: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdatePlanRequest = Static<typeof UpdatePlanRequest>;

export const PlanView = Type.Object({
  id: Uuid,
  brand: BrandSlug,
  name: Type.String(),
  durationUnit: DurationUnit,
  durationCount: Type.Integer(),
  priceCents: Type.Integer(),
  currency: Type.String(),
  createdAt: Timestamp,
  retiredAt: Type.Union([Timestamp, Type.Null()]),
});
export type PlanView = Static<typeof PlanView>;

export const PlanList = Type.Object({ plans: Type.Array(PlanView) });
export type PlanList = Static<typeof PlanList>;

export const PlanParams = Type.Object({ brand: BrandSlug, planId: Uuid });
export type PlanParams = Static<typeof PlanParams>;
