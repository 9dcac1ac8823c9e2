/** A request parameter the API refuses: a 400 that names it. */
export class BadParameterError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`${parameter}: ${message}`);
    this.name = 'BadParameterError';
  }
}
