import { exitCodeFor } from './exit-codes.js';
import { formatError, printError } from './output.js';

/** A command's handler from its action: the action returns the exit code; an error is printed and mapped to its exit code. */
export function handle<A>(action: (args: A) => Promise<number>): (args: A) => Promise<void> {
  return async (args) => {
    try {
      process.exitCode = await action(args);
    } catch (error) {
      printError(formatError(error));
      process.exitCode = exitCodeFor(error);
    }
  };
}
