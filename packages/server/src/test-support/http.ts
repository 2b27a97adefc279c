export interface HttpResult {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary bodies
  body: any;
  headers: Headers;
}

/** A plain fetch wrapper: JSON in, status + parsed JSON out. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string | Uint8Array; auth?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | Uint8Array | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  if (opts.auth) headers.authorization = opts.auth;
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // leave as text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
