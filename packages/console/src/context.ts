import type { Api } from './api.js';
import type { AdminMe, BrandView } from './types.js';

/** What every screen gets: the API with this session's token, who that token is, and feedback. */
export interface ConsoleContext {
  api: Api;
  me: AdminMe;
  isOperator: boolean;
  /** Brands this admin may see (a brand admin: its own), fetched once per screen. */
  brands(): Promise<BrandView[]>;
  /** The brand chosen on the plans/codes/accounts screens, kept while switching screens. */
  selectedBrand: string | null;
  notify(kind: 'ok' | 'error', text: string): void;
  /** Shows an API failure: the server's own sentence (it names the reason). */
  fail(err: unknown): void;
  rerender(): void;
}
