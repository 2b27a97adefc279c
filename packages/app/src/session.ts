import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, SdkErrorCode, type ClientDiagnostics, type ClientEvents } from '@kluis/sdk';
import { AppErrorCode, type StateName } from './api/index.js';
import type { AppEvent, AppEventMap } from './api/events.js';
import { AppError } from './errors.js';

export type AppStateName = StateName;
export type { AppEvent };

const FORWARDED = [
  'message',
  'message-updated',
  'message-removed',
  'typing',
  'call-signal',
  'group-updated',
  'connection',
  'identity-changed',
  'messages-missing',
  'subscription-expiring',
] as const satisfies ReadonlyArray<keyof ClientEvents & keyof AppEventMap>;
type Forwarded = (typeof FORWARDED)[number];
/** Fails to compile when an SDK event no longer fits what the contract promises the page. */
type Fits<T extends { [K in Forwarded]: ClientEvents[K][0] extends AppEventMap[K] ? K : never }> = T;
export type ForwardedEventsFit = Fits<{ [K in Forwarded]: K }>;

/**
 * The SDK keeps no copy of what we sent, so our own attachments are kept in memory for this
 * unlocked session (never written to disk in the clear), up to this many bytes.
 */
const SENT_CACHE_BYTES = 64 * 1024 * 1024;

interface PendingUpload {
  path: string;
  fileName: string;
  contentType: string;
  voiceNote?: boolean;
  durationMs?: number;
}

/** A link request waiting for the user to compare the verification number on the primary. */
interface PendingApproval {
  code: string;
  verification?: string;
  answer?: (ok: boolean) => void;
}

/**
 * One profile, locked or unlocked, behind the local API. The passphrase is used to open
 * the store and then forgotten; locking closes the client (keys leave memory with it).
 */
export class AppSession {
  private client: Client | undefined;
  private readonly listeners = new Set<(e: AppEvent) => void>();
  private readonly uploads = new Map<string, PendingUpload>();
  private approval: PendingApproval | undefined;
  private readonly sent = new Map<string, { bytes: Buffer; contentType: string }>();
  private sentBytes = 0;
  private busy: Promise<unknown> = Promise.resolve();

  constructor(
    readonly profileName: string,
    readonly profileDir: string,
    private readonly log: (line: string) => void = () => {},
    readonly defaultServerUrl?: string,
  ) {}

  get state(): AppStateName {
    if (this.client) return this.client.isRegistered ? 'unlocked' : 'new';
    return existsSync(join(this.profileDir, 'kluis.db')) ? 'locked' : 'new';
  }

  get tmpDir(): string {
    return join(this.profileDir, 'app-tmp');
  }

  onEvent(fn: (e: AppEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit<K extends keyof AppEventMap>(type: K, data: AppEventMap[K]): void {
    for (const fn of this.listeners) fn({ type, data } as AppEvent);
  }

  /** What the client is busy with (undefined while locked): for the slow-request log. */
  diagnostics(): ClientDiagnostics | undefined {
    return this.client?.isRegistered ? this.client.diagnostics() : undefined;
  }

  /** The unlocked client; the API's routes other than onboarding need it. */
  requireClient(): Client {
    if (!this.client?.isRegistered) throw new AppError(423, AppErrorCode.Locked, 'unlock the app first');
    return this.client;
  }

  /** One onboarding step at a time: a double click must not open the store twice. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.busy.then(fn, fn);
    this.busy = p.catch(() => {});
    return p;
  }

  async register(o: { serverUrl: string; inviteCode: string; username: string; passphrase: string; deviceName: string }): Promise<void> {
    await this.serial(() =>
      this.enrol(o.passphrase, (c) => c.register({ serverUrl: o.serverUrl, inviteCode: o.inviteCode, username: o.username, deviceName: o.deviceName })),
    );
  }

  /** This machine as a new device of an existing account (the primary shows the code). */
  async link(o: { serverUrl: string; code: string; passphrase: string; deviceName: string }): Promise<void> {
    await this.serial(() =>
      this.enrol(o.passphrase, (c) =>
        c.link({
          serverUrl: o.serverUrl,
          code: o.code,
          deviceName: o.deviceName,
          timeoutMs: 10 * 60_000,
          onVerification: (verification) => this.emit('link-verification', { verification }),
        }),
      ),
    );
  }

  private async enrol(passphrase: string, step: (c: Client) => Promise<void>): Promise<void> {
    if (this.state !== 'new') throw new AppError(409, SdkErrorCode.AlreadyRegistered, 'this profile already holds an account');
    const fresh = !existsSync(join(this.profileDir, 'kluis.db'));
    const client = this.client ?? (await Client.open({ profileDir: this.profileDir, passphrase }));
    try {
      await step(client);
    } catch (e) {
      // A refused invite must not leave behind a store keyed with a passphrase the user
      // may not retype the same way next time.
      if (fresh) {
        await client.close().catch(() => {});
        await rm(join(this.profileDir, 'kluis.db'), { force: true });
        this.client = undefined;
      } else this.client = client;
      throw e;
    }
    this.client = client;
    await this.start(client);
  }

  async unlock(passphrase: string): Promise<void> {
    await this.serial(async () => {
      if (this.client) return;
      const client = await Client.open({ profileDir: this.profileDir, passphrase });
      this.client = client;
      if (client.isRegistered) await this.start(client);
    });
  }

  private async start(client: Client): Promise<void> {
    // A closing client can still emit (a receipt, a last frame): once it is locked away the
    // page must not hear of it, or it asks for data the locked host cannot give.
    for (const type of FORWARDED) client.on(type, ((data: never) => this.client === client && this.emit(type, data)) as never);
    client.on('error', (e) => this.log(`kluis: ${e.message}`));
    this.emit('state', { state: this.state });
    // Offline is fine: the SDK's socket keeps retrying, and the UI shows the connection state.
    await client.connect().catch((e: Error) => this.log(`kluis: not connected yet: ${e.message}`));
  }

  async lock(): Promise<void> {
    await this.serial(async () => {
      const c = this.client;
      this.client = undefined;
      this.approval?.answer?.(false);
      this.approval = undefined;
      this.sent.clear();
      this.sentBytes = 0;
      await this.clearUploads();
      if (c) await c.close();
      this.emit('state', { state: this.state });
    });
  }

  // ------------------------------------------------------------ uploads

  async addUpload(bytes: Buffer, fileName: string, contentType: string, voice?: { durationMs?: number }): Promise<string> {
    this.requireClient();
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    const id = randomBytes(12).toString('hex');
    const path = join(this.tmpDir, `up-${id}`);
    await writeFile(path, bytes, { mode: 0o600 });
    this.uploads.set(id, { path, fileName, contentType, ...(voice ? { voiceNote: true, ...(voice.durationMs ? { durationMs: voice.durationMs } : {}) } : {}) });
    return id;
  }

  takeUploads(ids: string[]): PendingUpload[] {
    return ids.map((id) => {
      const u = this.uploads.get(id);
      if (!u) throw new AppError(400, AppErrorCode.UnknownFile, `no uploaded file ${id}`);
      this.uploads.delete(id);
      return u;
    });
  }

  /** Remembers the files of a message we just sent, so our own previews work (oldest dropped first). */
  async keepSent(messageId: string, files: PendingUpload[]): Promise<void> {
    for (const [index, f] of files.entries()) {
      const bytes = await readFile(f.path);
      if (bytes.length > SENT_CACHE_BYTES) continue;
      this.sent.set(`${messageId}/${index}`, { bytes, contentType: f.contentType });
      this.sentBytes += bytes.length;
    }
    for (const [key, v] of this.sent) {
      if (this.sentBytes <= SENT_CACHE_BYTES) break;
      this.sent.delete(key);
      this.sentBytes -= v.bytes.length;
    }
  }

  sentFile(messageId: string, index: number): { bytes: Buffer; contentType: string } | undefined {
    return this.sent.get(`${messageId}/${index}`);
  }

  async clearUploads(): Promise<void> {
    const all = [...this.uploads.values()];
    this.uploads.clear();
    await Promise.all(all.map((u) => unlink(u.path).catch(() => {})));
  }

  // ------------------------------------------------------------ linking (primary side)

  /** Creates a code and waits (in the background) for the new device; the UI approves. */
  async startLink(): Promise<{ code: string; expiresAt: number }> {
    const client = this.requireClient();
    if (this.approval) this.approval.answer?.(false);
    const { code, expiresAt } = await client.devices.createLinkCode();
    const pending: PendingApproval = { code };
    this.approval = pending;
    client
      .devices.approveLink(code, {
        timeoutMs: Math.max(1000, expiresAt - Date.now()),
        confirm: (verification) =>
          new Promise<boolean>((resolve) => {
            pending.verification = verification;
            pending.answer = resolve;
            this.emit('link-request', { code, verification });
          }),
      })
      .then(
        ({ deviceId }) => this.emit('link-done', { code, deviceId }),
        (e: Error) => this.emit('link-failed', { code, error: (e as { code?: string }).code ?? SdkErrorCode.LinkFailed }),
      )
      .finally(() => {
        if (this.approval === pending) this.approval = undefined;
      });
    return { code, expiresAt };
  }

  answerLink(code: string, approve: boolean): void {
    const a = this.approval;
    if (!a || a.code !== code || !a.answer) throw new AppError(409, AppErrorCode.NoLinkRequest, 'no device is waiting for approval with this code');
    a.answer(approve);
    a.answer = undefined;
  }

  async close(): Promise<void> {
    await this.lock();
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}
