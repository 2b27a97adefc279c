/**
 * Helpers for tests that drive @kluis/sdk Clients directly (shared by the SDK's own tests
 * and the end-to-end tests).
 */
import type { Client, OpenOptions } from '@kluis/sdk';
import type { Harness } from './harness.js';

export { inbox, nextEvent, until } from '../../packages/sdk/src/testing/helpers.js';

/**
 * Links `fresh` (an unregistered Client) to `primary`'s account, confirming the verification
 * number, and checks both sides showed the same number. Returns the new device id.
 */
export async function linkDevice(
  primary: Client,
  fresh: Client,
  serverUrl: string,
  deviceName?: string,
): Promise<{ deviceId: number; verification: string }> {
  const { code } = await primary.devices.createLinkCode();
  let shownByNew = '';
  let shownByPrimary = '';
  const [{ deviceId }] = await Promise.all([
    primary.devices.approveLink(code, {
      confirm: (v) => {
        shownByPrimary = v;
        return true;
      },
    }),
    fresh.link({ serverUrl, code, deviceName, onVerification: (v) => (shownByNew = v) }),
  ]);
  if (shownByNew !== shownByPrimary) throw new Error(`verification numbers differ: ${shownByNew} vs ${shownByPrimary}`);
  return { deviceId, verification: shownByPrimary };
}

/**
 * A fresh profile registered as `username` on `server` (a new invite) and connected; closed
 * when the harness is disposed; errors are logged (a test that expects one listens itself).
 */
export async function connectedUser(
  h: Harness,
  server: { url: string; mintInvites(n?: number): Promise<string[]> },
  username: string,
  o: Partial<OpenOptions> & { serverUrl?: string } = {},
): Promise<Client> {
  const { Client: ClientClass } = await import('../../packages/sdk/src/client.js');
  const c = await ClientClass.open({ profileDir: await h.tempDir(username), passphrase: h.passphrase, bootstrap: false, ...o });
  h.onDispose(() => c.close());
  c.on('error', (e) => console.error(username, 'error:', (e as { code?: string }).code ?? '', e.message));
  const [invite] = await server.mintInvites(1);
  await c.register({ serverUrl: o.serverUrl ?? server.url, inviteCode: invite!, username });
  await c.connect();
  return c;
}
