import { ErrorCode } from '@kluis/protocol';
import { ApiError } from '../errors.js';

export interface ReconcileInput {
  /** The destination account's devices: deviceId → registrationId. */
  devices: ReadonlyMap<number, number>;
  /** The sending device, when sending to one's own account (sync copies exclude it). */
  excludeDeviceId?: number;
  messages: ReadonlyArray<{ deviceId: number; registrationId: number }>;
  /** Answering a resend request: a subset of devices is fine, extra or stale ones are not. */
  resend: boolean;
}

export interface DeviceDifferences {
  missing: number[];
  extra: number[];
  /** Only computed when nothing is missing or extra (a 409 comes before a 410). */
  stale: number[];
}

/** The raw comparison behind reconcileDevices; the multi-recipient send reports it per account. */
export function deviceDifferences(input: ReconcileInput): DeviceDifferences {
  const expected = new Set<number>();
  for (const id of input.devices.keys()) if (id !== input.excludeDeviceId) expected.add(id);
  const given = new Set(input.messages.map((m) => m.deviceId));

  const extra = [...given].filter((id) => !expected.has(id)).sort((a, b) => a - b);
  const missing = input.resend ? [] : [...expected].filter((id) => !given.has(id)).sort((a, b) => a - b);
  if (missing.length > 0 || extra.length > 0) return { missing, extra, stale: [] };
  const stale = input.messages
    .filter((m) => input.devices.get(m.deviceId) !== m.registrationId)
    .map((m) => m.deviceId)
    .sort((a, b) => a - b);
  return { missing, extra, stale };
}

/**
 * Signal's device-set check: 409 when the sender's list differs from the account's
 * current devices (missing / extra), else 410 when a listed device was re-registered
 * (registration id differs). Returns undefined when the send may proceed.
 */
export function reconcileDevices(input: ReconcileInput): ApiError | undefined {
  const { missing, extra, stale } = deviceDifferences(input);
  if (missing.length > 0 || extra.length > 0) {
    const parts = [];
    if (missing.length > 0) parts.push(`missing devices ${missing.join(', ')}`);
    if (extra.length > 0) parts.push(`unknown devices ${extra.join(', ')}`);
    return new ApiError(ErrorCode.MismatchedDevices, `the device list is out of date: ${parts.join('; ')}`, {
      missingDevices: missing,
      extraDevices: extra,
    });
  }
  if (stale.length > 0) {
    return new ApiError(ErrorCode.StaleDevices, `devices ${stale.join(', ')} were re-registered; fetch their keys again`, {
      staleDevices: stale,
    });
  }
  return undefined;
}
