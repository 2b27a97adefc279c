import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@kluis/sdk';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, REPO_ROOT } from '../harness/index.js';
import { launchChromium } from './chromium.js';

const OUT = join(REPO_ROOT, 'test-output', 'browser');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/**
 * Opens a console page that records anything a strict console must never do: script
 * errors, CSP violations (Chromium logs them as console errors) and requests to any
 * other origin.
 */
async function openConsole(browser: Browser, origin: string, viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport, locale: 'en-US', acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.protocol !== 'blob:' && url.origin !== origin) problems.push(`request to another origin: ${r.url()}`);
  });
  // Destructive actions ask window.confirm: the operator says yes.
  page.on('dialog', (d) => void d.accept());
  return { context, page, problems };
}

async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/console`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').waitFor();
}

async function go(page: Page, screen: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: screen, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: screen }).waitFor();
}

describe('operator console in Chromium', () => {
  const h = new Harness();
  let browser: Browser;
  const shot = (page: Page, name: string) => page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    await mkdir(OUT, { recursive: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h.dispose();
  });

  it('signs in, creates a brand and plan, mints codes, sees the new account, suspends it and the client is refused', async () => {
    const server = await h.startServer({ argon2MemoryKib: 64, argon2Iterations: 1 });
    const origin = new URL(server.url).origin;
    const { page, problems } = await openConsole(browser, origin);

    // The page comes with a strict CSP and is never cached.
    const res = await page.goto(`${server.url}/console`);
    expect(res?.headers()['content-security-policy']).toMatch(/^default-src 'self'/);
    expect(res?.headers()['cache-control']).toBe('no-store');
    await page.getByLabel('Admin token').waitFor();
    await shot(page, 'sign-in');

    // A wrong token is refused; the right one signs in and lives in sessionStorage only.
    await page.getByLabel('Admin token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token was not accepted').waitFor();
    problems.length = 0; // the refused /admin/me is logged as a failed resource load
    await signIn(page, server.url, server.operatorToken);
    expect(await page.getByTestId('who').textContent()).toContain('operator');
    const storage = await page.evaluate('[JSON.stringify(sessionStorage), JSON.stringify(localStorage), document.cookie]');
    expect((storage as string[])[0]).toContain(server.operatorToken);
    expect((storage as string[])[1]).not.toContain(server.operatorToken);
    expect((storage as string[])[2]).toBe('');
    await page.getByTestId('stats-by-brand').waitFor();

    // Brand.
    await go(page, 'Brands');
    await page.getByLabel('Slug').fill('acme');
    await page.getByLabel('Display name').fill('Acme Secure');
    await page.getByLabel('Primary colour').fill('#00aa55');
    await page.getByRole('button', { name: 'Create brand' }).click();
    await page.getByText('Brand acme created.').waitFor();
    expect(await page.getByTestId('brands').textContent()).toContain('Acme Secure');
    // Edit it: the display name changes, the slug stays.
    await page.getByTestId('brands').getByRole('row', { name: /acme/ }).getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Display name').first().fill('Acme Secure Mail');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Brand acme saved.').waitFor();
    expect(await page.getByTestId('brands').textContent()).toContain('Acme Secure Mail');
    await shot(page, 'brands');

    // Plan (the brand just created is preselected).
    await go(page, 'Plans');
    await page.getByLabel('Plan name').fill('6 months');
    await page.getByLabel('Length').fill('6');
    await page.getByLabel('Price', { exact: true }).fill('59,00');
    await page.getByRole('button', { name: 'Create plan' }).click();
    await page.getByText('Plan 6 months created for acme.').waitFor();
    expect(await page.getByTestId('plans').textContent()).toMatch(/6 months.*€59\.00/);
    await shot(page, 'plans');

    // Three invite codes, shown once, downloadable as CSV.
    await go(page, 'Codes');
    await page.getByLabel('How many').fill('3');
    await page.getByRole('button', { name: 'Mint codes' }).click();
    await page.getByText('3 codes minted.').waitFor();
    const codes = await page.getByTestId('minted-codes').locator('code').allTextContents();
    expect(codes).toHaveLength(3);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const csv = (await readFile((await download.path())!, 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('code,id,type,brand,plan,batch,expires');
    expect(csv.slice(1).map((r) => r.split(',')[0])).toEqual(codes);
    await page.getByTestId('codes-count').getByText('3 codes').waitFor();
    await shot(page, 'codes');
    // Revoke one (the last row; the list's order need not be the mint order): the list says so.
    const lastRow = page.getByTestId('codes').getByRole('row').last();
    const revokedId = await lastRow.locator('code').first().getAttribute('title');
    await lastRow.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('1 code revoked.').waitFor();
    await page.getByLabel('Status', { exact: true }).selectOption('revoked');
    await page.getByTestId('codes-count').getByText('1 code', { exact: true }).waitFor();

    // A subscriber registers with one of them and connects.
    const profileDir = await h.tempDir('client-carol');
    const carol = await Client.open({ profileDir, passphrase: h.passphrase });
    const usable = csv.slice(1).map((r) => r.split(',')).find(([, id]) => id !== revokedId)![0]!;
    await carol.register({ serverUrl: server.url, inviteCode: usable, username: 'carol' });
    await carol.connect();

    // The dashboard counts it: one active account in acme, one device online, one code used.
    await go(page, 'Dashboard');
    expect(await page.getByTestId('stats-by-brand').getByRole('row', { name: /acme/ }).textContent()).toMatch(/acme\s*1\s*0\s*0\s*0\s*1/);
    expect(await page.getByTestId('devices-online').textContent()).toMatch(/^1/);
    await shot(page, 'dashboard');

    // The account appears in the console, in brand acme, with its paid-until.
    await go(page, 'Accounts');
    await page.getByLabel('Username', { exact: true }).fill('car');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.getByTestId('accounts').getByRole('row', { name: /carol/ });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/carol.*acme.*Active/);

    // Suspend it: the open socket is closed, and a new connection is refused.
    const dropped = new Promise((resolve) => carol.on('connection', (e) => e.state === 'disconnected' && resolve(e)));
    await row.getByRole('button', { name: 'Suspend' }).click();
    await page.getByText('carol suspended.').waitFor();
    await page.getByTestId('accounts').getByRole('row', { name: /carol.*Suspended/ }).waitFor();
    await dropped;
    await carol.close();
    const reopened = await Client.open({ profileDir, passphrase: h.passphrase });
    try {
      await expect(reopened.connect()).rejects.toMatchObject({ code: 'ACCOUNT_SUSPENDED', message: expect.stringMatching(/suspended/) });
    } finally {
      await reopened.close();
    }
    await shot(page, 'accounts');

    // A brand admin for acme, then the audit log shows every step.
    await go(page, 'Admins');
    await page.getByLabel('Name', { exact: true }).fill('Acme reseller');
    await page.getByLabel('Brand', { exact: true }).selectOption('acme');
    await page.getByRole('button', { name: 'Create token' }).click();
    const brandToken = (await page.getByTestId('new-token').textContent())!;
    expect(brandToken.length).toBeGreaterThan(20);
    await shot(page, 'admins');
    await go(page, 'Audit log');
    const audit = await page.getByTestId('audit').textContent();
    expect(audit).toContain('{"fields":["name"]}');
    for (const action of ['brand.create', 'plan.create', 'codes.create', 'account.suspend', 'admin.create']) expect(audit).toContain(action);
    await shot(page, 'audit');

    // Embedded mode is a cluster of one: this node, up, with the client that connected.
    await go(page, 'Nodes');
    const nodes = await page.getByTestId('nodes').textContent();
    expect(nodes).toContain(server.url);
    expect(await page.getByTestId('nodes').locator('.badge').allTextContents()).toEqual(['up']);
    expect(await page.getByTestId('nodes-summary').textContent()).toMatch(/^1 of 1 nodes up in 1 region/);
    await shot(page, 'nodes');

    await go(page, 'Dashboard');
    expect(await page.getByTestId('stats-by-brand').getByRole('row', { name: /acme/ }).textContent()).toMatch(/acme\s*0\s*0\s*1\s*0\s*1/);

    // Phone width: the same screens, tables as cards.
    await page.setViewportSize(PHONE);
    await shot(page, 'dashboard-phone');
    await go(page, 'Accounts');
    await page.getByTestId('accounts').waitFor();
    await shot(page, 'accounts-phone');
    expect(problems).toEqual([]);

    // The brand admin sees only acme and no admin tokens.
    const other = await openConsole(browser, origin);
    await signIn(other.page, server.url, brandToken);
    expect(await other.page.getByTestId('who').textContent()).toContain('brand admin of acme');
    expect(await other.page.getByRole('navigation').getByRole('link').allTextContents()).not.toContain('Admins');
    expect(await other.page.getByRole('navigation').getByRole('link').allTextContents()).not.toContain('Nodes');
    expect(await other.page.getByTestId('stats-by-brand').textContent()).not.toContain('default');
    await go(other.page, 'Brands');
    expect(await other.page.getByRole('button', { name: 'Create brand' }).count()).toBe(0);
    await shot(other.page, 'brand-admin-brands');
    // Dutch, from the language switch.
    await other.page.getByLabel('Language').selectOption('nl');
    await other.page.getByRole('heading', { level: 1, name: 'Merken' }).waitFor();
    await shot(other.page, 'brand-admin-brands-nl');
    expect(other.problems).toEqual([]);

    // The operator revokes that token: the brand admin's next step lands on the sign-in
    // screen, with the token gone from the tab.
    await go(page, 'Admins');
    await page.getByTestId('admins').getByRole('row', { name: /Acme reseller/ }).getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('Token of Acme reseller revoked.').waitFor();
    await other.page.getByRole('navigation').getByRole('link', { name: 'Codes' }).click();
    await other.page.getByText('Je token wordt niet meer geaccepteerd').waitFor();
    expect(await other.page.evaluate('sessionStorage.length')).toBe(0);

    // Signing out forgets the operator token too.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });
});
