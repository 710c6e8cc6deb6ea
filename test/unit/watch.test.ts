import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useTempDirs } from '../helpers/temp-dirs.js';
import { loadConfig } from '../../src/haproxy/config-load.js';
import { configReferences } from '../../src/haproxy/config-references.js';
import { changedFiles, fingerprint, snapshot } from '../../src/watch/content-hash.js';
import { Settle } from '../../src/watch/settle.js';

const tempDir = useTempDirs();
afterEach(() => vi.useRealTimers());

describe('Settle', () => {
  it('acts once after a quiet period, and at the latest after the maximum wait', () => {
    vi.useFakeTimers();
    const action = vi.fn();
    const settle = new Settle({ quietMs: 250, maxWaitMs: 2000 }, action);
    settle.poke();
    vi.advanceTimersByTime(200);
    settle.poke();
    vi.advanceTimersByTime(249);
    expect(action).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(action).toHaveBeenCalledTimes(1);

    for (let elapsed = 0; elapsed < 2000; elapsed += 100) {
      settle.poke();
      vi.advanceTimersByTime(100);
    }
    expect(action).toHaveBeenCalledTimes(2); // a stream of pokes every 100 ms still acts after 2 s
  });
});

describe('configReferences', () => {
  it('finds certificates (with crt-base and crt directories), CA/CRL, maps, pattern files, Lua and error files', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'certs'));
    writeFileSync(path.join(dir, 'certs', 'a.pem'), '');
    writeFileSync(path.join(dir, 'certs', 'b.pem'), '');
    const config = path.join(dir, 'h.cfg');
    writeFileSync(
      config,
      `global
    crt-base ${dir}
    lua-load /etc/haproxy/x.lua
    server-state-file /var/lib/haproxy/state
frontend fe
    bind :443 ssl crt certs ca-file /etc/ssl/ca.pem crl-file crl.pem
    acl blocked src -f /etc/haproxy/blocked.lst
    http-request deny if { path -f /etc/haproxy/paths.lst }
    http-request set-header X-Tier %[src,map_ip(/etc/haproxy/tiers.map,low)]
    use_backend %[req.hdr(host),lower,map(/etc/haproxy/hosts.map,be)]
    errorfile 503 /etc/haproxy/errors/503.http
backend be
    server s1 10.0.0.1:443 ssl ca-file ca2.pem
`,
    );
    expect(configReferences(loadConfig([config]), '/work')).toEqual([
      '/etc/haproxy/blocked.lst',
      '/etc/haproxy/errors/503.http',
      '/etc/haproxy/hosts.map',
      '/etc/haproxy/paths.lst',
      '/etc/haproxy/tiers.map',
      '/etc/haproxy/x.lua',
      '/etc/ssl/ca.pem',
      path.join(dir, 'certs'),
      path.join(dir, 'certs', 'a.pem'),
      path.join(dir, 'certs', 'b.pem'),
      '/work/ca2.pem',
      '/work/crl.pem',
    ].sort());
  });
});

describe('content snapshots', () => {
  it('tell real changes from touches and same-content rewrites, and name the changed files', async () => {
    const dir = tempDir();
    const a = path.join(dir, 'a.cfg');
    const b = path.join(dir, 'b.map');
    writeFileSync(a, 'one');
    writeFileSync(b, 'x');
    const first = await snapshot([a, b]);
    writeFileSync(a, 'one'); // same content
    const same = await snapshot([a, b]);
    expect(fingerprint(same)).toBe(fingerprint(first));
    writeFileSync(b, 'y');
    const changed = await snapshot([a, b]);
    expect(fingerprint(changed)).not.toBe(fingerprint(first));
    expect(changedFiles(first, changed)).toEqual([b]);
    rmSync(a);
    const missing = await snapshot([a, b]);
    expect(missing.missing).toEqual([a]);
    expect(changedFiles(changed, missing)).toEqual([a]);
  });
});
