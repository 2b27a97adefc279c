import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Every file under `dir` (the server's data dir: database, WAL, shm, token files). */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

/** Which of `needles` occur in any file under `dir`, as UTF-8 or UTF-16LE bytes. */
export async function findPlaintexts(dir: string, needles: string[]): Promise<Array<{ needle: string; file: string }>> {
  const hits: Array<{ needle: string; file: string }> = [];
  for (const file of await filesUnder(dir)) {
    const bytes = await readFile(file);
    for (const needle of needles) {
      if (bytes.includes(Buffer.from(needle, 'utf8')) || bytes.includes(Buffer.from(needle, 'utf16le'))) {
        hits.push({ needle, file });
      }
    }
  }
  return hits;
}
