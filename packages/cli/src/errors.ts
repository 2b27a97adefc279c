/** A mistake in how the command was called: printed with a hint, exit code 2. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** A failure the user should read as one sentence (no stack): exit code 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 'CLI_ERROR',
  ) {
    super(message);
  }
}
