import { patternsOf, type Encoding } from './encodings.js';

/** One thing a server holder has: a file's bytes, a log, a direction of captured traffic. */
export interface Artifact {
  /** Column of the report, e.g. 'database', 'WAL', 'wire →server'. */
  group: string;
  /** Where exactly (a file path, a connection), for hit details. */
  name: string;
  bytes: Buffer;
}

/** Something that must not be found, grouped by kind in the report. */
export interface Secret {
  kind: string;
  /** For hit details only: never the secret itself. */
  label: string;
  value: string | Uint8Array;
}

export interface Hit {
  kind: string;
  label: string;
  artifact: string;
  group: string;
  encoding: Encoding;
  count: number;
}

export interface SearchResult {
  kinds: Array<{ kind: string; needles: number }>;
  groups: string[];
  /** hits[kind][group] */
  counts: Map<string, Map<string, number>>;
  hits: Hit[];
}

/** Every secret in every form, in every artifact. */
export function searchArtifacts(artifacts: readonly Artifact[], secrets: readonly Secret[]): SearchResult {
  const kinds = new Map<string, number>();
  for (const s of secrets) kinds.set(s.kind, (kinds.get(s.kind) ?? 0) + 1);
  const groups = [...new Set(artifacts.map((a) => a.group))];
  const counts = new Map<string, Map<string, number>>();
  for (const k of kinds.keys()) counts.set(k, new Map(groups.map((g) => [g, 0])));
  const index = new PatternIndex(secrets);
  const hits: Hit[] = [];
  for (const a of artifacts) {
    for (const [entry, count] of index.scan(a.bytes)) {
      hits.push({ kind: entry.secret.kind, label: entry.secret.label, artifact: a.name, group: a.group, encoding: entry.encoding, count });
      const row = counts.get(entry.secret.kind)!;
      row.set(a.group, row.get(a.group)! + count);
    }
  }
  return { kinds: [...kinds].map(([kind, needles]) => ({ kind, needles })), groups, counts, hits };
}

interface IndexEntry {
  secret: Secret;
  encoding: Encoding;
  bytes: Buffer;
}

/**
 * Thousands of patterns (every prekey of every client, in ten forms each) over megabytes:
 * one pass per artifact, looking up each position's first PREFIX bytes in a map of pattern
 * prefixes and comparing only the candidates, instead of one scan per pattern.
 */
class PatternIndex {
  private readonly byPrefix = new Map<number, IndexEntry[]>();

  constructor(secrets: readonly Secret[]) {
    for (const secret of secrets) {
      for (const p of patternsOf(secret.value)) {
        const key = p.bytes.readUIntLE(0, PREFIX);
        let list = this.byPrefix.get(key);
        if (!list) this.byPrefix.set(key, (list = []));
        list.push({ secret, encoding: p.encoding, bytes: p.bytes });
      }
    }
  }

  scan(haystack: Buffer): Map<IndexEntry, number> {
    const found = new Map<IndexEntry, number>();
    const end = haystack.length - PREFIX;
    for (let i = 0; i <= end; i++) {
      const list = this.byPrefix.get(haystack.readUIntLE(i, PREFIX));
      if (!list) continue;
      for (const e of list) {
        if (i + e.bytes.length <= haystack.length && haystack.compare(e.bytes, 0, e.bytes.length, i, i + e.bytes.length) === 0) {
          found.set(e, (found.get(e) ?? 0) + 1);
        }
      }
    }
    return found;
  }
}

/** Every pattern is at least this long (encodings.ts), so its first bytes can key the index. */
const PREFIX = 6;

/**
 * Finds `near` values within `window` bytes of any `anchor` pattern: e.g. a member's
 * username next to a group id would tie the member to the group.
 */
export function findNear(artifacts: readonly Artifact[], anchors: readonly Secret[], near: readonly string[], kind: string, window = 512): Hit[] {
  const hits: Hit[] = [];
  for (const anchor of anchors) {
    for (const a of artifacts) {
      for (const p of patternsOf(anchor.value)) {
        for (let i = a.bytes.indexOf(p.bytes); i !== -1; i = a.bytes.indexOf(p.bytes, i + 1)) {
          const around = a.bytes.subarray(Math.max(0, i - window), i + p.bytes.length + window);
          for (const n of near) {
            if (around.includes(Buffer.from(n))) hits.push({ kind, label: `${n} near ${anchor.label}`, artifact: a.name, group: a.group, encoding: p.encoding, count: 1 });
          }
        }
      }
    }
  }
  return hits;
}
