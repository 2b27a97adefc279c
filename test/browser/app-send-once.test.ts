import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { AppWorld, conv, shot, startChat, type AppPage } from './app-helpers.js';

/**
 * Issue 16: carol's first message to dave, one Enter, shown twice on both sides. The
 * composer sends each message with an id made at the first Enter; a second submit while
 * it is in flight is ignored, and sending it again after an error (the text stays) is that
 * message again: shown once on both sides, also after a reload.
 */
describe('the kluis app in Chromium: one message, shown once', () => {
  const world = new AppWorld();
  let carol: AppPage;
  let dave: AppPage;

  beforeAll(async () => {
    await world.start();
    const invites = await world.server.mintInvites(2);
    [carol, dave] = await Promise.all([world.openApp('carol'), world.openApp('dave')]);
    await carol.page.getByRole('heading', { name: 'Welcome to kluis' }).waitFor();
    await world.register(carol, invites[0]!);
    await world.register(dave, invites[1]!);
  });
  afterAll(() => world.stop());

  const composer = (p: Page) => p.getByLabel('Message', { exact: true });
  const log = (p: Page) => p.getByRole('log');
  const shown = (p: Page, text: string) => log(p).getByText(text, { exact: true });
  /** The page's send requests (POST …/messages) from now on. */
  const sends = (p: Page) => {
    const seen: Array<{ id?: string; text?: string }> = [];
    p.on('request', (r) => {
      if (r.method() === 'POST' && /\/api\/conversations\/[^/]+\/messages$/.test(new URL(r.url()).pathname)) seen.push(r.postDataJSON() as { id?: string; text?: string });
    });
    return seen;
  };
  /** Long enough for a second copy to show, had there been one. */
  const settle = (p: Page) => p.waitForTimeout(1500);

  it('the first message: a second submit before the page rendered the first, a second Enter and a click while it is in flight — one send', async () => {
    onTestFailed(() => world.showFailures());
    await startChat(carol.page, 'dave');
    const seen = sends(carol.page);
    // In flight for a while: the host answers after a second.
    await carol.page.route('**/api/conversations/dave/messages', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      await new Promise((r) => setTimeout(r, 1000));
      await route.continue();
    });
    await composer(carol.page).fill('hi dave, this is carol');
    // Two Enters and a click in one task: no render (and no disabled button) in between.
    await carol.page.evaluate(`(() => {
      const el = document.getElementById('composer');
      const enter = () => el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
      enter();
      enter();
      el.closest('form').querySelector('button[type=submit]').click();
    })()`);
    await composer(carol.page).press('Enter');
    await carol.page.getByRole('button', { name: 'Send' }).click({ force: true });
    await shown(carol.page, 'hi dave, this is carol').waitFor({ timeout: 60_000 });
    await carol.page.unroute('**/api/conversations/dave/messages');
    await conv(dave.page, /carol/).click();
    await shown(dave.page, 'hi dave, this is carol').waitFor({ timeout: 60_000 });
    await settle(dave.page);
    expect(seen.length).toBe(1);
    expect(seen[0]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await shown(carol.page, 'hi dave, this is carol').count()).toBe(1);
    expect(await shown(dave.page, 'hi dave, this is carol').count()).toBe(1);
    expect(await composer(carol.page).inputValue()).toBe('');
  });

  it('sent again after an error although the host had sent it: the same message, once on both sides and after a reload', async () => {
    onTestFailed(() => world.showFailures());
    const seen = sends(carol.page);
    let first = true;
    // The host sends it; the page never hears back (the connection to the host reset).
    await carol.page.route('**/api/conversations/dave/messages', async (route) => {
      if (route.request().method() !== 'POST' || !first) return route.fallback();
      first = false;
      await route.fetch();
      await route.abort('connectionreset');
    });
    await composer(carol.page).fill('did you get this?');
    await composer(carol.page).press('Enter');
    await carol.page.getByRole('alert').waitFor();
    // The text stays; the user sends it again.
    expect(await composer(carol.page).inputValue()).toBe('did you get this?');
    await composer(carol.page).press('Enter');
    await shown(carol.page, 'did you get this?').waitFor({ timeout: 60_000 });
    await shown(dave.page, 'did you get this?').waitFor({ timeout: 60_000 });
    await carol.page.unroute('**/api/conversations/dave/messages');
    await settle(dave.page);
    expect(seen.length).toBe(2);
    expect(seen[1]!.id).toBe(seen[0]!.id);
    expect(await composer(carol.page).inputValue()).toBe('');
    await shot(carol.page, 'send-once-retried');
    for (const p of [carol.page, dave.page]) {
      expect(await shown(p, 'did you get this?').count()).toBe(1);
      await p.reload();
      await p.getByTestId('conversations').waitFor();
    }
    await conv(carol.page, /dave/).click();
    await conv(dave.page, /carol/).click();
    for (const p of [carol.page, dave.page]) {
      await shown(p, 'did you get this?').waitFor();
      expect(await shown(p, 'did you get this?').count()).toBe(1);
      expect(await shown(p, 'hi dave, this is carol').count()).toBe(1);
    }
  });
});
