import { randomUUID } from 'node:crypto';
import { ErrorCode, EnvelopeType, MAX_MESSAGE_BYTES, type SendRequest, type SendResponse } from '@kluis/protocol';
import { ApiError } from '../errors.js';
import type { DeviceIdentity } from '../auth/device-auth.js';

/** A validated send, ciphertexts decoded: what the group-commit writer stores. */
export interface SendCommand {
  sender: DeviceIdentity;
  destination: string;
  /** The sender's, 0 when it sent none; never stored for sealed envelopes. */
  timestamp: number;
  resend: boolean;
  /** Never stored: pushed to the devices connected right now, dropped for the others. */
  online: boolean;
  /** Stored with a short expiry (SHORT_LIVED_TTL_MS, rounded up to the hour): call signals. Ignored with `online`. */
  shortLived: boolean;
  messages: Array<{
    deviceId: number;
    registrationId: number;
    type: number;
    content: Buffer;
    guid: string;
  }>;
}

/** One ciphertext for one device, as raw bytes (from the binary socket, or base64-decoded HTTP). */
export interface OutgoingCiphertext {
  deviceId: number;
  registrationId: number;
  type: number;
  content: Buffer;
}

/** A SendRequest with its ciphertexts decoded: what both transports hand to the send path. */
export interface DecodedSendRequest {
  timestamp?: number;
  messages: OutgoingCiphertext[];
  resend?: boolean;
  online?: boolean;
  shortLived?: boolean;
}

/** The HTTP route's body (canonical base64, checked by the schema) as raw bytes, decoded once. */
export function decodeSendRequest(request: SendRequest): DecodedSendRequest {
  return { ...request, messages: request.messages.map((m) => ({ ...m, content: Buffer.from(m.content, 'base64') })) };
}

/** Checks what the schema cannot (duplicates, sizes). */
export function prepareSend(sender: DeviceIdentity, destination: string, request: DecodedSendRequest): SendCommand {
  const seen = new Set<number>();
  const messages: SendCommand['messages'] = [];
  for (const m of request.messages) {
    if (seen.has(m.deviceId)) throw new ApiError(ErrorCode.BadRequest, `device ${m.deviceId} is listed twice`);
    seen.add(m.deviceId);
    const content = m.content;
    if (content.length === 0) throw new ApiError(ErrorCode.BadRequest, `the ciphertext for device ${m.deviceId} is empty`);
    if (content.length > MAX_MESSAGE_BYTES) {
      throw new ApiError(ErrorCode.PayloadTooLarge, `the ciphertext for device ${m.deviceId} is larger than ${MAX_MESSAGE_BYTES} bytes`);
    }
    messages.push({ deviceId: m.deviceId, registrationId: m.registrationId, type: m.type, content, guid: randomUUID() });
  }
  return { sender, destination, timestamp: request.timestamp ?? 0, resend: request.resend === true, online: request.online === true, shortLived: request.shortLived === true, messages };
}

/** Sealed-sender envelopes keep no sender: the server must not learn who wrote them. */
export function isSealed(type: number): boolean {
  return type === EnvelopeType.Sealed;
}

export type SendOutcome = { ok: true; response: SendResponse } | { ok: false; error: ApiError };

export interface SendSubmitter {
  submit(command: SendCommand): Promise<SendOutcome>;
}

/** The one send implementation behind PUT /v1/messages/:accountId and the socket's 'send' frame. */
export async function sendMessage(writer: SendSubmitter, sender: DeviceIdentity, destination: string, request: DecodedSendRequest): Promise<SendResponse> {
  const outcome = await writer.submit(prepareSend(sender, destination, request));
  if (!outcome.ok) throw outcome.error;
  return outcome.response;
}
