import { adminMe } from './admin-me.js';
import { openApiRoute } from './admin-openapi.js';
import { adminStats } from './admin-stats.js';
import { listBrands } from './admin-list-brands.js';
import { createBrand } from './admin-create-brand.js';
import { getBrand } from './admin-get-brand.js';
import { updateBrand } from './admin-update-brand.js';
import { retireBrand } from './admin-retire-brand.js';
import { listPlans } from './admin-list-plans.js';
import { createPlan } from './admin-create-plan.js';
import { updatePlan } from './admin-update-plan.js';
import { retirePlan } from './admin-retire-plan.js';
import { listCodes } from './admin-list-codes.js';
import { createCodes } from './admin-create-codes.js';
import { revokeCodes } from './admin-revoke-codes.js';
import { listAccounts } from './admin-list-accounts.js';
import { getAccount } from './admin-get-account.js';
import { suspendAccount } from './admin-suspend-account.js';
import { unsuspendAccount } from './admin-unsuspend-account.js';
import { deleteAccount } from './admin-delete-account.js';
import { revokeAccountDevices } from './admin-revoke-devices.js';
import { listAdmins } from './admin-list-admins.js';
import { createAdmin } from './admin-create-admin.js';
import { revokeAdmin } from './admin-revoke-admin.js';
import { listAudit } from './admin-list-audit.js';
import { adminNodes } from './admin-list-nodes.js';
import { listNodes } from './list-nodes.js';
import { getProfile } from './get-profile.js';
import { getCallRelay } from './get-call-relay.js';
import { getSenderCertificate } from './get-sender-certificate.js';
import { getTrustRoot } from './get-trust-root.js';
import { sendSealed } from './send-sealed.js';
import { sendSealedMulti } from './send-sealed-multi.js';
import { setAccessKey } from './set-access-key.js';
import { setProfile } from './set-profile.js';
import { getSubscription } from './get-subscription.js';
import { renewSubscription } from './renew-subscription.js';
import { createMemberInvite } from './create-member-invite.js';
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
import { sendMulti } from './send-multi.js';
import { sealedSocket, socket } from './socket.js';
import { uploadKeys } from './upload-keys.js';
import { whoami } from './whoami.js';
import { createAttachment } from './create-attachment.js';
import { uploadAttachment } from './upload-attachment.js';
import { attachmentStatus } from './attachment-status.js';
import { downloadAttachment } from './download-attachment.js';

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
  sendMulti,
  socket,
  sealedSocket,
  createInvites,
  getSubscription,
  renewSubscription,
  createMemberInvite,
  createAttachment,
  uploadAttachment,
  attachmentStatus,
  downloadAttachment,
  // Built lazily from this very table (hence the thunk).
  openApiRoute(() => apiRoutes),
  adminMe,
  adminStats,
  listBrands,
  createBrand,
  getBrand,
  updateBrand,
  retireBrand,
  listPlans,
  createPlan,
  updatePlan,
  retirePlan,
  listCodes,
  createCodes,
  revokeCodes,
  listAccounts,
  getAccount,
  suspendAccount,
  unsuspendAccount,
  deleteAccount,
  revokeAccountDevices,
  listAdmins,
  createAdmin,
  revokeAdmin,
  listAudit,
  listNodes,
  adminNodes,
  setProfile,
  getProfile,
  getCallRelay,
  getTrustRoot,
  getSenderCertificate,
  setAccessKey,
  sendSealed,
  sendSealedMulti,
];
