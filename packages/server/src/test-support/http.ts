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

/**
 * Bytes straight onto a TCP connection (for what fetch cannot send: malformed request
 * lines, oversized headers, bad chunking): the status and parsed JSON body of the answer.
 */
export async function rawRequest(baseUrl: string, data: string | Uint8Array, timeoutMs = 5000): Promise<HttpResult & { raw: string }> {
  const { connect } = await import('node:net');
  const { hostname, port } = new URL(baseUrl);
  const raw = await new Promise<string>((resolve) => {
    const socket = connect(Number(port), hostname);
    let out = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (d) => (out += d.toString('utf8')));
    socket.on('error', done);
    socket.on('close', done);
    socket.write(data);
  });
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = new Headers();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let text = rest.join('\r\n\r\n');
  // Chunked answers (Node's own): keep the first chunk's data, enough for a small JSON body.
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) text = text.split('\r\n')[1] ?? '';
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // leave as text
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), body, headers, raw };
}
