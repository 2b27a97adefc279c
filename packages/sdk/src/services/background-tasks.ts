import { asError, KluisError } from '../errors.js';

/** Work the client starts on its own (device list, key top-ups, syncs): close() waits for it; failures become 'error' events. */
export class BackgroundTasks {
  private readonly tasks = new Set<Promise<unknown>>();

  constructor(
    private readonly isClosed: () => boolean,
    private readonly report: (e: Error) => void,
  ) {}

  run(what: string, task: () => Promise<unknown>): void {
    if (this.isClosed()) return;
    const p = task()
      .catch((e: unknown) => {
        if (this.isClosed()) return;
        const err = asError(e);
        if (!(err instanceof KluisError)) err.message = `${what}: ${err.message}`;
        this.report(err);
      })
      .finally(() => this.tasks.delete(p));
    this.tasks.add(p);
  }

  /** Resolves once every task (also those started while waiting) has settled. */
  async drain(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }
}
