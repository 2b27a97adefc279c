import { isGroupConversation } from '@kluis/protocol/conversation-ids';
import type { Client, StoredMessage } from '@kluis/sdk';
import { NameBook, visibleState } from './format.js';

export interface Follower {
  names: NameBook;
  /** Resolves once everything reported so far has been printed. */
  flush(): Promise<void>;
}

/**
 * Reports new messages, and updates a reader would notice (edits, deletions, reactions;
 * not receipts or downloads), in arrival order, with group titles resolved first.
 */
export async function followMessages(
  client: Client,
  report: (m: StoredMessage, update: boolean, names: NameBook) => void,
  filter: (m: StoredMessage) => boolean = () => true,
): Promise<Follower> {
  const recent = await client.messages.list({ limit: 1000 });
  const seen = new Map(recent.map((m) => [m.id, visibleState(m)]));
  const names = await NameBook.load(client, recent);
  let queue = Promise.resolve();
  const enqueue = (m: StoredMessage, update: boolean) => {
    queue = queue.then(async () => {
      // A group's first message can arrive just before its state is reported.
      if (isGroupConversation(m.conversation) && !names.groupTitle(m.conversation)) {
        const g = await client.groups.find(m.conversation).catch(() => undefined);
        if (g) names.addGroup(g);
      }
      names.addMessage(m);
      report(m, update, names);
    });
  };
  client.on('group-updated', (g) => names.addGroup(g));
  client.on('message', (m) => {
    seen.set(m.id, visibleState(m));
    if (filter(m)) enqueue(m, false);
  });
  client.on('message-updated', (m) => {
    const state = visibleState(m);
    if (seen.get(m.id) === state) return;
    seen.set(m.id, state);
    if (filter(m)) enqueue(m, true);
  });
  return { names, flush: () => queue };
}
