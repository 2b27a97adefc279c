import { decodeContent, type Content } from '@kluis/protocol';
import type { Ctx } from '../context.js';
import type { Effects, IncomingApplier, IncomingMeta } from '../conversations/incoming.js';
import { toStored } from '../conversations/stored.js';
import { KluisError, SdkErrorCode, ServerError } from '../errors.js';
import type { MessageRow } from '../store/data-store.js';
import type { InboxRow, InboxStore } from '../store/inbox-store.js';
import type { ClientHooks } from '../types.js';

/** A received message that failed to apply this often is set aside (a dead letter) and the next one goes on. */
export const MAX_APPLY_ATTEMPTS = 3;

/**
 * Stage 2 of the receive path: applies the inbox (what stage 1 decrypted, committed and
 * acked) to conversations, oldest first. Per row: the sender's username (an HTTP lookup, with
 * no lock held and no transaction open), then one transaction that applies the message and
 * deletes the row, so a message is applied once even across a crash. Every attempt is
 * counted before it runs; after MAX_APPLY_ATTEMPTS the row becomes a dead letter, the
 * conversation gets a "could not be shown" marker, and the drain goes on.
 */
export class InboxDrain {
  constructor(
    private readonly ctx: Ctx,
    private readonly inbox: InboxStore,
    private readonly applier: IncomingApplier,
    private readonly hooks: ClientHooks,
  ) {}

  /** Applies every row, in arrival order (so one sender's messages stay in order). */
  async drain(): Promise<void> {
    for (let row = this.inbox.next(); row; row = this.inbox.next()) await this.applyRow(row);
  }

  private async applyRow(row: InboxRow): Promise<void> {
    let content: Content | undefined;
    try {
      content = decodeContent(row.content);
    } catch {
      // Stage 1 decoded it; should a later version not, every attempt fails and the row is set aside.
    }
    const { meta, contact } = await this.metaOf(row, content);
    let fx: Effects | undefined;
    let failure: unknown;
    while (!fx && row.attempts < MAX_APPLY_ATTEMPTS) {
      const attempts = this.inbox.recordAttempt(row.id);
      if (attempts === 0) return; // the row is gone: nothing to apply
      row.attempts = attempts;
      try {
        fx = this.applyOnce(row, meta, content, contact);
      } catch (e) {
        failure = e;
      }
    }
    if (fx) this.emitEffects(fx);
    else this.bury(row, meta, content, failure);
  }

  private applyOnce(row: InboxRow, meta: IncomingMeta, content: Content | undefined, contact: boolean): Effects {
    const { store, data } = this.ctx;
    return store.transaction(() => {
      this.hooks.beforeApply?.({ guid: row.guid, sourceAccount: row.sourceAccount, attempt: row.attempts });
      if (!content) throw new KluisError(SdkErrorCode.UnreadableContent, 'the stored message could not be decoded');
      if (contact) data.putContact(meta.src, meta.senderUsername);
      const fx = this.applier.apply(meta, content);
      this.inbox.delete(row.id);
      return fx;
    });
  }

  /** The row becomes a dead letter, with a marker where it would have shown; only a count is reported. */
  private bury(row: InboxRow, meta: IncomingMeta, content: Content | undefined, failure: unknown): void {
    const { store, conv, data } = this.ctx;
    let marker: MessageRow | undefined;
    store.transaction(() => {
      // Its own savepoint: whatever broke applying may break the marker too, and must not keep the row.
      try {
        if (content) marker = store.transaction(() => this.applier.notShown(meta, content));
      } catch {
        marker = undefined;
      }
      this.inbox.bury(row, marker?.conversation ?? null);
    });
    if (marker) this.ctx.emit('message', toStored(marker, conv, (a) => data.usernameOf(a)));
    // The failure's kind only: its message could quote the content.
    const kind =
      failure === undefined
        ? 'earlier runs stopped while applying it'
        : failure instanceof KluisError
          ? failure.code
          : failure instanceof Error
            ? failure.name
            : typeof failure;
    const total = this.inbox.countDeadLetters();
    this.ctx.emit(
      'error',
      new KluisError(SdkErrorCode.MessageNotShown, `a received message could not be shown after ${row.attempts} attempts (${kind}); ${total} set aside so far`),
    );
  }

  /** What the applier needs besides the content; the sender's name is checked with the server if we do not know it. */
  private async metaOf(row: InboxRow, content: Content | undefined): Promise<{ meta: IncomingMeta; contact: boolean }> {
    const me = this.ctx.me();
    const src = row.sourceAccount;
    let senderUsername = me.username;
    let contact = false;
    if (src !== me.accountId) {
      const sender = content ? await this.resolveSender(src, claimedUsername(content)) : { username: this.ctx.data.usernameOf(src) ?? src, verified: false };
      senderUsername = sender.username;
      contact = sender.verified;
    }
    const meta: IncomingMeta = {
      guid: row.guid,
      serverTimestamp: row.serverTimestamp,
      src,
      dev: row.sourceDevice,
      senderUsername,
      viaSenderKey: row.viaSenderKey,
    };
    return { meta, contact };
  }

  /** The sender's username: our contact cache, else the claimed name checked against the server. */
  private async resolveSender(accountId: string, claimed: string): Promise<{ username: string; verified: boolean }> {
    const known = this.ctx.data.usernameOf(accountId);
    if (known) return { username: known, verified: true };
    if (!claimed) return { username: accountId, verified: false };
    try {
      const r = await this.ctx.api().lookupUsername(claimed);
      if (r.accountId === accountId) return { username: r.username, verified: true };
      return { username: accountId, verified: false };
    } catch (e) {
      if (e instanceof ServerError && e.status === 404) return { username: accountId, verified: false };
      return { username: claimed, verified: false };
    }
  }

  private emitEffects(fx: Effects): void {
    const { data, conv } = this.ctx;
    const name = (a: string) => data.usernameOf(a);
    for (const m of fx.created) this.ctx.emit('message', toStored(m, conv, name));
    for (const id of fx.updated) {
      const m = data.getMessage(id);
      if (m) this.ctx.emit('message-updated', toStored(m, conv, name));
    }
    for (const r of fx.removed) this.ctx.emit('message-removed', r);
    for (const fn of fx.later) {
      try {
        fn();
      } catch (e) {
        this.ctx.emit('error', e instanceof Error ? e : new Error(String(e)));
      }
    }
  }
}

function claimedUsername(c: Content): string {
  if (c.body.case === 'data') return c.body.value.senderUsername;
  if (c.body.case === 'call') return c.body.value.senderUsername;
  if (c.body.case === 'edit') return c.body.value.data?.senderUsername ?? '';
  return '';
}
