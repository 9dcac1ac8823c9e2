/** Bad usage (missing file, wrong argument): exit code 2, like invalid config. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
