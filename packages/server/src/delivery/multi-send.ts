import { randomUUID } from 'node:crypto';
import { ErrorCode, MAX_MESSAGE_BYTES, type MultiSendRequest, type MultiSendResponse } from '@kluis/protocol';
import type { DeviceIdentity } from '../auth/device-auth.js';
import { ApiError } from '../errors.js';
import type { SendCommand, SendOutcome } from './send.js';

/** A validated multi-recipient send, ciphertexts decoded: stored by the writer in one transaction. */
export interface MultiSendCommand {
  kind: 'multi';
  sender: DeviceIdentity;
  timestamp: number;
  online: boolean;
  /** Stored with a short expiry (see SendCommand.shortLived). */
  shortLived: boolean;
  destinations: Array<{ accountId: string; messages: SendCommand['messages'] }>;
  /** Envelope rows this send writes (the writer sizes its transactions by rows). */
  deviceCount: number;
  /**
   * deviceKey()s of listed devices whose queues are full (queue-caps.ts): they count in the
   * device-list check like any listed device, but nothing is stored for them.
   */
  withheld?: ReadonlySet<string>;
  /**
   * A sealed fan-out that names accounts in libsignal's excludedRecipients: the sender's
   * own account is among them (it has no other device), so its sending device is not in
   * the listed accounts and none of their devices may be left out.
   */
  sealedExcludes?: boolean;
}

/** A MultiSendRequest with its ciphertexts as raw bytes (binary socket, or decoded HTTP body). */
export interface DecodedMultiSendRequest {
  timestamp?: number;
  online?: boolean;
  shortLived?: boolean;
  urgent?: boolean;
  shared?: { type: number; content: Buffer };
  recipients: Array<{ accountId: string; devices: Array<{ deviceId: number; registrationId: number; type?: number; content?: Buffer }> }>;
}

/** The HTTP route's body decoded once (the schema checked the base64 is canonical). */
export function decodeMultiSendRequest(request: MultiSendRequest): DecodedMultiSendRequest {
  return {
    ...request,
    shared: request.shared && { type: request.shared.type, content: Buffer.from(request.shared.content, 'base64') },
    recipients: request.recipients.map((r) => ({
      accountId: r.accountId,
      devices: r.devices.map((d) => ({ ...d, content: d.content === undefined ? undefined : Buffer.from(d.content, 'base64') })),
    })),
  };
}

export interface MultiSendSubmitter {
  submitMulti(command: MultiSendCommand): Promise<SendOutcome>;
}

/**
 * Checks what the schema cannot: the shared / per-device exclusivity, duplicates, the
 * sending device itself, sizes. A shared ciphertext is one Buffer for every device.
 */
export function prepareMultiSend(sender: DeviceIdentity, request: DecodedMultiSendRequest): MultiSendCommand {
  const shared = request.shared && {
    type: request.shared.type,
    content: checkCiphertext(request.shared.content, 'the shared ciphertext'),
  };
  const accounts = new Set<string>();
  const destinations: MultiSendCommand['destinations'] = [];
  let deviceCount = 0;
  for (const r of request.recipients) {
    if (accounts.has(r.accountId)) throw bad(`account ${r.accountId} is listed twice`);
    accounts.add(r.accountId);
    const own = r.accountId === sender.accountId;
    const seen = new Set<number>();
    const messages: SendCommand['messages'] = [];
    for (const d of r.devices) {
      if (seen.has(d.deviceId)) throw bad(`device ${d.deviceId} of account ${r.accountId} is listed twice`);
      seen.add(d.deviceId);
      // Unlike a single send (409 extra device), this is a client bug, not a stale list.
      if (own && d.deviceId === sender.deviceId) throw bad('the sending device cannot be a recipient');
      const carries = d.type !== undefined || d.content !== undefined;
      if (shared) {
        if (carries) throw bad('with a shared ciphertext, devices carry no type or content');
        messages.push({ deviceId: d.deviceId, registrationId: d.registrationId, ...shared, guid: randomUUID() });
        continue;
      }
      if (d.type === undefined || d.content === undefined) {
        throw bad(`without a shared ciphertext, every device needs its own type and content (account ${r.accountId}, device ${d.deviceId})`);
      }
      const content = checkCiphertext(d.content, `the ciphertext for device ${d.deviceId} of account ${r.accountId}`);
      messages.push({ deviceId: d.deviceId, registrationId: d.registrationId, type: d.type, content, guid: randomUUID() });
    }
    deviceCount += messages.length;
    destinations.push({ accountId: r.accountId, messages });
  }
  return { kind: 'multi', sender, timestamp: request.timestamp ?? 0, online: request.online === true, shortLived: request.shortLived === true, destinations, deviceCount };
}

/** The one multi-send implementation behind PUT /v1/messages and the socket's 'send-multi' frame. */
export async function sendMulti(writer: MultiSendSubmitter, sender: DeviceIdentity, request: DecodedMultiSendRequest): Promise<MultiSendResponse> {
  const outcome = await writer.submitMulti(prepareMultiSend(sender, request));
  if (!outcome.ok) throw outcome.error;
  return outcome.response;
}

function checkCiphertext(content: Buffer, what: string): Buffer {
  if (content.length === 0) throw bad(`${what} is empty`);
  if (content.length > MAX_MESSAGE_BYTES) throw new ApiError(ErrorCode.PayloadTooLarge, `${what} is larger than ${MAX_MESSAGE_BYTES} bytes`);
  return content;
}

function bad(message: string): ApiError {
  return new ApiError(ErrorCode.BadRequest, message);
}
