import { randomUUID } from 'node:crypto';
import SealedSenderMultiRecipientMessage from '@signalapp/libsignal-client/dist/SealedSenderMultiRecipientMessage.js';
import { ErrorCode, EnvelopeType, MAX_DEVICES_PER_ACCOUNT, MAX_GROUP_MEMBERS, MAX_MESSAGE_BYTES } from '@kluis/protocol';
import type { DeviceIdentity } from '../auth/device-auth.js';
import type { MultiSendCommand } from '../delivery/multi-send.js';
import { ApiError } from '../errors.js';
import { multiAccessAllowed, singleAccessAllowed } from './access.js';
import type { AccessKeyCache } from './access-key-cache.js';

/**
 * The sender of every sealed envelope as far as the server knows: nobody. Envelope rows
 * of sealed messages get no source (see group-commit's stage), and no account's
 * subscription gate applies (the server cannot tell whose it would be).
 */
export const SEALED_SENDER: DeviceIdentity = Object.freeze({ accountId: '00000000-0000-0000-0000-000000000000', deviceId: 0 });

/** One answer for an unknown account, a wrong key, a missing key: no account-existence oracle. */
export function accessDenied(): ApiError {
  return new ApiError(ErrorCode.Unauthorized, 'missing or wrong unidentified-access key');
}

/** Checks a single sealed send's key and content; the send itself is the ordinary one. */
export async function authorizeSealed(access: AccessKeyCache, destination: string, presented: Buffer | undefined, request: { messages: ReadonlyArray<{ type: number }> }): Promise<void> {
  const recipient = (await access.get([destination])).get(destination);
  if (!singleAccessAllowed(recipient, presented)) throw accessDenied();
  for (const m of request.messages)
    if (m.type !== EnvelopeType.Sealed) throw new ApiError(ErrorCode.BadRequest, 'a sealed send carries sealed-sender ciphertexts (type 6) only');
}

/**
 * A libsignal multi-recipient message: checked against the presented key (the XOR of
 * every recipient account's key), then split into one payload per recipient account,
 * stored for each listed device like any multi send (409/410 as usual; an account that
 * is unknown, or has no key and does not take sealed mail from anyone, answers the 401 of
 * a wrong key).
 */
export async function prepareSealedMulti(
  access: AccessKeyCache,
  presented: Buffer | undefined,
  request: { message: Uint8Array; online: boolean; shortLived: boolean },
  /** Rate limits: `admit` runs once the recipients are known, before any lookup; `refused` may turn the 401 into another error. */
  gate?: { admit(accountIds: readonly string[]): void; refused(accountIds: readonly string[], err: ApiError): unknown },
): Promise<MultiSendCommand> {
  // libsignal's binding types want an ArrayBuffer-backed array; a frame's Buffer is one.
  const bytes = request.message as Uint8Array<ArrayBuffer>;
  let parsed: SealedSenderMultiRecipientMessage;
  let recipients: Readonly<Record<string, { deviceIds: number[]; registrationIds: number[] }>>;
  try {
    parsed = new SealedSenderMultiRecipientMessage(bytes);
    recipients = parsed.recipientsByServiceIdString();
  } catch {
    throw new ApiError(ErrorCode.BadRequest, 'not a sealed-sender multi-recipient message');
  }
  const accountIds = Object.keys(recipients);
  if (accountIds.length === 0 || accountIds.length > MAX_GROUP_MEMBERS)
    throw new ApiError(ErrorCode.BadRequest, `a multi-recipient message names 1 to ${MAX_GROUP_MEMBERS} accounts`);
  gate?.admit(accountIds);
  const found = await access.get(accountIds);
  // Unknown accounts answer the same 401 as a wrong key, not 404: no existence oracle.
  if (!multiAccessAllowed(accountIds.map((a) => found.get(a)), presented)) {
    throw gate ? gate.refused(accountIds, accessDenied()) : accessDenied();
  }
  const destinations: MultiSendCommand['destinations'] = [];
  let deviceCount = 0;
  for (const accountId of accountIds) {
    const r = recipients[accountId]!;
    if (r.deviceIds.length > MAX_DEVICES_PER_ACCOUNT) throw new ApiError(ErrorCode.BadRequest, `too many devices for ${accountId}`);
    const payload = Buffer.from(parsed.messageForRecipient(r));
    if (payload.length > MAX_MESSAGE_BYTES) throw new ApiError(ErrorCode.PayloadTooLarge, `the message for ${accountId} is larger than ${MAX_MESSAGE_BYTES} bytes`);
    const messages = r.deviceIds.map((deviceId, i) => ({
      deviceId,
      registrationId: r.registrationIds[i]!,
      type: EnvelopeType.Sealed,
      content: payload,
      guid: randomUUID(),
    }));
    deviceCount += messages.length;
    destinations.push({ accountId, messages });
  }
  // libsignal's excludedRecipients: listed with no device (the sender's own account when
  // it has no other device), so the fan-out's account set is the group's. They are not
  // looked up at all: nothing is stored for them, they need no key, and any answer about
  // them (unknown, or which devices they have) would be an oracle open to anyone.
  const excluded = parsed.excludedRecipientServiceIdStrings();
  if (excluded.length > MAX_GROUP_MEMBERS) throw new ApiError(ErrorCode.BadRequest, `a multi-recipient message excludes at most ${MAX_GROUP_MEMBERS} accounts`);
  return { kind: 'multi', sender: SEALED_SENDER, timestamp: 0, online: request.online, shortLived: request.shortLived, destinations, deviceCount, sealedExcludes: excluded.length > 0 };
}
