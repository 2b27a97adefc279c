import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The `kluis` process from source: what every test spawns, so that editing src/ is enough. */
export const KLUIS_ENTRY = fileURLToPath(new URL('../../packages/cli/src/entry.ts', import.meta.url));
/** The installed bin, which runs the compiled dist/: only test/build runs it (after `npm run build:ts`). */
export const KLUIS_BIN = fileURLToPath(new URL('../../packages/cli/bin/kluis.js', import.meta.url));
/**
 * Node flags that run TypeScript sources: workspace packages resolve to src/ (their
 * exports' "kluis-source" condition) instead of a possibly stale dist/, and tsx compiles.
 */
export const SOURCE_EXEC_ARGV = ['--conditions=kluis-source', '--import', 'tsx'];

/** A port that was free a moment ago: for servers that must come back on the same port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `kluis` process whose output is collected as it arrives. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<CliResult>;

  /** `bin`: another source entry script (e.g. harness/kluis-node.mjs, the server command alone). */
  constructor(args: string[], env: NodeJS.ProcessEnv, input?: string, bin: string = KLUIS_ENTRY) {
    this.child = spawn(process.execPath, [...SOURCE_EXEC_ARGV, bin, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    if (input !== undefined) this.child.stdin!.end(input);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) =>
        // 'exit' can precede the last 'data' events; 'close' follows both.
        this.child.on('close', () => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr })),
      );
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the first stdout match of `pattern`, or rejects after `timeoutMs` / exit. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.stdout.match(pattern);
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`process exited before printing ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  wait(timeoutMs = 60_000): Promise<CliResult> {
    return Promise.race([
      this.exited,
      new Promise<CliResult>((_, reject) =>
        setTimeout(() => reject(new Error(`kluis ${this.child.spawnargs.slice(2 + SOURCE_EXEC_ARGV.length).join(' ')} did not exit\nstdout: ${this.stdout}\nstderr: ${this.stderr}`)), timeoutMs).unref(),
      ),
    ]);
  }
}
