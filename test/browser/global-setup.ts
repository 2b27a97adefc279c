import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { REPO_ROOT } from '../harness/index.js';
import { CHROMIUM_PATH } from './chromium.js';

/** Builds the console (the server serves packages/console/dist) and checks Chromium is there. */
export default function setup(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: run \`apt-get install -y chromium\` (or set KLUIS_CHROMIUM)`);
  }
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit' });
}
