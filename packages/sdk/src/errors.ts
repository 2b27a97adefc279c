/** Every error the SDK throws on purpose is a KluisError with a stable `code`. */
export class KluisError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** send() to a contact whose identity key changed and was not yet accepted with trust(). */
export class IdentityChangedError extends KluisError {
  readonly username: string;
  readonly accountId: string;
  constructor(username: string, accountId: string) {
    super('IDENTITY_CHANGED', `the safety number with ${username} changed; verify it and run trust before sending`);
    this.username = username;
    this.accountId = accountId;
  }
}

/** A non-2xx answer of the server; `code` is the server's error code (protocol ErrorCode). */
export class ServerError extends KluisError {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, code: string, message: string, body?: unknown) {
    super(code, message);
    this.status = status;
    this.body = body;
  }
}

export class WrongPassphraseError extends KluisError {
  constructor() {
    super('WRONG_PASSPHRASE', 'wrong passphrase for this profile (or the database is not a kluis profile)');
  }
}

export class NotRegisteredError extends KluisError {
  constructor() {
    super('NOT_REGISTERED', 'this profile has no account yet: register or link first');
  }
}

export class AlreadyRegisteredError extends KluisError {
  constructor() {
    super('ALREADY_REGISTERED', 'this profile already holds an account');
  }
}

/** The server could not be reached, or the connection broke mid-request. */
export class NetworkError extends KluisError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETWORK', message, options);
  }
}

/** The server answered something that does not match the wire contract. */
export class ProtocolViolationError extends KluisError {
  constructor(message: string) {
    super('PROTOCOL', message);
  }
}

export class TimeoutError extends KluisError {
  constructor(message: string) {
    super('TIMEOUT', message);
  }
}
