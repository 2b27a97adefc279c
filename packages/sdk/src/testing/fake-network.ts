import { join } from 'node:path';
import { Client } from '../client.js';
import { tempDir } from '../store/test-util.js';
import type { OpenOptions, StoredMessage } from '../types.js';
import { FakeServer } from './fake-server.js';
import { inbox, nextEvent } from './helpers.js';
import { servicesOf } from './services.js';

export interface FakeUser {
  client: Client;
  name: string;
  /** Account id. */
  id: string;
}

/**
 * The in-memory fake server and the clients of one test file: registered users, linked
 * devices, everything closed between tests. For the SDK's unit tests of the send side
 * (sender, messenger, group admin), where a real server would only cost time.
 */
export class FakeNetwork {
  readonly server = new FakeServer();
  private readonly dir = tempDir();
  private clients: Client[] = [];
  private n = 0;

  /**
   * Defaults for every client: no sealed sender (the fake server has none: each client
   * would try a certificate once and fall back), fast link polling.
   */
  constructor(private readonly defaults: Partial<OpenOptions> = { sealedSender: false }) {}

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  async open(name: string, extra: Partial<OpenOptions> = {}): Promise<Client> {
    const c = await Client.open({ profileDir: join(this.dir.dir, `${name}-${this.n++}`), passphrase: 'pw', pollIntervalMs: 20, ...this.defaults, ...extra });
    this.clients.push(c);
    return c;
  }

  /** A fresh account (primary device) with a unique username starting with `base`; not connected. */
  async user(base: string, extra: Partial<OpenOptions> = {}): Promise<FakeUser> {
    const name = `${base}${this.n++}`;
    const client = await this.open(name, extra);
    await client.register({ serverUrl: this.server.url, inviteCode: this.server.invite(), username: name });
    return { client, name, id: client.account!.accountId };
  }

  /** A new device linked to `primary`'s account; not connected. */
  async link(primary: Client, extra: Partial<OpenOptions> = {}): Promise<Client> {
    const second = await this.open(`${primary.account!.username}-linked`, extra);
    const { code } = await primary.devices.createLinkCode();
    await Promise.all([primary.devices.approveLink(code, { confirm: () => true }), second.link({ serverUrl: this.server.url, code })]);
    return second;
  }

  /** Closes every client opened so far (between tests). */
  async closeClients(): Promise<void> {
    const open = this.clients;
    this.clients = [];
    for (const c of open) await c.close().catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.closeClients();
    await this.server.stop();
    this.dir.cleanup();
  }
}

/** Connects `client`, waits until its backlog is applied, and returns the messages it showed meanwhile. */
export async function connectAndDrain(client: Client): Promise<StoredMessage[]> {
  const got = inbox(client);
  const empty = nextEvent(client, 'queue-empty');
  await client.connect();
  await empty;
  await servicesOf(client).receiver.idle();
  return got;
}

/** Requests from account `from` (any device) to account `to` that the fake server accepted. */
export function acceptedBetween(server: FakeServer, from: string, to: string): FakeServer['accepted'] {
  return server.accepted.filter((a) => a.to === to && a.from.startsWith(`${from}.`));
}
