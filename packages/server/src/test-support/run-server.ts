/**
 * A server in its own process, for tests that kill it (SIGKILL). Config from env:
 * KLUIS_TEST_DATA (data dir). Prints {"url": ...} on stdout once listening.
 */
import { startServer } from '../start-server.js';

const server = await startServer(
  {
    dataDir: process.env.KLUIS_TEST_DATA!,
    host: '127.0.0.1',
    port: 0,
    envelopeTtlMs: 86_400_000,
    argon2MemoryKib: 64,
    argon2Iterations: 1,
  },
  { log: () => {} },
);
process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
