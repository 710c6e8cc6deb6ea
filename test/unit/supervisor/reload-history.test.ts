import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ReloadResult } from '../../../src/control/types.js';
import { ReloadHistory } from '../../../src/supervisor/reload-history.js';
import { useTempDirs } from '../../helpers/temp-dirs.js';

const tempDir = useTempDirs();

function result(id: number, ok = true): ReloadResult {
  return { id, ok, mode: 'reload', triggers: ['cli'], hitless: true, startedAt: '', durationMs: 1, retired: [], warnings: [], timings: {}, ...(ok ? { generation: { id, pid: id } } : {}) };
}

const details = (text: string) => ({
  config: { files: ['/etc/haproxy/haproxy.cfg'], lines: [], unreadable: [], empty: [], digest: 'd', texts: { '/etc/haproxy/haproxy.cfg': text } },
  changedFiles: [],
  output: [],
  haproxyVersion: Promise.resolve('2.6.12'),
});

describe('ReloadHistory', () => {
  it('records without making the reload wait, in order, with the diff against the last success', async () => {
    const runDir = tempDir();
    const history = new ReloadHistory(1, 20, { runDir, limit: 500, log: pino({ level: 'silent' }) });
    history.continueFrom(1, { fileMode: 0o600, gid: undefined });
    history.record(result(1), details('a\n'));
    history.record(result(2), details('b\n'));
    expect(history.last()?.id).toBe(2); // at once, before anything is on disk
    await history.settled();
    const lines = readFileSync(path.join(runDir, 'history.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: number; diff?: string; haproxyVersion?: string });
    expect(lines.map((line) => line.id)).toEqual([1, 2]);
    expect(lines[1]?.diff).toContain('-a\n+b');
    expect(lines[1]?.haproxyVersion).toBe('2.6.12');
  });

  it('rewrites last-config.json only when the configuration text changed', async () => {
    const runDir = tempDir();
    const history = new ReloadHistory(1, 20, { runDir, limit: 500, log: pino({ level: 'silent' }) });
    history.continueFrom(1, { fileMode: 0o600, gid: undefined });
    const lastConfig = path.join(runDir, 'last-config.json');
    history.record(result(1), details('a\n'));
    await history.settled();
    const first = statSync(lastConfig).ino;
    history.record(result(2), details('a\n'));
    await history.settled();
    expect(statSync(lastConfig).ino).toBe(first); // the same file: not replaced
    history.record(result(3), details('b\n'));
    await history.settled();
    expect(statSync(lastConfig).ino).not.toBe(first);
    expect(readFileSync(lastConfig, 'utf8')).toContain('b\\n');
  });

  it('keeps serving results when the history cannot be written (a full or broken disk): the failure is logged, nothing throws', async () => {
    const runDir = tempDir();
    mkdirSync(path.join(runDir, 'history.jsonl')); // appending to a directory fails
    const logged: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });
    const history = new ReloadHistory(1, 20, { runDir, limit: 500, log });
    history.continueFrom(1, { fileMode: 0o600, gid: undefined });
    expect(() => history.record(result(1), details('a\n'))).not.toThrow();
    await history.settled();
    expect(history.last()?.id).toBe(1);
    expect(logged.join('')).toContain('cannot write the reload history');
  });
});
