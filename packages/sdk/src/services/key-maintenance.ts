import type { KeyManager } from '../prekeys.js';
import type { DataStore } from '../store/data-store.js';
import type { Transport } from '../transport/transport.js';
import type { AccountSlot } from './account-slot.js';
import type { BackgroundTasks } from './background-tasks.js';

/** How long after a one-time prekey was used the client tops the server's stock back up. */
const PREKEY_TOP_UP_DELAY_MS = 1000;

/** Keeps the server's stock of our prekeys topped up and our signed keys fresh. */
export class KeyMaintenance {
  private running: Promise<void> | undefined;
  /** A key was used while a run was under way: its count may predate that, so run again. */
  private again = false;
  private topUpTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly account: AccountSlot,
    private readonly transport: Transport,
    private readonly keys: KeyManager,
    private readonly data: DataStore,
    private readonly tasks: BackgroundTasks,
  ) {}

  /**
   * A one-time prekey was used: top up soon. First contacts come in bursts (joining a group),
   * so one upload serves the burst rather than one each (uploads are rate-limited per device).
   */
  scheduleTopUp(): void {
    if (this.topUpTimer !== undefined || this.account.isClosed) return;
    this.topUpTimer = setTimeout(() => {
      this.topUpTimer = undefined;
      this.inBackground();
    }, PREKEY_TOP_UP_DELAY_MS);
    this.topUpTimer.unref?.();
  }

  inBackground(): void {
    this.tasks.run('key maintenance', () => this.run());
  }

  /** A pending top-up waits for the next connect (which tops up anyway). */
  stop(): void {
    clearTimeout(this.topUpTimer);
    this.topUpTimer = undefined;
  }

  /** Tops one-time prekeys back up to the target and rotates signed / last-resort keys. */
  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const once = async () => {
      const me = this.account.me();
      const api = this.transport.api();
      const plan = this.keys.planMaintenance(me.identityKeyPair, await api.keyCount());
      if (plan) {
        await api.uploadKeys(plan.request);
        plan.accepted();
      }
      this.keys.pruneReplaced();
      this.data.prune();
    };
    const p = once().finally(() => {
      if (this.running === p) this.running = undefined;
      if (this.again) {
        this.again = false;
        this.inBackground();
      }
    });
    this.running = p;
    return p;
  }
}
