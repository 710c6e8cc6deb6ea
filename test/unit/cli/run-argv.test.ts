import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../../../src/cli/run-argv.js';
import { daemonOptions } from '../../../src/cli/shared-options.js';
import { OPTION_SPECS, resolveOptions, type PartialOptions } from '../../../src/config/options.js';

/** What the full parser (yargs, as `run` declares its options) makes of argv, resolved the same way. */
function viaYargs(argv: string[]): ReturnType<typeof resolveOptions> {
  const parsed = yargs(argv).options(daemonOptions).strict().exitProcess(false).parseSync() as Record<string, unknown>;
  const partial = Object.fromEntries(Object.keys(OPTION_SPECS).filter((name) => parsed[name] !== undefined).map((name) => [name, parsed[name]])) as PartialOptions;
  return resolveOptions(partial);
}

describe('parseRunArgs (run without yargs)', () => {
  const taken = [
    ['-f', '/etc/haproxy/haproxy.cfg'],
    ['-f', 'a.cfg', '-f', 'conf.d', '--config', 'b.cfg'],
    ['--config=/etc/haproxy/haproxy.cfg', '--run-dir', '/run/hs', '--drain-timeout', '25s', '--kill-grace=2s'],
    ['-f', 'h.cfg', '--no-watch', '--watchdog-interval', '0', '--max-draining', '5', '--log-level', 'warn'],
    ['-f', 'h.cfg', '--watch', '--watch-quiet', '100ms', '--watch-max-wait', '1s', '--metrics-listen', '0.0.0.0:9101'],
    ['-f', 'h.cfg', '--allow-shared-ports', '--takeover', '/run/haproxy/admin.sock', '--socket-group', 'haproxy', '--haproxy', '/usr/sbin/haproxy'],
    ['-f', 'h.cfg', '--history-limit', '50', '--respawn-backoff', '1s', '--respawn-backoff-max', '10s', '--respawn-reset-after', '30s', '--ready-timeout', '5s', '--watchdog-misses', '2'],
  ];
  it.each(taken)('gives what yargs gives for %s', (...argv) => {
    const fast = parseRunArgs(argv, {});
    expect(fast).toBeDefined();
    expect(resolveOptions(fast ?? {})).toEqual(viaYargs(argv));
  });

  it.each([
    [['--help']],
    [['-h']],
    [['--version']],
    [['-f', 'h.cfg', 'extra']],
    [['-f', 'h.cfg', '--unknown', 'x']],
    [['-f', 'h.cfg', '--drain-timeout', '1s', '--drain-timeout', '2s']],
    [['-f', 'h.cfg', '--max-draining', 'five']],
    [['-f', 'h.cfg', '--watch=false']],
    [['-f', 'h.cfg', '--no-drain-timeout']],
    [['-f']],
    [['-f', '--no-watch']],
    [['--f', 'h.cfg']],
    [['-config', 'h.cfg']],
    [['-f', 'h.cfg', '--drainTimeout', '1s']],
  ])('leaves %j to yargs (help, errors and unusual forms)', (argv) => {
    expect(parseRunArgs(argv, {})).toBeUndefined();
  });

  it('leaves it to yargs when a HAPROXY_SUPERVISOR_* variable names an option (yargs .env)', () => {
    expect(parseRunArgs(['-f', 'h.cfg'], { HAPROXY_SUPERVISOR_DRAIN_TIMEOUT: '10s' })).toBeUndefined();
    expect(parseRunArgs(['-f', 'h.cfg'], { HAPROXY_SUPERVISOR_CONFIG: 'h.cfg' })).toBeUndefined();
    expect(parseRunArgs(['-f', 'h.cfg'], { HAPROXY_SUPERVISOR_NO_INIT: '1', HAPROXY_SUPERVISOR_DEFAULTS: '/etc/default/x' })).toEqual({ config: ['h.cfg'] });
  });
});
