import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { Harness, REPO_ROOT, type CliProcess, type TestServer } from '../harness/index.js';
import { launchChromium } from './chromium.js';

/** What the browser tests of `kluis app` share: one server, real `kluis app` hosts, Chromium pages. */

export const OUT = join(REPO_ROOT, 'test-output', 'browser');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const PASSPHRASE = 'correct horse battery staple';
/** Live updates take a moment across two hosts and a server: poll for longer than vitest's 1 s default. */
export const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000 });
export const shot = (p: Page, name: string) => p.screenshot({ path: join(OUT, `app-${name}.png`) });

export const conv = (p: Page, title: string | RegExp) => p.getByTestId('conversations').getByRole('button', { name: title });

/** A new direct chat from the sidebar's "New chat" field. */
export async function startChat(p: Page, username: string): Promise<void> {
  await p.getByLabel('New chat').fill(username);
  await p.getByRole('button', { name: 'Start' }).click();
  await p.getByRole('heading', { level: 1, name: username }).waitFor();
}

export async function openPane(p: Page, button: string, heading: string | RegExp): Promise<void> {
  await p.getByRole('button', { name: button, exact: true }).click();
  await p.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** A small real PNG without metadata chunks (so the SDK's sanitizer leaves its bytes alone). */
export function png(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows: number[] = [];
  for (let y = 0; y < height; y++) {
    rows.push(0);
    for (let x = 0; x < width; x++) rows.push((x * 4) & 0xff, (y * 5) & 0xff, 180);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Runs in the page before the app: Notification becomes a recorder that is always allowed
 * (headless Chromium shows nothing to look at), and the tab reports hidden while
 * `__kluisHidden` is set, since the app notifies only for a tab in the background.
 */
export const FAKE_DESKTOP = `(() => {
  window.__kluisNotes = [];
  window.__kluisHidden = false;
  class RecordingNotification {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, options = {}) { window.__kluisNotes.push({ title, body: options.body ?? '', tag: options.tag ?? '' }); }
    close() {}
    addEventListener() {}
    removeEventListener() {}
  }
  window.Notification = RecordingNotification;
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => window.__kluisHidden });
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (window.__kluisHidden ? 'hidden' : 'visible') });
})()`;

export interface Note {
  title: string;
  body: string;
}
export const notes = (p: Page) => p.evaluate('window.__kluisNotes') as Promise<Note[]>;
export const setHidden = (p: Page, hidden: boolean) => p.evaluate(`window.__kluisHidden = ${hidden}`);

export interface AppPage {
  name: string;
  proc: CliProcess;
  url: string;
  origin: string;
  token: string;
  /** Every address this profile's host had (a restarted host gets a new port). */
  hosts: string[];
  context: BrowserContext;
  page: Page;
  /** Every request and socket the page opened, and anything that went wrong in it. */
  requests: string[];
  problems: string[];
}

export interface OpenOptions {
  viewport?: { width: number; height: number };
  /** Granted without a prompt; the microphone by default (for voice notes). */
  permissions?: string[];
  /** Runs on the new page before it loads the app: init scripts, a fake clock. */
  prepare?: (page: Page) => Promise<void>;
}

/**
 * One test file's world: a server, CLI settings for it, Chromium, and every app opened
 * (so a failure can show what each host and page went through). `start` in beforeAll,
 * `stop` in afterAll.
 */
export class AppWorld {
  readonly h = new Harness();
  browser!: Browser;
  server!: Pick<TestServer, 'url' | 'dataDir' | 'operatorToken' | 'mintInvites'>;
  env!: NodeJS.ProcessEnv;
  readonly opened: AppPage[] = [];

  /** `server`: another server than the default in-process one (a child process, a proxy in front). */
  async start(chromiumArgs: string[] = [], server?: AppWorld['server']): Promise<void> {
    await mkdir(OUT, { recursive: true });
    this.browser = await launchChromium(chromiumArgs);
    this.server = server ?? (await this.h.startServer({ argon2MemoryKib: 64, argon2Iterations: 1 }));
    this.env = await this.h.cliEnv({ KLUIS_PASSPHRASE: PASSPHRASE, KLUIS_SERVER: this.server.url });
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    await this.h.dispose();
  }

  /** `kluis app` as a real process; resolves once it printed its address. */
  async startApp(profile: string): Promise<Pick<AppPage, 'proc' | 'url' | 'origin' | 'token'>> {
    // The app asks for the passphrase in the page, never from the environment.
    const proc = this.h.spawnCli(['--profile', profile, 'app'], { ...this.env, KLUIS_PASSPHRASE: '' });
    const [, url] = await proc.waitFor(/^app: (\S+)$/m, 60_000);
    const u = new URL(url!);
    return { proc, url: url!, origin: u.origin, token: /token=([0-9a-f]+)/.exec(u.hash)![1]! };
  }

  async openApp(name: string, o: OpenOptions = {}): Promise<AppPage> {
    const app = await this.startApp(name);
    const context = await this.browser.newContext({ viewport: o.viewport ?? DESKTOP, locale: 'en-US', acceptDownloads: true, permissions: o.permissions ?? ['microphone'] });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const a: AppPage = { name, ...app, hosts: [new URL(app.origin).host], context, page, requests: [], problems: [] };
    this.opened.push(a);
    page.on('request', (r) => a.requests.push(r.url()));
    page.on('websocket', (ws) => a.requests.push(ws.url()));
    // Failed API calls are listed by URL (Chromium's console line for them names no URL).
    page.on('console', (m) => void (m.type() === 'error' && !/^Failed to load resource/.test(m.text()) && a.problems.push(`console: ${m.text()}`)));
    page.on('response', (r) => void (r.status() >= 400 && a.problems.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`)));
    page.on('pageerror', (e) => a.problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => void d.accept());
    await o.prepare?.(page);
    const res = await page.goto(app.url);
    expect(res?.headers()['content-security-policy']).toMatch(/^default-src 'self'; script-src 'self'; style-src 'self'/);
    expect(res?.headers()['access-control-allow-origin']).toBeUndefined();
    // The token left the address bar at once (it lives in this tab's sessionStorage only).
    await page.waitForFunction('location.hash === ""');
    return a;
  }

  /** A restarted host prints a new token: the same tab opens the new address. */
  async reopen(a: AppPage): Promise<void> {
    const app = await this.startApp(a.name);
    Object.assign(a, app);
    a.hosts.push(new URL(app.origin).host);
    await a.page.goto(app.url);
  }

  /** Fills the onboarding form; `shotAs` also saves a screenshot of it filled in. */
  async register(a: AppPage, invite: string, shotAs?: string): Promise<void> {
    const p = a.page;
    // KLUIS_SERVER was set for `kluis app`: the form starts with it.
    expect(await p.getByLabel('Server address', { exact: true }).inputValue()).toBe(this.server.url);
    await p.getByLabel('Server address', { exact: true }).fill(this.server.url);
    await p.getByLabel('Invite code', { exact: true }).fill(invite);
    await p.getByLabel('Username', { exact: true }).fill(a.name);
    await p.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await p.getByLabel('Repeat the passphrase').fill(PASSPHRASE);
    if (shotAs) await shot(p, shotAs);
    await p.getByRole('button', { name: 'Create account' }).click();
    await p.getByTestId('me').getByText(a.name).waitFor({ timeout: 60_000 });
  }

  /** `device` (a fresh app) becomes a linked device of `primary`'s account, approved in both pages. */
  async link(primary: AppPage, device: AppPage, shotAs?: string): Promise<void> {
    await openPane(primary.page, 'Devices', 'Devices');
    // The pane's list first: a click before the pane has loaded can be lost.
    await primary.page.getByTestId('devices').getByText('This device').waitFor();
    await primary.page.getByRole('button', { name: 'Link a new device' }).click();
    const linkCode = (await primary.page.getByTestId('link-code').textContent())!.trim();
    const p = device.page;
    await p.getByRole('radio', { name: 'Link to my existing account' }).check();
    await p.getByLabel('Server address', { exact: true }).fill(this.server.url);
    await p.getByLabel('Link code', { exact: true }).fill(linkCode);
    await p.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await p.getByLabel('Repeat the passphrase').fill(PASSPHRASE);
    await p.getByRole('button', { name: 'Link this device' }).click();
    const shown = (await p.getByTestId('link-verification').textContent())!;
    expect(await primary.page.getByTestId('link-verification').textContent()).toBe(shown);
    if (shotAs) await shot(primary.page, shotAs);
    await primary.page.getByRole('button', { name: 'The numbers match: approve' }).click();
    await primary.page.getByText(/^Device \d+ is linked\.$/).waitFor({ timeout: 30_000 });
    await p.getByTestId('me').getByText(primary.name).waitFor({ timeout: 30_000 });
  }

  /** For onTestFailed: a timeout alone says little, so show each page's failures and the end of each host's output. */
  async showFailures(): Promise<void> {
    for (const a of this.opened) {
      console.error(`--- ${a.name}: page problems\n${a.problems.join('\n') || '(none)'}`);
      console.error(`--- ${a.name}: host stderr (last 4 KiB)\n${a.proc.stderr.slice(-4096) || '(empty)'}`);
      await a.page.screenshot({ path: join(OUT, `failed-${a.name}.png`), timeout: 5_000 }).catch(() => {});
    }
  }
}
