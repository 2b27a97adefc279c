export { Harness, type TestServer, type ServerProcess } from './harness.js';
export { CliProcess, freePort, KLUIS_BIN, REPO_ROOT, type CliResult } from './processes.js';
export { collect, waitUntil } from './wait.js';
export { WithholdingProxy } from './withholding-proxy.js';
