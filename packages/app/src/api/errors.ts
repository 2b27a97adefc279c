/**
 * The codes the local host answers with on its own account, in `{code, message}` with an
 * HTTP status. Everything else the page may see is the SDK's code (and through it the
 * server's, protocol `ErrorCode`), passed on unchanged: a failure the SDK already names
 * (sending to yourself, an empty message, an unknown group) keeps the SDK's name here too.
 * The page turns any code into words with its `error.CODE` catalog key.
 */
export const AppErrorCode = {
  /** 403: the peer is not on this machine. */
  NotLoopback: 'NOT_LOOPBACK',
  /** 421: a Host header other than 127.0.0.1 or localhost on this port (DNS rebinding). */
  BadHost: 'BAD_HOST',
  /** 403: another origin, or a cross-site fetch. */
  BadOrigin: 'BAD_ORIGIN',
  /** 401: no token, or not this start's token. */
  BadToken: 'BAD_TOKEN',
  /** 404: no such API route. */
  NotFound: 'NOT_FOUND',
  /** 405: anything but GET or HEAD outside /api. */
  Method: 'METHOD',
  /** 415: a JSON route called without Content-Type: application/json. */
  BadContentType: 'BAD_CONTENT_TYPE',
  /** 400: the body is not JSON. */
  BadJson: 'BAD_JSON',
  /** 400: the body, a path parameter or the query does not match the route's schema. */
  BadRequest: 'BAD_REQUEST',
  /** 413: the request body is larger than the route takes. */
  TooLarge: 'TOO_LARGE',
  /** 423: the route needs the unlocked profile. */
  Locked: 'LOCKED',
  /** 503: the page is not built (`npm run build`). */
  NotBuilt: 'NOT_BUILT',
  /** 500: the host failed; the details are in its terminal, never in the answer. */
  Internal: 'INTERNAL',
  /** 404: no account on the server has this username. */
  UnknownUser: 'UNKNOWN_USER',
  /** 400: a device id that is not a positive integer. */
  BadDevice: 'BAD_DEVICE',
  /** 400: an upload with no bytes. */
  EmptyFile: 'EMPTY_FILE',
  /** 400: a message names a file id the host was not handed (or that was already sent). */
  UnknownFile: 'UNKNOWN_FILE',
  /** 404: a file this device sent before the app was last unlocked (the host keeps no copy). */
  NotKept: 'NOT_KEPT',
  /** 413: a profile picture over 64 KiB. */
  AvatarTooLarge: 'AVATAR_TOO_LARGE',
  /** 400: a profile picture that is not a JPEG, PNG, GIF or WebP image. */
  BadAvatar: 'BAD_AVATAR',
  /** 409: no new device waits for approval with this link code. */
  NoLinkRequest: 'NO_LINK_REQUEST',
} as const;
export type AppErrorCode = (typeof AppErrorCode)[keyof typeof AppErrorCode];

/**
 * SDK codes the host answers with itself, for a check it makes before the SDK would: the
 * same failure, the same code (these strings are the SDK's, not the host's own).
 */
export const SdkCodeUsedByHost = {
  SelfSend: 'SELF_SEND',
  EmptyMessage: 'EMPTY_MESSAGE',
  UnknownGroup: 'UNKNOWN_GROUP',
  UnknownMessage: 'UNKNOWN_MESSAGE',
  UnknownAttachment: 'UNKNOWN_ATTACHMENT',
  IdentityChanged: 'IDENTITY_CHANGED',
  AlreadyRegistered: 'ALREADY_REGISTERED',
  /** The server's code (protocol ErrorCode.InvalidUsername) for a username outside the rule. */
  InvalidUsername: 'INVALID_USERNAME',
} as const;

/** The page's own: the host did not answer at all. */
export const HOST_UNREACHABLE = 'HOST_UNREACHABLE';
