import type { ClientServices } from './create-client.js';
import type { ConversationInfo } from '../types.js';

/** Conversations as a whole: `client.conversations`. */
export class ConversationsApi {
  constructor(private readonly s: ClientServices) {}

  async list(): Promise<ConversationInfo[]> {
    this.s.account.me();
    return this.s.convo.list();
  }

  /** Marks everything in a conversation read: read receipts (unless turned off), timers start. */
  async markRead(conversation: string): Promise<number> {
    this.s.account.me();
    return this.s.convo.messenger.markRead(this.s.convo.conversationKey(conversation));
  }

  async typing(conversation: string, started = true): Promise<void> {
    this.s.account.me();
    await this.s.convo.messenger.typing(conversation, started);
  }

  /** Disappearing messages: 0 (off) or 30 s to 4 weeks, for everyone in the conversation. */
  async setTimer(conversation: string, seconds: number): Promise<void> {
    this.s.account.me();
    await this.s.convo.setTimer(conversation, seconds);
  }
}
