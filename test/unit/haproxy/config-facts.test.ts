import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../helpers/temp-dirs.js';
import { readConfigFacts } from '../../../src/haproxy/config-facts.js';
import { expandConfigPaths } from '../../../src/haproxy/config-files.js';
import { lintConfig } from '../../../src/haproxy/config-lint.js';
import { tokenize } from '../../../src/haproxy/config-parse.js';

const tempDir = useTempDirs();

describe('config files and facts', () => {
  it('tokenizes quotes, escapes and comments as haproxy does', () => {
    expect(tokenize('  stats socket "/run/a b.sock" level admin # comment')).toEqual(['stats', 'socket', '/run/a b.sock', 'level', 'admin']);
    expect(tokenize("bind 'unix@/x' expose-fd\\ x")).toEqual(['bind', 'unix@/x', 'expose-fd x']);
  });

  it('expands a -f directory to its *.cfg files in byte order', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'conf.d'));
    for (const name of ['b.cfg', 'A.cfg', '10.cfg', 'notes.txt']) writeFileSync(path.join(dir, 'conf.d', name), '');
    expect(expandConfigPaths([path.join(dir, 'conf.d')]).map((file) => path.basename(file))).toEqual(['10.cfg', 'A.cfg', 'b.cfg']);
  });

  it('reads stats sockets, hard-stop-after, master-worker, noreuseport and abns binds', () => {
    const dir = tempDir();
    const file = path.join(dir, 'h.cfg');
    writeFileSync(
      file,
      `global
    master-worker
    noreuseport
    hard-stop-after 5m
    stats socket /run/admin.sock mode 600 level admin expose-fd listeners
    stats socket ipv4@127.0.0.1:9999 level user
frontend fe
    bind abns@internal
    bind 127.0.0.1:80
`,
    );
    const facts = readConfigFacts([file]);
    expect(facts.statsSockets).toEqual([
      { address: '/run/admin.sock', unix: true, levelAdmin: true, exposeFd: true, where: `${file}:5` },
      { address: 'ipv4@127.0.0.1:9999', unix: false, levelAdmin: false, exposeFd: false, where: `${file}:6` },
    ]);
    expect(facts).toMatchObject({ hardStopAfterMs: 300_000, masterWorker: `${file}:2`, noreuseport: `${file}:3`, abnsBinds: [`${file}:8`] });
    const findings = lintConfig(facts, 1_800_000);
    expect(findings.filter((finding) => finding.level === 'error').map((finding) => finding.message)).toEqual([expect.stringContaining('master-worker')]);
    expect(findings.filter((finding) => finding.level === 'warning').map((finding) => finding.message)).toEqual([
      expect.stringContaining('abns@ listener'),
      expect.stringContaining('noreuseport'),
      expect.stringContaining('Server state set at runtime'),
    ]);
    expect(findings.every((finding) => finding.level === 'ok' || finding.fix !== undefined)).toBe(true);
  });

  it('finds the global server-state file (against server-state-base) and says how to add one when missing', () => {
    const file = path.join(tempDir(), 'h.cfg');
    writeFileSync(file, 'global\n    server-state-base /var/lib/haproxy\n    server-state-file state\ndefaults\n    load-server-state-from-file global\n');
    const facts = readConfigFacts([file]);
    expect(facts).toMatchObject({ serverStateFile: '/var/lib/haproxy/state', loadServerState: ['global'] });
    expect(lintConfig(facts, 1_800_000).find((finding) => finding.message.includes('Server state'))?.level).toBe('ok');
    writeFileSync(file, 'global\n    hard-stop-after 1m\n');
    const missing = lintConfig(readConfigFacts([file]), 1_800_000).find((finding) => finding.message.includes('Server state'));
    expect(missing).toMatchObject({ level: 'warning', fix: expect.stringContaining('`load-server-state-from-file global`') as string });
    expect(missing?.fix).toContain('`server-state-file /var/lib/haproxy/server-state`');
  });

  it('warns when hard-stop-after is missing or longer than the drain timeout', () => {
    const dir = tempDir();
    const file = path.join(dir, 'h.cfg');
    writeFileSync(file, 'global\n    hard-stop-after 1h\n');
    expect(lintConfig(readConfigFacts([file]), 1_800_000).find((finding) => finding.level === 'warning')?.message).toContain('longer than --drain-timeout');
    writeFileSync(file, 'defaults\n    mode http\n');
    expect(lintConfig(readConfigFacts([file]), 1_800_000).find((finding) => finding.level === 'warning')?.message).toContain('No `hard-stop-after`');
  });
});
