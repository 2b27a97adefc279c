import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { REPO_ROOT } from '../harness/index.js';
import { AppWorld, conv, openPane, PASSPHRASE, PHONE, png, poll, shot, startChat, type AppPage } from './app-helpers.js';

const EN = JSON.parse(await readFile(join(REPO_ROOT, 'packages/web/src/i18n/en.json'), 'utf8')) as Record<string, string>;
const NL = JSON.parse(await readFile(join(REPO_ROOT, 'packages/web/src/i18n/nl.json'), 'utf8')) as Record<string, string>;

describe('the kluis app in Chromium', () => {
  const world = new AppWorld();
  const h = world.h;
  let browser: Browser;
  let server: AppWorld['server'];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // A fake microphone (a tone), allowed without a prompt: for the voice note.
    await world.start(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
    ({ browser, server, env } = world);
  });
  afterAll(() => world.stop());

  const messages = (p: Page) => p.getByRole('log');
  const composer = (p: Page) => p.getByLabel('Message', { exact: true });

  async function send(p: Page, text: string): Promise<void> {
    await composer(p).fill(text);
    await composer(p).press('Enter');
    // A message shows once the server stored it; the first send to a newly linked device
    // (409, new session, sealed) can take a while on a loaded 2-core machine.
    await messages(p).getByText(text, { exact: true }).waitFor({ timeout: 60_000 });
  }

  it('registers two people in the browser, chats, shares an image, runs a group with a CLI user, links a device, verifies and re-verifies a safety number, refuses strangers, and speaks Dutch', async () => {
    onTestFailed(() => world.showFailures());
    const invites = await server.mintInvites(3);
    const [alice, bob] = await Promise.all([world.openApp('alice'), world.openApp('bob')]);
    const carolRegistered = h.cli(['--profile', 'carol', 'register', '--invite', invites[2]!, '--username', 'carol'], env);
    await alice.page.getByRole('heading', { name: 'Welcome to kluis' }).waitFor();
    await world.register(alice, invites[0]!, 'onboarding');
    await world.register(bob, invites[1]!);
    expect((await carolRegistered).code).toBe(0);
    await shot(alice.page, 'empty');

    // ------------------------------------------------ a direct chat, both ways
    await startChat(alice.page, 'bob');
    await send(alice.page, 'hello bob');
    await conv(bob.page, /alice/).getByTestId('unread').getByText('1').waitFor();
    await shot(bob.page, 'conversation-list');
    await conv(bob.page, /alice/).click();
    await messages(bob.page).getByText('hello bob').waitFor();
    // bob has it open: alice sees it read, and bob's unread count is gone.
    await messages(alice.page).getByTestId('status').getByText('Read').waitFor();
    await poll(() => conv(bob.page, /alice/).getByTestId('unread').count()).toBe(0);

    // Typing shows on the other side; Shift+Enter is a new line, Enter sends.
    await composer(bob.page).pressSequentially('hi al');
    await alice.page.getByTestId('typing').getByText('bob is typing…').waitFor();
    await composer(bob.page).press('Shift+Enter');
    await composer(bob.page).pressSequentially('how are you?');
    await composer(bob.page).press('Enter');
    await messages(alice.page).getByText(/hi al\s+how are you\?/).waitFor();
    expect(await messages(alice.page).getByTestId('message').filter({ hasText: 'how are you?' }).locator('.text').innerText()).toBe('hi al\nhow are you?');
    await poll(() => alice.page.getByTestId('typing').textContent()).toBe('');

    // Reply, react, edit, delete for everyone.
    const bobsLine = messages(alice.page).getByTestId('message').filter({ hasText: 'how are you?' });
    await bobsLine.getByRole('button', { name: 'Message actions' }).click();
    await bobsLine.getByRole('button', { name: 'Reply' }).click();
    await send(alice.page, 'fine, thanks');
    await messages(bob.page).getByTestId('quote').filter({ hasText: 'how are you?' }).waitFor();
    const aliceFirst = messages(bob.page).getByTestId('message').filter({ hasText: 'hello bob' });
    await aliceFirst.getByRole('button', { name: 'Message actions' }).click();
    await aliceFirst.getByRole('button', { name: 'React with 👍' }).click();
    await messages(alice.page).getByTestId('message').filter({ hasText: 'hello bob' }).getByRole('list', { name: 'Reactions' }).getByText('👍').waitFor();
    const fine = messages(alice.page).getByTestId('message').filter({ hasText: 'fine, thanks' });
    await fine.getByRole('button', { name: 'Message actions' }).click();
    await fine.getByRole('button', { name: 'Edit' }).click();
    await composer(alice.page).fill('fine, thanks! and you?');
    await composer(alice.page).press('Enter');
    await messages(bob.page).getByTestId('message').filter({ hasText: 'fine, thanks! and you?' }).getByText('edited').waitFor();
    await send(alice.page, 'oops, wrong chat');
    await messages(bob.page).getByText('oops, wrong chat').waitFor();
    const oops = messages(alice.page).getByTestId('message').filter({ hasText: 'oops, wrong chat' });
    await oops.getByRole('button', { name: 'Message actions' }).click();
    await oops.getByRole('button', { name: 'Delete for everyone' }).click();
    await poll(() => messages(bob.page).getByText('oops, wrong chat').count()).toBe(0);
    await messages(bob.page).getByText('This message was deleted.').waitFor();

    // ------------------------------------------------ an image: preview, and the same bytes back
    const image = png(96, 64);
    await bob.page.locator('#attach').setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: image });
    await bob.page.getByRole('list', { name: 'Files to send' }).getByText('sunset.png').waitFor();
    await composer(bob.page).fill('a picture');
    await composer(bob.page).press('Enter');
    const preview = messages(alice.page).getByTestId('image-preview');
    await preview.waitFor({ timeout: 30_000 });
    await poll(() => alice.page.evaluate('(i => i.complete && i.naturalWidth)(document.querySelector("[data-testid=image-preview]"))')).toBe(96);
    const [download] = await Promise.all([
      alice.page.waitForEvent('download'),
      messages(alice.page).getByRole('button', { name: 'Download sunset.png' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('sunset.png');
    expect(Buffer.compare(await readFile((await download.path())!), image)).toBe(0);
    await shot(alice.page, 'conversation');

    // A voice note recorded with MediaRecorder arrives as a playable voice note.
    await bob.page.getByRole('button', { name: 'Record a voice note' }).click();
    await bob.page.getByRole('button', { name: 'Stop recording' }).waitFor();
    await bob.page.waitForTimeout(1200);
    await bob.page.getByRole('button', { name: 'Stop recording' }).click();
    await bob.page.getByRole('list', { name: 'Files to send' }).getByText(/^voice-note\./).waitFor();
    await bob.page.getByRole('button', { name: 'Send' }).click();
    await messages(alice.page).getByLabel('Voice note').waitFor({ timeout: 30_000 });

    // A file dropped on the conversation goes out too; the other side downloads the same bytes.
    const dropped = await alice.page.evaluateHandle(
      '(() => { const d = new DataTransfer(); d.items.add(new File(["notes for bob\\n"], "notes.txt", { type: "text/plain" })); return d; })()',
    );
    await alice.page.locator('.conversation').dispatchEvent('drop', { dataTransfer: dropped });
    await alice.page.getByRole('list', { name: 'Files to send' }).getByText('notes.txt').waitFor();
    await alice.page.getByRole('button', { name: 'Send' }).click();
    const [notes] = await Promise.all([
      bob.page.waitForEvent('download'),
      messages(bob.page).getByRole('button', { name: 'Download notes.txt' }).click({ timeout: 30_000 }),
    ]);
    expect(await readFile((await notes.path())!, 'utf8')).toBe('notes for bob\n');

    // Search finds a message in the local history.
    await alice.page.getByLabel('Search', { exact: true }).fill('picture');
    await alice.page.getByLabel('Search', { exact: true }).press('Enter');
    await alice.page.getByRole('list', { name: 'Search results' }).getByText('a picture').waitFor();
    await alice.page.getByLabel('Search', { exact: true }).fill('');

    // ------------------------------------------------ a group with bob and the CLI user carol
    await openPane(alice.page, 'New group', 'New group');
    await alice.page.getByLabel('Group name').fill('Team');
    await alice.page.getByLabel('Members').fill('bob, carol');
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'Team' }).waitFor();
    await send(alice.page, 'hello team');
    await conv(bob.page, /Team/).click();
    await messages(bob.page).getByText('hello team').waitFor();
    await send(bob.page, 'bob here');
    await messages(alice.page).getByText('bob here').waitFor();
    const carolGot = await h.cli(['--profile', 'carol', 'receive', '--json'], env);
    expect(carolGot.code, carolGot.stderr).toBe(0);
    expect(carolGot.stdout).toContain('hello team');
    expect(carolGot.stdout).toContain('bob here');
    const carolSent = await h.cli(['--profile', 'carol', 'send', '#Team', 'carol here'], env);
    expect(carolSent.code, carolSent.stderr).toBe(0);
    await messages(alice.page).getByText('carol here').waitFor();
    await messages(bob.page).getByText('carol here').waitFor();
    await alice.page.getByRole('button', { name: 'Group info' }).click();
    await alice.page.getByTestId('group-members').getByText('carol').waitFor();
    expect(await alice.page.getByTestId('group-members').getByRole('listitem').allTextContents()).toEqual([
      expect.stringMatching(/^alice \(you\)Admin$/),
      expect.stringMatching(/^bob/),
      expect.stringMatching(/^carol/),
    ]);
    await shot(alice.page, 'group-info');
    await alice.page.getByRole('button', { name: 'Back' }).click();
    await shot(alice.page, 'group');

    // ------------------------------------------------ safety number: compare and mark verified
    await conv(alice.page, /^bob/).click();
    await alice.page.getByRole('button', { name: 'Contact info' }).click();
    const digits = (await alice.page.getByTestId('safety-number').textContent())!;
    expect(digits).toMatch(/^\d{60}$/);
    await conv(bob.page, /alice/).click();
    await bob.page.getByRole('button', { name: 'Contact info' }).click();
    expect(await bob.page.getByTestId('safety-number').textContent()).toBe(digits);
    await alice.page.getByRole('button', { name: 'Mark as verified' }).click();
    await alice.page.getByTestId('verified-state').getByText('Verified', { exact: true }).waitFor();
    await shot(alice.page, 'contact-verified');

    // ------------------------------------------------ devices
    await openPane(alice.page, 'Devices', 'Devices');
    await alice.page.getByTestId('devices').getByText('This device').waitFor();
    await shot(alice.page, 'devices');

    // alice links a second app instance (her laptop) as a new device; it gets the next message.
    const laptop = await world.openApp('alice-laptop');
    await world.link(alice, laptop, 'devices-link');
    await poll(() => alice.page.getByTestId('devices').getByRole('listitem').count()).toBe(2);
    await bob.page.getByRole('button', { name: 'Back' }).click();
    await send(bob.page, 'for all your devices');
    await conv(laptop.page, /^bob/).click();
    await messages(laptop.page).getByText('for all your devices').waitFor({ timeout: 30_000 });
    // ------------------------------------------------ bob re-registers: alice is stopped until she accepts
    bob.proc.kill('SIGTERM');
    expect((await bob.proc.wait(30_000)).code).toBe(0);
    const rereg = await h.cli(['--profile', 'bob', 'reregister', '--yes'], env);
    expect(rereg.code, rereg.stderr).toBe(0);
    await world.reopen(bob);
    await bob.page.getByRole('heading', { name: 'Unlock kluis' }).waitFor();
    await shot(bob.page, 'unlock');
    await bob.page.getByLabel('Passphrase', { exact: true }).fill('not it');
    await bob.page.getByRole('button', { name: 'Unlock' }).click();
    await bob.page.getByText('Wrong passphrase.').waitFor();
    await bob.page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await bob.page.getByRole('button', { name: 'Unlock' }).click();
    await bob.page.getByTestId('me').getByText('bob').waitFor({ timeout: 30_000 });

    await conv(alice.page, /^bob/).click();
    await composer(alice.page).fill('are you still you?');
    await composer(alice.page).press('Enter');
    const banner = alice.page.getByTestId('identity-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('The safety number with bob has changed');
    expect(await composer(alice.page).isDisabled()).toBe(true);
    expect(await alice.page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    await shot(alice.page, 'identity-changed');
    await banner.getByRole('button', { name: 'Show safety number' }).click();
    const newDigits = (await alice.page.getByTestId('safety-number').textContent())!;
    await alice.page.getByTestId('verified-state').getByText('Safety number changed').waitFor();
    await alice.page.getByRole('button', { name: 'Accept the new safety number' }).click();
    await alice.page.getByTestId('verified-state').getByText('Not verified').waitFor();
    const accepted = (await alice.page.getByTestId('safety-number').textContent())!;
    expect(accepted).not.toBe(digits);
    expect(newDigits).toMatch(/^\d{60}$/);
    await alice.page.getByRole('button', { name: 'Back' }).click();
    expect(await alice.page.getByTestId('identity-banner').count()).toBe(0);
    await send(alice.page, 'welcome back');
    await conv(bob.page, /alice/).click();
    await messages(bob.page).getByText('welcome back').waitFor();

    // ------------------------------------------------ account
    await openPane(alice.page, 'Account', 'Account');
    await alice.page.getByTestId('subscription').waitFor();
    await alice.page.getByLabel('Profile name').fill('Alice A.');
    await alice.page.getByRole('button', { name: 'Save' }).first().click();
    await alice.page.getByText('Profile saved.').waitFor();
    expect(await alice.page.getByLabel('Profile name').inputValue()).toBe('Alice A.');
    await shot(alice.page, 'account');
    // A picture over 64 KiB: the page draws it smaller as a JPEG, the host saves it with the name.
    // Picking clears the last notice and shows a preview once the picture is drawn; only then
    // is Save enabled, and the "saved" that follows is the one for the picture.
    await alice.page.getByLabel('Choose a picture').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png(800, 800) });
    await alice.page.getByText('Profile saved.').waitFor({ state: 'detached' });
    const ownAvatar = alice.page.getByRole('img', { name: 'Your profile picture' });
    await poll(async () => (await ownAvatar.getAttribute('src')) ?? '').toMatch(/^(blob|data):/);
    const save = alice.page.getByRole('button', { name: 'Save' }).first();
    await poll(() => save.isEnabled()).toBe(true);
    await save.click();
    await alice.page.getByText('Profile saved.').waitFor();
    await poll(async () => (await ownAvatar.getAttribute('src')) ?? '').toMatch(/^(blob|data):/);
    const avatarWidth = () => alice.page.evaluate('(i => i.complete && i.naturalWidth)(document.querySelector("[data-testid=own-avatar]"))') as Promise<number>;
    await poll(avatarWidth).toBeGreaterThan(0);
    expect(await avatarWidth()).toBeLessThanOrEqual(512); // drawn smaller than the 800 px original
    expect(await alice.page.getByLabel('Profile name').inputValue()).toBe('Alice A.');
    await shot(alice.page, 'account-avatar');

    // ------------------------------------------------ the local API lets nobody else in
    await expectRefused(alice);

    // ------------------------------------------------ nothing left this machine's app origin
    for (const a of [alice, bob, laptop]) {
      const elsewhere = a.requests.filter((u) => !u.startsWith('blob:') && !a.hosts.includes(new URL(u).host));
      expect(elsewhere, `${a.name} reached another origin`).toEqual([]);
      expect(a.requests.some((u) => u.startsWith(server.url))).toBe(false);
      expect(a.requests.some((u) => u.startsWith(`ws://${new URL(a.origin).host}/api/events`))).toBe(true);
      // Expected: bob's wrong passphrase, alice's send blocked by the identity change, and
      // bob's page retrying its socket while his app was stopped for the re-registration.
      const expected = [/^401 POST \/api\/unlock$/, /^409 POST \/api\/conversations\/bob\/messages$/, /WebSocket connection .*ERR_CONNECTION_REFUSED/];
      expect(a.problems.filter((p) => !expected.some((re) => re.test(p))), a.name).toEqual([]);
    }

    // ------------------------------------------------ Dutch: no English left on the main screens
    await alice.page.getByLabel('Language').first().selectOption('nl');
    await alice.page.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
    await alice.page.getByText('Voorkeuren').waitFor();
    const english = englishOnly();
    const leftovers: string[] = [];
    const check = async (screen: string) => {
      for (const s of await visibleStrings(alice.page)) if (english.some((re) => re.test(s))) leftovers.push(`${screen}: ${s}`);
      await shot(alice.page, `${screen}-nl`);
    };
    await check('account');
    await alice.page.getByRole('button', { name: 'Apparaten', exact: true }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'Apparaten' }).waitFor();
    await check('devices');
    await alice.page.getByRole('button', { name: 'Nieuwe groep', exact: true }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'Nieuwe groep' }).waitFor();
    await check('new-group');
    await conv(alice.page, /^bob/).click();
    await alice.page.getByRole('heading', { level: 1, name: 'bob' }).waitFor();
    await messages(alice.page).getByTestId('message').filter({ hasText: 'hello bob' }).getByRole('button', { name: 'Berichtacties' }).click();
    await check('conversation');
    await alice.page.getByRole('button', { name: 'Contactgegevens' }).click();
    await alice.page.getByText('Veiligheidsnummer', { exact: true }).first().waitFor();
    await check('contact');
    await alice.page.getByRole('button', { name: 'Terug' }).click();
    await conv(alice.page, /Team/).click();
    await alice.page.getByRole('button', { name: 'Groepsgegevens' }).click();
    await alice.page.getByTestId('group-members').waitFor();
    await check('group-info');
    expect(leftovers).toEqual([]);

    // Phone width: one column at a time.
    await alice.page.setViewportSize(PHONE);
    await alice.page.getByRole('button', { name: 'Terug' }).click();
    await shot(alice.page, 'group-phone-nl');
    await alice.page.getByRole('button', { name: 'Terug' }).click();
    await conv(alice.page, /^bob/).waitFor();
    await shot(alice.page, 'conversation-list-phone-nl');

    // Locking closes the store: the passphrase is needed again, and the API says so meanwhile.
    await alice.page.getByRole('button', { name: 'Vergrendelen' }).click();
    await alice.page.getByRole('heading', { name: 'kluis ontgrendelen' }).waitFor();
    expect((await fetch(`${alice.origin}/api/conversations`, { headers: { authorization: `Bearer ${alice.token}` } })).status).toBe(423);
    await shot(alice.page, 'unlock-phone-nl');
    await alice.page.getByLabel('Wachtzin', { exact: true }).fill(PASSPHRASE);
    await alice.page.getByRole('button', { name: 'Ontgrendelen' }).click();
    await conv(alice.page, /^bob/).waitFor();
  });

  /** Requests without the token, from another origin, through a rebinding Host, and sockets likewise. */
  async function expectRefused(a: AppPage): Promise<void> {
    const api = `${a.origin}/api/state`;
    const auth = { authorization: `Bearer ${a.token}` };
    expect((await fetch(api)).status).toBe(401);
    expect((await fetch(api, { headers: { authorization: 'Bearer 00' } })).status).toBe(401);
    expect((await fetch(api, { headers: auth })).status).toBe(200);
    expect((await fetch(api, { headers: { ...auth, origin: 'http://evil.example' } })).status).toBe(403);
    expect((await fetch(api, { headers: { ...auth, origin: server.url } })).status).toBe(403);
    expect((await fetch(api, { headers: { ...auth, 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    // fetch() sets Host itself: a DNS-rebinding page's request is made by hand.
    expect(await rawStatus(a.origin, '/api/state', { ...auth, host: 'evil.example:80' })).toBe(421);
    expect(await rawStatus(a.origin, '/', { host: 'evil.example' })).toBe(421);
    const socket = (protocols: string[], headers: Record<string, string> = {}) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://${new URL(a.origin).host}/api/events`, protocols, { headers });
        ws.on('open', () => (ws.close(), resolve('open')));
        ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
        ws.on('error', () => resolve('error'));
      });
    expect(await socket(['kluis'])).toBe('401');
    expect(await socket(['kluis', `token.${a.token}`], { origin: 'http://evil.example' })).toBe('403');
    expect(await socket(['kluis', `token.${a.token}`], { origin: a.origin })).toBe('open');

    // A page of another origin on this machine (here the kluis server's) holding the token still gets nothing.
    const other = await browser.newPage();
    await other.goto(`${server.url}/healthz`);
    const outcome = await other.evaluate(
      async ([url, token]) => {
        try {
          const r = await fetch(url!, { headers: { authorization: `Bearer ${token}` } });
          return `status ${r.status}`;
        } catch {
          return 'blocked';
        }
      },
      [api, a.token],
    );
    expect(outcome).toBe('blocked');
    await other.close();
  }
});

function rawStatus(origin: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(origin);
    const req = httpRequest({ host: u.hostname, port: u.port, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** English catalog strings that Dutch says differently, as whole-string patterns ({x} = anything). */
function englishOnly(): RegExp[] {
  const out: RegExp[] = [];
  for (const [key, en] of Object.entries(EN)) {
    if (NL[key] === en || key === 'language.name') continue;
    const escaped = en.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{\w+\\\}/g, '.+');
    out.push(new RegExp(`^${escaped}$`));
  }
  return out;
}

/** Each element's own text, and the labels a screen reader would read (run in the page). */
const VISIBLE_STRINGS = `(() => {
  const out = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    const own = Array.from(el.childNodes).filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('').trim();
    if (own) out.add(own);
    for (const attr of ['aria-label', 'placeholder', 'title', 'alt']) {
      const v = el.getAttribute(attr);
      if (v) out.add(v.trim());
    }
  }
  return [...out];
})()`;

function visibleStrings(page: Page): Promise<string[]> {
  return page.evaluate(VISIBLE_STRINGS) as Promise<string[]>;
}
