/**
 * The operator API, same origin, Bearer admin token. Route strings come from the
 * protocol's own table so the console cannot drift from the server.
 */
import { routeParts, Routes, type RouteName } from '@kluis/protocol/routes';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CallOptions {
  params?: Record<string, string>;
  query?: Record<string, string | undefined>;
  body?: unknown;
}

export type Api = <T>(route: RouteName, opts?: CallOptions) => Promise<T>;

/** `onUnauthorized` runs on a 401 (revoked or mistyped token) so the app can sign out. */
export function createApi(token: string, onUnauthorized: () => void = () => {}): Api {
  return async <T>(route: RouteName, opts: CallOptions = {}): Promise<T> => {
    const { method, path } = routeParts(Routes[route]);
    const url = new URL(
      path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(opts.params?.[name] ?? '')),
      location.origin,
    );
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, v);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      throw new ApiError(0, 'NETWORK', 'network');
    }
    const text = await res.text();
    const data = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const err = (data ?? {}) as { code?: string; message?: string };
      if (res.status === 401) onUnauthorized();
      throw new ApiError(res.status, err.code ?? 'ERROR', err.message ?? res.statusText);
    }
    return data as T;
  };
}
