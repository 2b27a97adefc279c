import { ProtocolAddress } from '@signalapp/libsignal-client';
import { EnvelopeType } from '@kluis/protocol';
import type { Ctx } from '../context.js';
import { ServerError } from '../errors.js';
import { b64 } from '../keys.js';
import type { Sender } from '../sender.js';
import type { DecryptionErrorRow } from '../store/data-store.js';

/** A sent message is resent at most this often in answer to resend requests. */
export const MAX_RESENDS = 3;
/**
 * A resend request for a sealed envelope (no timestamp) is answered with the latest
 * message to that account at most this old: as long as sent content is kept (24 h), so a
 * recipient who was offline for hours still gets it; resending the wrong one is harmless
 * (receivers drop duplicates by sender and timestamp).
 */
export const SEALED_RESEND_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Resend requests (envelope type 8) both ways: the ones we owe for envelopes we could not
 * decrypt (recorded by the receiver, sent from here), and answers to the ones we get.
 */
export class ResendRequests {
  private flushing: Promise<void> | undefined;
  private flushAgain = false;

  constructor(
    private readonly ctx: Ctx,
    private readonly sender: Sender,
  ) {}

  /** Answers a resend request: drop the session with that device, resend the original over a fresh one. */
  async answer(accountId: string, deviceId: number, timestamp: number): Promise<void> {
    const { store, data } = this.ctx;
    const address = ProtocolAddress.new(accountId, deviceId).toString();
    await this.ctx.locks.run(accountId, () => store.deleteSession(address));
    // A fresh session means that device lost our sender keys too: hand them out again.
    this.ctx.conv.forgetSenderKeyShared(address);
    // 0: the lost envelope was sealed and carried no timestamp. The latest 1:1 message to
    // them is the likely one (a duplicate is dropped by its content timestamp); anything
    // older shows as a gap in the counters once it arrives, and is asked for by counter.
    const sent = timestamp === 0 ? data.latestSentTo(accountId, this.ctx.now() - SEALED_RESEND_WINDOW_MS) : data.getSentContent(timestamp, accountId);
    if (!sent || sent.resends >= MAX_RESENDS) return;
    data.bumpResends(sent.timestamp, sent.accountId);
    await this.sender.sendToAccount(accountId, sent.content, sent.timestamp, {
      onlyDevices: [deviceId],
      freshDevices: [deviceId],
    });
  }

  /** Sends every recorded, unsent resend request (envelope type 8, `resend: true`). */
  flush(): void {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    const run = async () => {
      do {
        this.flushAgain = false;
        for (const row of this.ctx.data.unsentDecryptionErrors()) await this.send(row);
      } while (this.flushAgain);
    };
    const p = run().finally(() => {
      if (this.flushing === p) this.flushing = undefined;
    });
    this.flushing = p;
    this.ctx.background('resend request', () => p);
  }

  private async send(row: DecryptionErrorRow): Promise<void> {
    let registrationId = row.registrationId;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (registrationId === null || attempt > 0) {
        try {
          const res = await this.ctx.api().fetchBundles(row.accountId, row.deviceId);
          registrationId = res.devices.find((d) => d.deviceId === row.deviceId)?.registrationId ?? null;
        } catch (e) {
          if (!(e instanceof ServerError && e.status === 404)) throw e;
          registrationId = null;
        }
        if (registrationId === null) break; // the device is gone
      }
      const res = await this.ctx.transmit(row.accountId, {
        timestamp: this.ctx.now(),
        resend: true,
        messages: [{ deviceId: row.deviceId, registrationId, type: EnvelopeType.Plaintext, content: b64(row.request) }],
      });
      if (res.status === 410) continue;
      if (res.status >= 300 && res.status !== 409)
        throw new ServerError(res.status, 'RESEND_REQUEST_FAILED', `resend request answered ${res.status}`, res.body);
      break;
    }
    this.ctx.data.markDecryptionErrorSent(row.guid);
  }
}
