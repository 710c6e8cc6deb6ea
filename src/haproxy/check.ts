import { HaproxyCheckError } from '../errors.js';
import { runCommand } from '../system/spawn.js';
import { parseHaproxyVersion, type HaproxyVersion } from './capabilities.js';
import { checkArgv } from './argv.js';
import { haproxyEnv, type HaproxyVariables } from './environment.js';

/** A passed check: haproxy's WARNING/NOTICE lines. */
export type CheckResult = { warnings: string[]; durationMs: number };

/** haproxy's message lines (`[ALERT]`, `[WARNING]`, …), or every non-empty line when it printed none. */
export function messageLines(output: string): string[] {
  const lines = output.split('\n').map((line) => line.trimEnd()).filter((line) => line !== '');
  const messages = lines.filter((line) => line.startsWith('['));
  return messages.length > 0 ? messages : lines;
}

/** Runs `haproxy -c`; throws HaproxyCheckError with haproxy's own lines when the configuration is rejected. */
export async function checkConfig(
  haproxy: string,
  config: string[],
  fragment: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<CheckResult> {
  const args = checkArgv(config, fragment);
  const started = performance.now();
  const result = await runCommand(haproxy, args, { env, timeoutMs });
  const durationMs = Math.round(performance.now() - started);
  const command = [haproxy, ...args].join(' ');
  if (result.exitCode === 0) {
    return { warnings: messageLines(result.stderr).filter((line) => line.startsWith('[WARNING]')), durationMs };
  }
  const lines = messageLines(`${result.stderr}\n${result.stdout}`);
  if (lines.length === 0 && result.message !== '') lines.push(result.message);
  throw new HaproxyCheckError({ command, exitCode: result.exitCode, lines });
}

/** `haproxy -c` of one configuration, as every reload runs it, and the binary's version. */
export type Checker = { check(): Promise<CheckResult>; version(): Promise<string | undefined> };

/**
 * A checker for the supervisor's configuration: the user's files plus the fragment, with the variables set for
 * haproxy as they are when the check runs, and a throwaway socket path.
 */
export function configChecker(options: { haproxy: string; config: string[]; fragment: string; variables: HaproxyVariables; timeoutMs: number }): Checker {
  let version: Promise<string | undefined> | undefined;
  return {
    check: () => checkConfig(options.haproxy, options.config, options.fragment, haproxyEnv('/nonexistent/check.sock', options.variables), options.timeoutMs),
    version: () => (version ??= haproxyVersion(options.haproxy)),
  };
}

/** `haproxy -v`'s version ("2.6.12-1+deb12u4"), or undefined when it cannot be read. */
export async function haproxyVersion(haproxy: string): Promise<string | undefined> {
  return (await readHaproxyVersion(haproxy))?.text;
}

/** `haproxy -v`'s version, parsed (capabilities.ts), or undefined when haproxy cannot run or says none. */
export async function readHaproxyVersion(haproxy: string): Promise<HaproxyVersion | undefined> {
  try {
    return parseHaproxyVersion((await runCommand(haproxy, ['-v'], { env: process.env, timeoutMs: 10_000 })).stdout);
  } catch {
    return undefined;
  }
}
