export interface ConfigProblem {
  /** Dotted option path, e.g. `sync.concurrency`. */
  path: string;
  message: string;
}

/** Invalid configuration: every problem found, each naming its option. Exit code 2. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  ${problem.path}: ${problem.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
