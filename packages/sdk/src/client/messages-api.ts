import { KluisError } from '../errors.js';
import type { ClientServices } from './create-client.js';
import type { StoredMessage } from '../types.js';

/** Stored messages and what can be done to one: `client.messages`. */
export class MessagesApi {
  constructor(private readonly s: ClientServices) {}

  /** Local history, oldest first (the last `limit`, default 1000): a username or group conversation id. */
  async list(o: { conversation?: string; limit?: number } = {}): Promise<StoredMessage[]> {
    this.s.account.assertOpen();
    return this.s.convo.messages(o);
  }

  /** One stored message by id (undefined if unknown or deleted locally). */
  async get(id: string): Promise<StoredMessage | undefined> {
    this.s.account.assertOpen();
    return this.s.convo.message(id);
  }

  /** Messages whose id starts with `prefix` (an indexed lookup), at most `limit` (default 6): for short ids typed by a person. */
  async findByIdPrefix(prefix: string, limit = 6): Promise<StoredMessage[]> {
    this.s.account.assertOpen();
    if (!prefix) throw new KluisError('EMPTY_PREFIX', 'give at least one character of the message id');
    return this.s.convo.messagesByIdPrefix(prefix, limit);
  }

  /** Full-text search over local history (newest `limit` matches, oldest first). */
  async search(text: string, o: { conversation?: string; limit?: number } = {}): Promise<StoredMessage[]> {
    this.s.account.assertOpen();
    return this.s.convo.search(text, o);
  }

  /** Earlier versions of an edited message, oldest first. */
  async history(messageId: string): Promise<Array<{ editedAt: number; text: string }>> {
    this.s.account.assertOpen();
    return this.s.convo.history(messageId);
  }

  /** One reaction per person per message: a new one replaces ours; `remove` takes it back. */
  async react(messageId: string, emoji: string, o: { remove?: boolean } = {}): Promise<void> {
    this.s.account.me();
    await this.s.convo.messenger.react(messageId, emoji, o.remove ?? false);
  }

  /** Our own messages, within 24 hours; receivers keep the earlier text as history. */
  async edit(messageId: string, text: string): Promise<void> {
    this.s.account.me();
    await this.s.convo.messenger.edit(messageId, text);
  }

  /** Removes text and files of our own message on every recipient's devices (within 24 hours). */
  async deleteForEveryone(messageId: string): Promise<void> {
    this.s.account.me();
    await this.s.convo.messenger.deleteForEveryone(messageId);
  }

  async deleteForMe(messageId: string): Promise<void> {
    this.s.account.me();
    await this.s.convo.messenger.deleteForMe(messageId);
  }

  /** Copies attachment `index` of a message to `destPath` (fetching and verifying it first). */
  async saveAttachment(messageId: string, index: number, destPath: string): Promise<void> {
    this.s.account.me();
    await this.s.convo.attachments.saveTo(messageId, index, destPath);
  }
}
