import type { BenchPeer } from './accounts.js';
import type { Target } from './load.js';

/** Serializable description of a target, so a probe process can rebuild it. */
export interface TargetSpec {
  kind: 'kluis' | 'relay';
  /** ws:// base URL */
  base: string;
}

export function makeTarget(spec: TargetSpec): Target {
  if (spec.kind === 'kluis') {
    return { name: 'kluis', socketUrl: () => `${spec.base}/v1/socket`, headers: (p: BenchPeer) => ({ authorization: p.authorization }) };
  }
  return { name: 'relay', socketUrl: (p: BenchPeer) => `${spec.base}/?account=${p.accountId}`, headers: () => ({}) };
}
