/**
 * The process boilerplate every entry point shares (the CLIs, the worker, the origin
 * simulator, the dashboard): run `main`, turn its result or failure into the exit code, and
 * stop once on SIGTERM/SIGINT. Kept here so each entry point says only what it does.
 */

/** Where failures are reported: a pino logger fits, and so does the console's default. */
export interface StopReporter {
  warn(detail: object, message: string): void;
  error(detail: object, message: string): void;
}

const consoleReporter: StopReporter = {
  warn: (detail, message) => console.error(message, detail),
  error: (detail, message) => console.error(message, detail),
};

/**
 * Runs `main(process.argv)`. A number it resolves with becomes the exit code (nothing: the
 * process ends when its handles close, as a server's do after `close()`). A failure exits
 * with its own `exitCode` when it carries one (commander's usage errors, `--help`), else is
 * printed and exits with 1, even while servers it opened are still listening.
 */
export function runMain(main: (argv: readonly string[]) => Promise<number | undefined | void>): void {
  main(process.argv).then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err: unknown) => {
      const code = (err as { exitCode?: unknown } | null)?.exitCode;
      if (typeof code === 'number') process.exit(code);
      console.error(err);
      process.exit(1);
    },
  );
}

/** Signals this soon after the first one belong to the same stop (see onStopSignal). */
export const SAME_STOP_GRACE_MS = 1_000;

export interface StopSignalOptions {
  /** Exit as soon as `stop` settles (0, or 1 if it failed) instead of waiting for handles. */
  readonly exitWhenStopped?: boolean;
  /** Exit with 1 if `stop` has not settled after this long. Default: wait. */
  readonly timeoutMs?: number;
  readonly reporter?: StopReporter;
}

/**
 * Calls `stop` on the first SIGTERM or SIGINT. When it fails the exit code is 1 (reported);
 * a second signal (after SAME_STOP_GRACE_MS) exits at once with 1. Returns a function that removes the handlers (for a
 * command that stops listening when its work is done).
 */
export function onStopSignal(
  stop: (signal: NodeJS.Signals) => Promise<void> | void,
  options: StopSignalOptions = {},
): () => void {
  const reporter = options.reporter ?? consoleReporter;
  let stopping = false;
  let firstAtMs = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // Ctrl-C reaches the whole process group, and a supervisor (npm run local's script, the
      // fleet launcher) relays its own SIGTERM a moment later: that is the same stop, not a
      // second request. Only a signal after the grace period means "exit now".
      if (Date.now() - firstAtMs < SAME_STOP_GRACE_MS) return;
      reporter.warn({ signal }, 'second signal: exiting without finishing the stop');
      process.exit(1);
    }
    stopping = true;
    firstAtMs = Date.now();
    if (options.timeoutMs !== undefined) {
      setTimeout(() => {
        reporter.error({ signal, timeoutMs: options.timeoutMs }, 'stop timeout passed; exiting');
        process.exit(1);
      }, options.timeoutMs).unref();
    }
    Promise.resolve()
      .then(() => stop(signal))
      .then(
        () => {
          if (options.exitWhenStopped === true) process.exit(process.exitCode ?? 0);
        },
        (err: unknown) => {
          reporter.error({ err, signal }, 'stop failed');
          process.exitCode = 1;
          if (options.exitWhenStopped === true) process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
