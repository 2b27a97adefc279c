
/*
 * One WebSocket per device at GET /v1/socket (same Basic credentials as HTTP). Frames
 * are binary protobuf (socket-wire.ts, proto/kluis/socket/v1/socket.proto). The server
 * pushes envelopes in queue order and sends QueueEmpty once the stored backlog is
 * drained; the client acks each envelope by guid only after it committed the result,
 * and the server deletes on ack. A second, unauthenticated socket per client at GET
 * /v1/sealed-socket carries sealed sends only (see docs/security.md).
 */
export const SocketCloseCode = {
  /** A newer connection of the same device took over. */
  ConnectedElsewhere: 4000,
  /** The device was removed from its account. */
  DeviceRemoved: 4001,
  /** The account was suspended (by an admin, or its subscription lapsed past grace). */
  AccountSuspended: 4003,
  /** The server is shutting down; reconnect (possibly elsewhere). */
  GoingAway: 1001,
  /** This node is draining (SIGTERM): reconnect now, to another node of the cluster. */
  NodeDraining: 4010,
  /** The client kept sending invalid frames. */
  PolicyViolation: 1008,
  /**
   * The client did not read what the server sent (its outbound buffer passed the cap):
   * reconnect and read; envelopes not acked are delivered again.
   */
  SlowConsumer: 4008,
} as const;

