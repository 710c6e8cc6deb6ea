import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execaSync } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS } from '../../../src/cli/commands/start.js';

/** The bin's first two lines (src/cli/main.ts): read by sh when the installed bin runs. */
const MAIN = path.resolve(import.meta.dirname, '../../../src/cli/main.ts');

describe('the bin\'s sh launcher (lines 1–2 of main)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hs-test-launcher-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // A `node` on PATH that prints how it was called instead of running anything.
  writeFileSync(path.join(dir, 'node'), '#!/bin/sh\nfor arg in "$@"; do printf "%s\\n" "$arg"; done\n');
  chmodSync(path.join(dir, 'node'), 0o755);
  const launch = (...args: string[]): string[] =>
    execaSync('sh', [MAIN, ...args], { env: { PATH: `${dir}:/usr/bin:/bin` }, extendEnv: false }).stdout.split('\n');

  it('runs the daemon (`run`) with its node flags, the same `start` gives it', () => {
    expect(launch('run', '-f', 'h cfg')).toEqual(['--max-semi-space-size=1', '--expose-gc', MAIN, 'run', '-f', 'h cfg']);
    expect(launch('run')).toEqual([...DAEMON_NODE_FLAGS, MAIN, 'run']);
  });

  it('runs client commands without them (they slow Node\'s start), passing every argument as it was', () => {
    expect(launch('status', '--run-dir', '/run/a b', '')).toEqual([MAIN, 'status', '--run-dir', '/run/a b', '']);
    expect(launch('reload')).toEqual([MAIN, 'reload']);
  });
});
