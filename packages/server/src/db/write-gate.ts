import { SqliteDialect, type DatabaseConnection, type Driver, type SqliteDialectConfig, type TransactionSettings } from 'kysely';

/**
 * Holds every Kysely use of the server's SQLite connection back for a moment, without
 * blocking the event loop: while paused, queries and transactions wait (as promises) and
 * sockets, pushes and timers go on. The checkpointer uses it to get a quiet moment in
 * which the last few WAL frames are copied on its worker, so that the TRUNCATE which
 * follows on this connection has nothing left to copy or fsync (checkpointer.ts).
 */
export class WriteGate {
  private holders = 0;
  private paused: Promise<void> | undefined;
  private resumePaused: (() => void) | undefined;
  private drained: (() => void) | undefined;

  /** Counts the caller in (until leave()) unless paused: the every-query path, no promise. */
  tryEnter(): boolean {
    if (this.paused) return false;
    this.holders++;
    return true;
  }

  /** Waits while paused, then counts the caller in (until leave()). */
  async enter(): Promise<void> {
    while (this.paused) await this.paused;
    this.holders++;
  }

  leave(): void {
    this.holders--;
    if (this.holders === 0) this.drained?.();
  }

  /**
   * Resolves once everyone already in has left; until `resume` is called, nobody new gets
   * in. Only one pause at a time: a second caller gets undefined.
   */
  async pause(): Promise<(() => void) | undefined> {
    if (this.paused) return undefined;
    this.paused = new Promise<void>((resolve) => (this.resumePaused = resolve));
    if (this.holders > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.drained = undefined;
    return () => this.resume();
  }

  get isPaused(): boolean {
    return this.paused !== undefined;
  }

  private resume(): void {
    const resolve = this.resumePaused;
    this.paused = undefined;
    this.resumePaused = undefined;
    resolve?.();
  }
}

/** Kysely's SQLite dialect with every connection acquisition passing the gate. */
export class GatedSqliteDialect extends SqliteDialect {
  constructor(
    config: SqliteDialectConfig,
    private readonly gate: WriteGate,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new GatedDriver(super.createDriver(), this.gate);
  }
}

class GatedDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly gate: WriteGate,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (!this.gate.tryEnter()) await this.gate.enter();
    try {
      return await this.inner.acquireConnection();
    } catch (err) {
      this.gate.leave();
      throw err;
    }
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  savepoint: Driver['savepoint'] = (connection, name, compile) => this.inner.savepoint!(connection, name, compile);
  rollbackToSavepoint: Driver['rollbackToSavepoint'] = (connection, name, compile) => this.inner.rollbackToSavepoint!(connection, name, compile);
  releaseSavepoint: Driver['releaseSavepoint'] = (connection, name, compile) => this.inner.releaseSavepoint!(connection, name, compile);

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.releaseConnection(connection);
    } finally {
      this.gate.leave();
    }
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
