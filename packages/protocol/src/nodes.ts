import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common.js';

/**
 * Cluster nodes. Every node upserts its row in the shared store every few seconds; a
 * row whose heartbeat is older than a few intervals is a dead node ('down').
 */
export const NodeStatus = Type.Union([Type.Literal('up'), Type.Literal('draining'), Type.Literal('not-ready'), Type.Literal('down')]);
export type NodeStatus = Static<typeof NodeStatus>;

/** GET /admin/nodes (operator): what the operator watches; no user data. */
export const NodeView = Type.Object({
  name: Type.String(),
  region: Type.String(),
  url: Type.String(),
  startedAt: Timestamp,
  heartbeatAt: Timestamp,
  connections: Type.Integer({ minimum: 0 }),
  ready: Type.Boolean(),
  draining: Type.Boolean(),
  status: NodeStatus,
});
export type NodeView = Static<typeof NodeView>;

export const AdminNodeList = Type.Object({
  nodes: Type.Array(NodeView),
  /** The answering node's clock, so staleness can be judged by the reader too. */
  now: Timestamp,
  /** A heartbeat older than this many ms means the node is down. */
  staleAfterMs: Type.Integer({ minimum: 0 }),
});
export type AdminNodeList = Static<typeof AdminNodeList>;

/** GET /v1/nodes (no auth): the bootstrap list clients pick a node from. No counts. */
export const PublicNode = Type.Object({ name: Type.String(), region: Type.String(), url: Type.String() });
export type PublicNode = Static<typeof PublicNode>;

export const PublicNodeList = Type.Object({ nodes: Type.Array(PublicNode) });
export type PublicNodeList = Static<typeof PublicNodeList>;
