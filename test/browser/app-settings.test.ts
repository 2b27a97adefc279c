import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { REPO_ROOT } from '../harness/index.js';
import { AppWorld, conv, FAKE_DESKTOP, notes, openPane, PASSPHRASE, poll, setHidden, shot } from './app-helpers.js';

const EN = JSON.parse(await readFile(join(REPO_ROOT, 'packages/web/src/i18n/en.json'), 'utf8')) as Record<string, string>;
const BRAND = { slug: 'acme', name: 'Acme Secure', primary: '#b4235a', primaryRgb: 'rgb(180, 35, 90)', accent: '#0f766e', accentRgb: 'rgb(15, 118, 110)' };


describe('the kluis app in Chromium: brand, member invites, notifications, idle lock', () => {
  const world = new AppWorld();
  const h = world.h;
  /** An invite code of the brand, minted by the operator with the CLI. */
  let brandInvite: string;

  beforeAll(async () => {
    await world.start();
    const env = { ...world.env, KLUIS_OPERATOR_TOKEN: world.server.operatorToken };
    const admin = async (args: string[]) => {
      const r = await h.cli(['admin', ...args, '--json'], env);
      expect(r.code, `kluis admin ${args.join(' ')}\n${r.stderr}`).toBe(0);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    await admin(['brands', 'create', BRAND.slug, '--name', BRAND.name, '--primary-color', BRAND.primary, '--accent-color', BRAND.accent, '--member-invites', 'on', '--invite-quota', '2']);
    // A year: no "ends soon" banner; member invites also need a plan on sale.
    const plan = await admin(['plans', 'create', '--brand', BRAND.slug, '--name', 'Year', '--duration', '12m', '--price', '29.99']);
    const codes = await admin(['codes', 'create', '--brand', BRAND.slug, '--plan', String(plan.id), '--type', 'invite']);
    brandInvite = (codes.codes as Array<{ code: string }>)[0]!.code;
  });
  afterAll(() => world.stop());

  it('applies the brand, creates a member invite a CLI user registers with, notifies without and with the text, and locks when idle', async () => {
    onTestFailed(() => world.showFailures());
    const dana = await world.openApp('dana', {
      permissions: ['notifications', 'clipboard-read', 'clipboard-write'],
      prepare: async (page) => {
        await page.addInitScript(FAKE_DESKTOP);
        // Before the app loads, so its idle timer runs on this clock; time still flows.
        await page.clock.install();
      },
    });
    const p = dana.page;
    await world.register(dana, brandInvite);

    // ------------------------------------------------ the brand's name and colours
    await p.locator('.side-head strong').getByText(BRAND.name, { exact: true }).waitFor();
    await poll(() => p.evaluate(`getComputedStyle(document.documentElement).getPropertyValue('--primary').trim()`)).toBe(BRAND.primary);
    expect(await p.evaluate(`getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()`)).toBe(BRAND.accent);
    await openPane(p, 'Account', 'Account');
    await p.getByTestId('subscription').getByText(BRAND.name, { exact: true }).waitFor();
    const create = p.getByRole('button', { name: 'Create an invite code' });
    await create.waitFor();
    expect(await p.evaluate(`getComputedStyle(document.querySelector('[data-testid=invite] .btn-primary')).backgroundColor`)).toBe(BRAND.primaryRgb);
    await shot(p, 'brand');

    // ------------------------------------------------ a member invite: 2 allowed, one made, used by erin
    const left = p.getByTestId('invites-left');
    await left.getByText('You can invite 2 more people.').waitFor();
    await create.click();
    await left.getByText('You can invite 1 more person.').waitFor();
    const codeField = p.getByLabel('Invite code', { exact: true });
    const code = await codeField.inputValue();
    expect(code.length).toBeGreaterThan(8);
    expect(await codeField.getAttribute('readonly')).not.toBeNull();
    await p.getByRole('button', { name: 'Copy', exact: true }).click();
    await p.getByText('Copied.').waitFor();
    expect(await p.evaluate('navigator.clipboard.readText()')).toBe(code);
    await shot(p, 'invite');
    const erin = await h.cli(['--profile', 'erin', 'register', '--invite', code, '--username', 'erin'], world.env);
    expect(erin.code, erin.stderr).toBe(0);
    // The second and last invite: then the card says none are left and the button is off.
    await create.click();
    await left.getByText('You have used all your invites.').waitFor();
    expect(await create.isDisabled()).toBe(true);

    // ------------------------------------------------ desktop notifications, while the tab is hidden
    const erinSends = async (text: string) => {
      const r = await h.cli(['--profile', 'erin', 'send', 'dana', text], world.env);
      expect(r.code, r.stderr).toBe(0);
    };
    await p.getByLabel('Desktop notifications').selectOption({ label: 'On, without the message text' });
    await setHidden(p, true);
    await erinSends('the cake is in the oven');
    await conv(p, /erin/).waitFor({ timeout: 30_000 });
    // Unread counts wear the brand's accent colour.
    await conv(p, /erin/).getByTestId('unread').waitFor();
    expect(await p.evaluate(`getComputedStyle(document.querySelector('[data-testid=unread]')).backgroundColor`)).toBe(BRAND.accentRgb);
    await poll(async () => (await notes(p)).length).toBe(1);
    const [hiddenNote] = await notes(p);
    expect(hiddenNote!.title).toBe(EN['notify.title']!.replace('{from}', 'erin'));
    expect(hiddenNote!.body).toBe(EN['notify.hidden']);
    expect(JSON.stringify(hiddenNote)).not.toContain('cake');

    await p.getByLabel('Desktop notifications').selectOption({ label: 'On, with the message text' });
    await erinSends('dinner at eight');
    await poll(async () => (await notes(p)).length).toBe(2);
    expect((await notes(p))[1]).toMatchObject({ title: EN['notify.title']!.replace('{from}', 'erin'), body: 'dinner at eight' });
    await setHidden(p, false);
    await shot(p, 'notifications');

    // ------------------------------------------------ text typed the moment a conversation opens is kept
    // Effects run after the next frame, or 100 ms without one (a busy or background tab): the
    // composer once cleared itself then, and the Enter that followed sent nothing. Here the
    // frame never comes and the page's clock stands still while the text is typed.
    await p.evaluate('window.realRaf = window.requestAnimationFrame; window.requestAnimationFrame = () => 0');
    await p.clock.pauseAt(new Date(Date.now() + 1_000));
    await conv(p, /erin/).click();
    const box = p.getByLabel('Message', { exact: true });
    await box.fill('typed at once');
    await p.clock.runFor(500);
    await p.clock.resume();
    await p.getByRole('log').getByText('dinner at eight').waitFor(); // the view's first effects have run
    expect(await box.inputValue()).toBe('typed at once');
    await box.press('Enter');
    await p.getByRole('log').getByText('typed at once', { exact: true }).waitFor({ timeout: 60_000 });
    await p.evaluate('window.requestAnimationFrame = window.realRaf');
    await openPane(p, 'Account', 'Account');

    // ------------------------------------------------ idle lock, on the page's clock
    await p.getByLabel('Lock after inactivity').selectOption({ label: '5 minutes' });
    await p.clock.fastForward('05:30');
    await p.getByRole('heading', { name: 'Unlock kluis' }).waitFor({ timeout: 30_000 });
    await shot(p, 'idle-locked');
    await p.getByLabel('Passphrase', { exact: true }).fill('not the passphrase');
    await p.getByRole('button', { name: 'Unlock' }).click();
    await p.getByText('Wrong passphrase.').waitFor();
    await p.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await p.getByRole('button', { name: 'Unlock' }).click();
    await conv(p, /erin/).waitFor({ timeout: 30_000 });
    await p.getByTestId('me').getByText('dana').waitFor();

    // Only the wrong passphrase failed; nothing left the app's origin.
    expect(dana.problems.filter((x) => !/^401 POST \/api\/unlock$/.test(x))).toEqual([]);
    expect(dana.requests.filter((u) => !u.startsWith('blob:') && new URL(u).host !== new URL(dana.origin).host)).toEqual([]);
  }, 240_000);
});
