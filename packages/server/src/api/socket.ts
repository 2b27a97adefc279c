import { ErrorCode } from '@kluis/protocol';
import { ApiError } from '../errors.js';
import { defineRoute } from './route.js';

/**
 * GET /v1/socket reaches this handler only without an Upgrade header; upgrades are
 * taken by delivery/socket-server.ts before routing.
 */
export const socket = defineRoute({
  name: 'socket',
  auth: 'none',
  async handler() {
    throw new ApiError(ErrorCode.BadRequest, 'this endpoint is a WebSocket: connect with an Upgrade request', undefined, 426);
  },
});

/** GET /v1/sealed-socket without an Upgrade header: the same answer. */
export const sealedSocket = defineRoute({
  name: 'sealedSocket',
  auth: 'none',
  async handler() {
    throw new ApiError(ErrorCode.BadRequest, 'this endpoint is a WebSocket (sealed sends, no credential): connect with an Upgrade request', undefined, 426);
  },
});
