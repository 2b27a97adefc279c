export { Harness, type TestServer, type ServerProcess } from './harness.js';
export { CliProcess, freePort, KLUIS_BIN, KLUIS_ENTRY, REPO_ROOT, SOURCE_EXEC_ARGV, type CliResult } from './processes.js';
export { collect, waitUntil } from './wait.js';
export { COTURN_REALM, startCoturn, TURNSERVER_BIN, type Coturn, type CoturnOptions } from './coturn.js';
export { WithholdingProxy } from './withholding-proxy.js';
