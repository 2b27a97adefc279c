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
  // Sealed sender: no device credential, only the unidentified-access key header.
  getTrustRoot: 'GET /v1/trust-root',
  getSenderCertificate: 'GET /v1/certificate/delivery',
  setAccessKey: 'PUT /v1/accounts/access-key',
  sendSealed: 'PUT /v1/sealed/:accountId',
  sendSealedMulti: 'PUT /v1/sealed',
  sendMulti: 'PUT /v1/messages',
  socket: 'GET /v1/socket',
  sealedSocket: 'GET /v1/sealed-socket',
  createInvites: 'POST /admin/invites',
  // Subscriber side of subscriptions (device credentials).
  getSubscription: 'GET /v1/subscription',
  renewSubscription: 'POST /v1/subscription/renew',
  createMemberInvite: 'POST /v1/invites',
  // Attachments: opaque encrypted blobs (device credentials).
  createAttachment: 'POST /v1/attachments',
  uploadAttachment: 'PUT /v1/attachments/:id',
  attachmentStatus: 'GET /v1/attachments/:id/status',
  downloadAttachment: 'GET /v1/attachments/:id',
  // Operator API (Bearer admin token); documented at /admin/openapi.json.
  adminOpenApi: 'GET /admin/openapi.json',
  adminMe: 'GET /admin/me',
  adminStats: 'GET /admin/stats',
  listBrands: 'GET /admin/brands',
  createBrand: 'POST /admin/brands',
  getBrand: 'GET /admin/brands/:brand',
  updateBrand: 'PATCH /admin/brands/:brand',
  retireBrand: 'POST /admin/brands/:brand/retire',
  listPlans: 'GET /admin/brands/:brand/plans',
  createPlan: 'POST /admin/brands/:brand/plans',
  updatePlan: 'PATCH /admin/brands/:brand/plans/:planId',
  retirePlan: 'POST /admin/brands/:brand/plans/:planId/retire',
  listCodes: 'GET /admin/brands/:brand/codes',
  createCodes: 'POST /admin/brands/:brand/codes',
  revokeCodes: 'POST /admin/brands/:brand/codes/revoke',
  listAccounts: 'GET /admin/accounts',
  getAccount: 'GET /admin/accounts/:accountId',
  suspendAccount: 'POST /admin/accounts/:accountId/suspend',
  unsuspendAccount: 'POST /admin/accounts/:accountId/unsuspend',
  deleteAccount: 'DELETE /admin/accounts/:accountId',
  revokeAccountDevices: 'POST /admin/accounts/:accountId/revoke-devices',
  listAdmins: 'GET /admin/admins',
  createAdmin: 'POST /admin/admins',
  revokeAdmin: 'POST /admin/admins/:adminId/revoke',
  listAudit: 'GET /admin/audit',
  // Cluster (issue 5): the bootstrap list for clients, and the operator's view of nodes.
  listNodes: 'GET /v1/nodes',
  adminNodes: 'GET /admin/nodes',
  // Encrypted profiles (device credentials): opaque to the server.
  setProfile: 'PUT /v1/profile',
  getProfile: 'GET /v1/profile/:accountId',
  // Calls (issue 14): short-lived TURN credentials (device credentials).
  callRelay: 'GET /v1/calls/relay',
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
