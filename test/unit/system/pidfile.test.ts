import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../helpers/temp-dirs.js';
import { RunDirOwnedError } from '../../../src/errors.js';
import { acquirePidfile, releasePidfile } from '../../../src/system/pidfile.js';

const tempDir = useTempDirs();

describe('pidfile', () => {
  it('is created exclusively and replaces a stale file (dead pid, or a live process that is no supervisor)', () => {
    const file = path.join(tempDir(), 'supervisor.pid');
    writeFileSync(file, '999999999\n'); // stale: no such process
    acquirePidfile(file);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    releasePidfile(file);
    writeFileSync(file, `${process.ppid}\n`); // alive, but not a supervisor: stale too
    acquirePidfile(file);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    releasePidfile(file);
    expect(() => readFileSync(file)).toThrow();
  });

  it('refuses, untouched, a pidfile naming a live supervisor', async () => {
    const file = path.join(tempDir(), 'supervisor.pid');
    // A live process whose /proc comm is the supervisor's: process.title is what the daemon sets.
    const supervisor = spawn(process.execPath, ['-e', "process.title = 'haproxy-supervisor'; setInterval(() => {}, 1000); console.log('up')"], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => supervisor.stdout.once('data', resolve));
      writeFileSync(file, `${supervisor.pid}\n`);
      expect(() => acquirePidfile(file)).toThrow(RunDirOwnedError);
      expect(() => acquirePidfile(file)).toThrow(`pid ${supervisor.pid}`);
      expect(readFileSync(file, 'utf8')).toBe(`${supervisor.pid}\n`);
    } finally {
      supervisor.kill('SIGKILL');
    }
  });

  it('leaves another process’s pidfile alone on release', () => {
    const file = path.join(tempDir(), 'supervisor.pid');
    writeFileSync(file, '12345\n');
    releasePidfile(file);
    expect(readFileSync(file, 'utf8')).toBe('12345\n');
  });
});
