/**
 * What differs between the haproxy versions the supervisor runs, in one place (issue 25). Everything else it relies
 * on — `-x` and `expose-fd listeners`, `-db`, soft-stop on SIGUSR1, `show info`/`show stat`/`show servers state`,
 * the `[ALERT] (pid) : config :` lines, `option idle-close-on-response` — behaves the same on every tested version,
 * which the integration suite proves by running against Debian 12's 2.6 and Debian 13's 3.0 in every CI run.
 * No version has a runtime `unset var` (checked by hand on 3.0.11), so removing a variable always takes a reload.
 * `check` reads `tested`; the other entries record differences that no code needs to branch on today.
 */

/** The versions the whole suite runs against (README "Supported haproxy versions"). */
export const TESTED_VERSIONS = ['2.6', '3.0'] as const;

export type HaproxyVersion = { major: number; minor: number; text: string };

export type HaproxyCapabilities = {
  version: HaproxyVersion;
  /** The whole suite ran against this major.minor. */
  tested: boolean;
  /**
   * `_getsocks`: the `-x` client sends an ack after the last batch and 3.2+ waits until it is read; before 3.2 it
   * closes without waiting. The socket keeper reads it when it comes and takes EPIPE when it does not.
   */
  getsocksFinalAck: boolean;
  /** The runtime `set var` takes a log-format string (`set var <name> fmt <fmt>`), 3.0+; before, only `expr`. */
  setVarFormat: boolean;
};

/** The version in `haproxy -v`'s first line ("HAProxy version 3.0.11-1+deb13u4 2026/10/15 - …"), or undefined. */
export function parseHaproxyVersion(output: string): HaproxyVersion | undefined {
  const match = /version (\d+)\.(\d+)(\S*)/i.exec(output);
  if (match === null) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), text: `${match[1]}.${match[2]}${match[3] ?? ''}` };
}

const atLeast = (version: HaproxyVersion, major: number, minor: number): boolean => version.major > major || (version.major === major && version.minor >= minor);

export function capabilitiesOf(version: HaproxyVersion): HaproxyCapabilities {
  return {
    version,
    tested: TESTED_VERSIONS.includes(`${version.major}.${version.minor}` as (typeof TESTED_VERSIONS)[number]),
    getsocksFinalAck: atLeast(version, 3, 2),
    setVarFormat: atLeast(version, 3, 0),
  };
}
