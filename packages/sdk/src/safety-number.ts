import { Aci, Fingerprint, type PublicKey } from '@signalapp/libsignal-client';

/** Signal's parameters: 5200 iterations, version 2; both sides compute the same 60 digits. */
const ITERATIONS = 5200;
const VERSION = 2;

export function safetyNumber(localAccountId: string, localKey: PublicKey, remoteAccountId: string, remoteKey: PublicKey): string {
  return Fingerprint.new(
    ITERATIONS,
    VERSION,
    Aci.fromUuid(localAccountId).getServiceIdBinary(),
    localKey,
    Aci.fromUuid(remoteAccountId).getServiceIdBinary(),
    remoteKey,
  )
    .displayableFingerprint()
    .toString();
}
