import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { drainLines, runCommand, spawnChild } from '../../../src/system/spawn.js';

const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

describe('runCommand', () => {
  it('collects stdout and stderr without their final newline', async () => {
    const result = await runCommand('sh', ['-c', 'printf "out\\n"; printf "err\\n" >&2'], { env, timeoutMs: 5000 });
    expect(result).toEqual({ exitCode: 0, signal: undefined, stdout: 'out', stderr: 'err', failed: false, message: '' });
  });

  it('reports a non-zero exit with its output, without throwing', async () => {
    const result = await runCommand('sh', ['-c', 'echo "[ALERT] broken" >&2; exit 3'], { env, timeoutMs: 5000 });
    expect(result).toMatchObject({ exitCode: 3, failed: true, stderr: '[ALERT] broken', message: 'Command failed with exit code 3: sh -c echo "[ALERT] broken" >&2; exit 3' });
  });

  it('reports a command that cannot start', async () => {
    const result = await runCommand('/nonexistent/haproxy', ['-c'], { env, timeoutMs: 5000 });
    expect(result.failed).toBe(true);
    expect(result.exitCode).toBeUndefined();
    expect(result.message).toContain('Command failed to start: /nonexistent/haproxy -c');
    expect(result.message).toContain('ENOENT');
  });

  it('ends a command that outlives its timeout (SIGTERM) and says so', async () => {
    const started = performance.now();
    const result = await runCommand('sleep', ['30'], { env, timeoutMs: 200 });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ failed: true, signal: 'SIGTERM', message: 'Command timed out after 200 milliseconds: sleep 30' });
  });

  it('passes only the given environment', async () => {
    const result = await runCommand('sh', ['-c', 'echo "${HOME:-unset} $ONLY"'], { env: { ...env, ONLY: 'this' }, timeoutMs: 5000 });
    expect(result.stdout).toBe('unset this');
  });
});

describe('spawnChild', () => {
  it('drains every line of both streams and resolves `exited` with the exit code', async () => {
    const lines: string[] = [];
    const child = await spawnChild('sh', ['-c', 'echo one; echo two >&2; exit 4'], { env, onLine: (line, stream) => lines.push(`${stream}:${line}`) });
    expect(child.identity.pid).toBe(child.pid);
    expect(await child.exited).toEqual({ code: 4, signal: null });
    expect(child.isRunning()).toBe(false);
    await expect.poll(() => lines.sort()).toEqual(['stderr:two', 'stdout:one']);
  });

  it('starts the child in its own session (setsid), so terminal signals to the supervisor miss it', async () => {
    const lines: string[] = [];
    // /proc/<pid>/stat field 6 is the session id: a session leader's is its own pid.
    const again = await spawnChild('sh', ['-c', 'cut -d" " -f6 /proc/$$/stat'], { env, onLine: (line) => lines.push(line) });
    await again.exited;
    await expect.poll(() => lines).toEqual([String(again.pid)]);
  });

  it('splits lines across chunks, drops \\r\\n and keeps a last line without a newline', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    drainLines(stream, (line) => lines.push(line));
    for (const chunk of ['[WARNING] (1) : par', 'sing\n[ALERT] a\r\n', '\nlast ', 'words']) stream.write(chunk);
    stream.end();
    await expect.poll(() => lines).toEqual(['[WARNING] (1) : parsing', '[ALERT] a', '', 'last words']);
  });

  it('throws when the binary cannot be started', async () => {
    await expect(spawnChild('/nonexistent/haproxy', [], { env, onLine: () => undefined })).rejects.toThrow(/ENOENT/);
  });
});
