/**
 * An error with an HTTP status whose message is safe to show to clients. It may carry response headers
 * (a 429 needs Retry-After, a 405 needs Allow).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'BAD_REQUEST',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The GraphQL-shaped body of every failure outside GraphQL execution. */
export const errorBody = (message: string, code: string) => ({ errors: [{ message, extensions: { code } }] });
