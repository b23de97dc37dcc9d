// Errors that reach a user say what is wrong and what to do about it.

export class InosyncError extends Error {
  /** What the user can do about it, one or two sentences, commands spelled out. */
  readonly fix: string;
  /** Process exit code when this error ends a command. */
  readonly exitCode: number;

  constructor(message: string, fix: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.fix = fix;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** The line(s) a CLI prints for an error: the problem, then the fix. */
export function describeError(error: unknown, program = 'inosync'): string {
  if (error instanceof InosyncError) return `${program}: ${error.message}\n  fix: ${error.fix}`;
  if (error instanceof Error) return `${program}: ${error.message}`;
  return `${program}: ${String(error)}`;
}
