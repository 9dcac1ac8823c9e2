/**
 * How a command's action runs: the CLI's entry point (src/cli/main.ts) wraps each body in its exit
 * code and error handling; the commands only receive it. Apart from main.ts, so that the commands
 * do not import the module that imports them.
 */
export type ActionRunner = (body: () => Promise<number | void>) => Promise<void>;
