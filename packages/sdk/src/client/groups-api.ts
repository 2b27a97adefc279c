import type { FileInput } from '../conversations/conversations.js';
import type { ClientServices } from './create-client.js';
import type { GroupInfo } from '../types.js';

/** Groups we are in: `client.groups`. A group is named by its conversation id ("g:…"). */
export class GroupsApi {
  constructor(private readonly s: ClientServices) {}

  /** Creates a group (we are its admin), optionally with a picture; returns its conversation id. */
  async create(title: string, members: string[], o: { avatar?: FileInput } = {}): Promise<string> {
    this.s.account.me();
    const avatar = o.avatar ? await this.s.convo.attachments.upload(o.avatar) : undefined;
    return this.s.convo.groupAdmin.createGroup(title, members, avatar);
  }

  async list(): Promise<GroupInfo[]> {
    this.s.account.me();
    return this.s.convo.book.list();
  }

  /** A group by conversation id, hex id or exact title. */
  async find(nameOrId: string): Promise<GroupInfo | undefined> {
    this.s.account.me();
    return this.s.convo.findGroup(nameOrId);
  }

  /** Admins: a new group picture (an image file), or none. */
  async setAvatar(conversation: string, avatar: FileInput | undefined): Promise<void> {
    this.s.account.me();
    await this.s.convo.groupAdmin.setGroupAvatar(conversation, avatar ? await this.s.convo.attachments.upload(avatar) : undefined);
  }

  /** Saves the group's picture to `destPath`; false when the group has none. */
  async saveAvatar(conversation: string, destPath: string): Promise<boolean> {
    this.s.account.me();
    const pointer = this.s.convo.book.state(this.s.convo.findGroup(conversation)?.id ?? '')?.avatar;
    if (!pointer) return false;
    await this.s.convo.attachments.savePointer(pointer, destPath);
    return true;
  }

  async addMembers(conversation: string, usernames: string[]): Promise<void> {
    this.s.account.me();
    await this.s.convo.groupAdmin.addMembers(conversation, usernames);
  }

  async removeMembers(conversation: string, usernames: string[]): Promise<void> {
    this.s.account.me();
    await this.s.convo.groupAdmin.removeMembers(conversation, usernames);
  }

  async promote(conversation: string, username: string): Promise<void> {
    this.s.account.me();
    await this.s.convo.groupAdmin.promote(conversation, username);
  }

  async rename(conversation: string, title: string): Promise<void> {
    this.s.account.me();
    await this.s.convo.groupAdmin.renameGroup(conversation, title);
  }

  async leave(conversation: string): Promise<void> {
    this.s.account.me();
    await this.s.convo.groupAdmin.leaveGroup(conversation);
  }
}
