import { createInvites } from './admin-create-invites.js';
import { createLinkCode } from './create-link-code.js';
import { fetchBundles } from './fetch-bundles.js';
import { health } from './health.js';
import { keyCount } from './key-count.js';
import { linkComplete } from './link-complete.js';
import { linkFetch } from './link-fetch.js';
import { linkRequest } from './link-request.js';
import { linkStatus } from './link-status.js';
import { listDevices } from './list-devices.js';
import { lookupUsername } from './lookup-username.js';
import { provisionLink } from './provision-link.js';
import { register } from './register.js';
import { removeDevice } from './remove-device.js';
import { reregister } from './reregister.js';
import type { RouteDef } from './route.js';
import { sendMessage } from './send-message.js';
import { socket } from './socket.js';
import { uploadKeys } from './upload-keys.js';
import { whoami } from './whoami.js';

/** Every route of protocol's `Routes`, one file each (checked by http-app.test.ts). */
export const apiRoutes: RouteDef[] = [
  health,
  register,
  reregister,
  whoami,
  lookupUsername,
  uploadKeys,
  keyCount,
  fetchBundles,
  listDevices,
  removeDevice,
  createLinkCode,
  linkStatus,
  provisionLink,
  linkRequest,
  linkFetch,
  linkComplete,
  sendMessage,
  socket,
  createInvites,
];
