import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: `npx playwright install` cannot download browsers on these machines. */
export const CHROMIUM_PATH = process.env.KLUIS_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless, as root in CI (hence no sandbox), and quiet: no background traffic that
 * would blur the "nothing leaves this origin" check. Playwright gives each launch a
 * fresh temporary profile.
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
