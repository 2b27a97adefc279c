/**
 * Helpers for tests that drive @kluis/sdk Clients directly (shared by the SDK's own tests
 * and the end-to-end tests).
 */
import type { Client } from '@kluis/sdk';

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
  const { code } = await primary.createLinkCode();
  let shownByNew = '';
  let shownByPrimary = '';
  const [{ deviceId }] = await Promise.all([
    primary.approveLink(code, {
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
