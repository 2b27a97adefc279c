import { Writable } from 'node:stream';
import { main, type CliIo } from '@kluis/cli';

/** Runs the CLI in this process: for what needs no account or fails before a profile is opened (help, argument checks). */
export async function cliInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        append(String(chunk));
        done();
      },
    });
  const io: CliIo = { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), env: {} };
  const code = await main(['node', 'kluis', ...args], io);
  return { code, stdout, stderr };
}
