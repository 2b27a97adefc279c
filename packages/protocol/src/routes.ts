/** HTTP routes of the subscriber API; `:name` segments are path parameters. */
export const Routes = {
  health: 'GET /healthz',
  register: 'POST /v1/accounts',
  reregister: 'PUT /v1/accounts/identity',
  whoami: 'GET /v1/accounts/me',
  lookupUsername: 'GET /v1/accounts/username/:username',
  uploadKeys: 'PUT /v1/keys',
  keyCount: 'GET /v1/keys/count',
  fetchBundles: 'GET /v1/keys/:accountId/:deviceId',
  listDevices: 'GET /v1/devices',
  removeDevice: 'DELETE /v1/devices/:deviceId',
  createLinkCode: 'POST /v1/devices/link-codes',
  linkStatus: 'POST /v1/devices/link-codes/status',
  provisionLink: 'POST /v1/devices/link-codes/provision',
  linkRequest: 'POST /v1/link/request',
  linkFetch: 'POST /v1/link/fetch',
  linkComplete: 'POST /v1/link/complete',
  sendMessage: 'PUT /v1/messages/:accountId',
  socket: 'GET /v1/socket',
  createInvites: 'POST /admin/invites',
} as const;
export type RouteName = keyof typeof Routes;

export function routeParts(route: string): { method: string; path: string } {
  const [method, path] = route.split(' ');
  return { method: method!, path: path! };
}

/** Basic credentials of a device: user "accountId.deviceId", password the device password. */
export function deviceAuthorization(accountId: string, deviceId: number, password: string): string {
  return 'Basic ' + Buffer.from(`${accountId}.${deviceId}:${password}`, 'utf8').toString('base64');
}
