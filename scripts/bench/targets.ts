import type { BenchPeer } from './accounts.js';
import type { Target } from './load.js';

/** Serializable description of a target, so a probe process can rebuild it. */
export interface TargetSpec {
  kind: 'kluis' | 'relay';
  /** kluis: sealed 1:1 sends over the sealed socket instead of identified ones. */
  sealed?: boolean;
  /** ws:// base URL */
  base: string;
  /** Cluster: every node's ws:// base; each device sticks to one (by account id). */
  bases?: string[];
}

export function makeTarget(spec: TargetSpec): Target {
  if (spec.kind === 'kluis') {
    const bases = spec.bases?.length ? spec.bases : [spec.base];
    const baseOf = (p: BenchPeer) => bases[parseInt(p.accountId.slice(0, 8), 16) % bases.length]!;
    return {
      name: spec.sealed ? 'kluis sealed' : 'kluis',
      socketUrl: (p: BenchPeer) => `${baseOf(p)}/v1/socket`,
      headers: (p: BenchPeer) => ({ authorization: p.authorization }),
      ...(spec.sealed ? { sealedSocketUrl: (p: BenchPeer) => `${baseOf(p)}/v1/sealed-socket` } : {}),
    };
  }
  return {
    name: spec.sealed ? 'relay sealed' : 'relay',
    socketUrl: (p: BenchPeer) => `${spec.base}/?account=${p.accountId}`,
    headers: () => ({}),
    ...(spec.sealed ? { sealedSocketUrl: (p: BenchPeer) => `${spec.base}/sealed-socket?account=${p.accountId}` } : {}),
  };
}
