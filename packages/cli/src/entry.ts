// The `kluis` process: bin/kluis.js runs this compiled (dist/entry.js); the tests run it
// from source (node --conditions=kluis-source --import tsx src/entry.ts) so that an
// edited src/ is what they exercise, never a stale dist/.
import { main } from './main.js';

process.exitCode = await main(process.argv);
