import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../helpers/temp-dirs.js';
import { loadConfig } from '../../../src/haproxy/config-load.js';
import { configReferences } from '../../../src/haproxy/config-references.js';

const tempDir = useTempDirs();

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
