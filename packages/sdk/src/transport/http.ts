import {
  deviceAuthorization,
  DeviceListResponse,
  ErrorBody,
  LinkCodeResponse,
  LinkCompleteResponse,
  LinkFetchResponse,
  LinkStatusResponse,
  PreKeyBundleResponse,
  PreKeyCountResponse,
  RegisterResponse,
  Routes,
  routeParts,
  UsernameLookupResponse,
  WhoAmIResponse,
  SubscriptionInfo,
  SenderCertificateResponse,
  TrustRootResponse,
  UNIDENTIFIED_ACCESS_HEADER,
  type SealedMultiRequest,
  MemberInviteResponse,
  ProfileResponse,
  RelayResponse,
  type KeyUploadRequest,
  type LinkCompleteRequest,
  type RegisterRequest,
  type ReregisterRequest,
  type RouteName,
  type SendRequest,
  type MultiSendRequest,
  type SetProfileRequest,
} from '@kluis/protocol';
import type { TSchema, Static } from '@sinclair/typebox';
import type { Readable } from 'node:stream';
import { ATTACHMENT_CONTENT_TYPE, AttachmentStatus, CreateAttachmentResponse } from '@kluis/protocol';
import { readSmallBody, streamRequest, type StreamResponse } from './stream-request.js';
import { NetworkError, ServerError } from '../errors.js';
import { check, expectShape } from './validate.js';

export interface Credentials {
  accountId: string;
  deviceId: number;
  password: string;
}

export interface RawResponse {
  status: number;
  body: unknown;
}

export interface HttpOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function normalizeServerUrl(url: string): string {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`server URL must be http(s): ${url}`);
  return u.toString().replace(/\/+$/, '');
}

/** HTTP client for the subscriber API. Every response body is checked against its schema. */
export class HttpApi {
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  /** Requests waiting for an answer, by route (diagnostics: no ids, no bodies). */
  private readonly inFlight = new Set<{ route: RouteName; since: number }>();

  constructor(
    readonly baseUrl: string,
    private readonly credentials?: () => Credentials | undefined,
    opts: HttpOptions = {},
  ) {
    this.baseUrl = normalizeServerUrl(baseUrl);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.fetchImpl = opts.fetch ?? fetch;
  }

  /** Requests in flight now: route and age. */
  pending(now = Date.now()): Array<{ route: RouteName; ms: number }> {
    return [...this.inFlight].map((p) => ({ route: p.route, ms: now - p.since }));
  }

  authorization(): string | undefined {
    const c = this.credentials?.();
    return c ? deviceAuthorization(c.accountId, c.deviceId, c.password) : undefined;
  }

  /** Performs a request and returns status + parsed body, without mapping errors. */
  async raw(
    route: RouteName,
    o: { params?: Record<string, string | number>; body?: unknown; auth?: boolean; headers?: Record<string, string> } = {},
  ): Promise<RawResponse> {
    const { method, path } = routeParts(Routes[route]);
    const url =
      this.baseUrl +
      path.replace(/:([a-zA-Z]+)/g, (_, k: string) => {
        const v = o.params?.[k];
        if (v === undefined) throw new Error(`missing path parameter ${k} for ${route}`);
        return encodeURIComponent(String(v));
      });
    const headers: Record<string, string> = { ...o.headers };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (o.auth !== false) {
      const a = this.authorization();
      if (a) headers.authorization = a;
    }
    let res: Response;
    let text: string;
    const pending = { route, since: Date.now() };
    this.inFlight.add(pending);
    try {
      try {
        res = await this.fetchImpl(url, {
          method,
          headers,
          body: o.body === undefined ? undefined : JSON.stringify(o.body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (e) {
        throw new NetworkError(`${method} ${path}: ${(e as Error).message}`, { cause: e });
      }
      try {
        text = await res.text();
      } catch (e) {
        throw new NetworkError(`${method} ${path}: ${(e as Error).message}`, { cause: e });
      }
    } finally {
      this.inFlight.delete(pending);
    }
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: res.status, body };
  }

  /** Performs a request; non-2xx becomes ServerError; a 2xx body is validated against `schema`. */
  async call<S extends TSchema | undefined>(
    route: RouteName,
    schema: S,
    o: { params?: Record<string, string | number>; body?: unknown; auth?: boolean } = {},
  ): Promise<S extends TSchema ? Static<S> : unknown> {
    const r = await this.raw(route, o);
    if (r.status < 200 || r.status >= 300) throw toServerError(r);
    if (!schema) return r.body as never;
    return expectShape(schema, r.body, route) as never;
  }

  register(req: RegisterRequest) {
    return this.call('register', RegisterResponse, { body: req, auth: false });
  }
  reregister(req: ReregisterRequest) {
    return this.call('reregister', undefined, { body: req });
  }
  whoami() {
    return this.call('whoami', WhoAmIResponse);
  }
  subscription() {
    return this.call('getSubscription', SubscriptionInfo);
  }
  renew(code: string) {
    return this.call('renewSubscription', SubscriptionInfo, { body: { code } });
  }
  createMemberInvite() {
    return this.call('createMemberInvite', MemberInviteResponse);
  }
  lookupUsername(username: string) {
    return this.call('lookupUsername', UsernameLookupResponse, { params: { username } });
  }
  uploadKeys(req: KeyUploadRequest) {
    return this.call('uploadKeys', undefined, { body: req });
  }
  keyCount() {
    return this.call('keyCount', PreKeyCountResponse);
  }
  // Sealed sender: the sealed sends carry no device credential, only the access key.
  getTrustRoot() {
    return this.call('getTrustRoot', TrustRootResponse, { auth: false });
  }
  getSenderCertificate() {
    return this.call('getSenderCertificate', SenderCertificateResponse);
  }
  setAccessKey(accessKey: Uint8Array, unrestricted: boolean) {
    return this.call('setAccessKey', undefined, { body: { accessKey: Buffer.from(accessKey).toString('base64'), unrestricted } });
  }
  sendSealed(accountId: string, req: SendRequest, accessKey: Uint8Array): Promise<RawResponse> {
    return this.raw('sendSealed', {
      params: { accountId },
      body: req,
      auth: false,
      headers: { [UNIDENTIFIED_ACCESS_HEADER]: Buffer.from(accessKey).toString('base64') },
    });
  }
  sendSealedMulti(req: SealedMultiRequest, accessKey: Uint8Array): Promise<RawResponse> {
    return this.raw('sendSealedMulti', {
      body: req,
      auth: false,
      headers: { [UNIDENTIFIED_ACCESS_HEADER]: Buffer.from(accessKey).toString('base64') },
    });
  }

  fetchBundles(accountId: string, deviceId: number | '*') {
    return this.call('fetchBundles', PreKeyBundleResponse, { params: { accountId, deviceId } });
  }
  listDevices() {
    return this.call('listDevices', DeviceListResponse);
  }
  removeDevice(deviceId: number) {
    return this.call('removeDevice', undefined, { params: { deviceId } });
  }
  createLinkCode() {
    return this.call('createLinkCode', LinkCodeResponse, { body: {} });
  }
  linkStatus(code: string) {
    return this.call('linkStatus', LinkStatusResponse, { body: { code } });
  }
  provisionLink(code: string, sealed: string) {
    return this.call('provisionLink', undefined, { body: { code, sealed } });
  }
  linkRequest(code: string, publicKey: string) {
    return this.call('linkRequest', undefined, { body: { code, publicKey }, auth: false });
  }
  linkFetch(code: string) {
    return this.call('linkFetch', LinkFetchResponse, { body: { code }, auth: false });
  }
  linkComplete(req: LinkCompleteRequest) {
    return this.call('linkComplete', LinkCompleteResponse, { body: req, auth: false });
  }
  setProfile(req: SetProfileRequest) {
    return this.call('setProfile', undefined, { body: req });
  }
  /** Undefined (404) when the account has no profile, or no longer exists. */
  async getProfile(accountId: string): Promise<ProfileResponse | undefined> {
    const r = await this.raw('getProfile', { params: { accountId } });
    if (r.status === 404) return undefined;
    if (r.status < 200 || r.status >= 300) throw toServerError(r);
    return expectShape(ProfileResponse, r.body, 'getProfile');
  }
  callRelay() {
    return this.call('callRelay', RelayResponse);
  }
  // Attachments: the blob bytes travel as streams (never buffered), the rest as JSON.
  createAttachment(size: number) {
    return this.call('createAttachment', CreateAttachmentResponse, { body: { size } });
  }
  attachmentStatus(id: string) {
    return this.call('attachmentStatus', AttachmentStatus, { params: { id } });
  }
  /** PUT `length` bytes of `body` from `offset`; returns the raw status (409 carries `received`). */
  async uploadAttachmentBytes(id: string, offset: number, body: Readable, length: number, idleMs = this.timeoutMs): Promise<RawResponse> {
    const headers: Record<string, string> = { 'content-type': ATTACHMENT_CONTENT_TYPE, 'content-length': String(length) };
    const auth = this.authorization();
    if (auth) headers.authorization = auth;
    const res = await streamRequest(`${this.attachmentUrl(id)}?offset=${offset}`, { method: 'PUT', headers, body, idleMs });
    return { status: res.status, body: await readSmallBody(res.body) };
  }
  /** GET the blob from `offset` (Range); the caller reads or destroys `body`. */
  downloadAttachmentBytes(id: string, offset: number, idleMs = this.timeoutMs): Promise<StreamResponse> {
    const headers: Record<string, string> = {};
    const auth = this.authorization();
    if (auth) headers.authorization = auth;
    if (offset > 0) headers.range = `bytes=${offset}-`;
    return streamRequest(this.attachmentUrl(id), { method: 'GET', headers, idleMs });
  }
  private attachmentUrl(id: string): string {
    return `${this.baseUrl}${routeParts(Routes.downloadAttachment).path.replace(':id', encodeURIComponent(id))}`;
  }
  /** Returns the raw status: 200, 409 and 410 are handled by the send pipeline. */
  sendMessage(accountId: string, req: SendRequest): Promise<RawResponse> {
    return this.raw('sendMessage', { params: { accountId }, body: req });
  }
  /** PUT /v1/messages, raw: 200, 404 (unknown accounts), 409 and 410 are the caller's to handle. */
  sendMulti(req: MultiSendRequest): Promise<RawResponse> {
    return this.raw('sendMulti', { body: req });
  }
}

export function toServerError(r: RawResponse): ServerError {
  if (check(ErrorBody, r.body)) return new ServerError(r.status, r.body.code, r.body.message, r.body);
  return new ServerError(r.status, `HTTP_${r.status}`, `server answered ${r.status}`, r.body);
}
