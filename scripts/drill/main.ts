/**
 * `npm run drill`: the seizure drill of test/e2e/seizure-drill.test.ts, run on its own
 * and printing its report (what was searched, in which artifact, how many hits).
 * Exits 1 on any hit. KLUIS_KEEP_TEST_DIRS=1 keeps the seized data directory.
 */
import { Harness } from '../../test/harness/harness.js';
import { formatReport } from '../../test/drills/report.js';
import { runSeizureDrill } from '../../test/drills/seizure.js';

const h = new Harness();
try {
  const report = await runSeizureDrill(h);
  process.stdout.write(`${formatReport(report)}\n`);
  process.exitCode = report.ok ? 0 : 1;
} catch (err) {
  process.stderr.write(`the drill could not run: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 2;
} finally {
  await h.dispose();
}
