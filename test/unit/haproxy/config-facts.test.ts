import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../helpers/temp-dirs.js';
import { configFacts } from '../../../src/haproxy/config-facts.js';
import { expandConfigPaths } from '../../../src/haproxy/config-files.js';
import { lintConfig } from '../../../src/haproxy/config-lint.js';
import { loadConfig } from '../../../src/haproxy/config-load.js';
import { tokenize } from '../../../src/haproxy/config-parse.js';
import { httpClientFacts, httpClientFindings } from '../../../src/haproxy/http-client.js';

const tempDir = useTempDirs();
const readConfigFacts = (paths: string[]) => configFacts(loadConfig(paths));

describe('config files and facts', () => {
  it('reads a configuration of 150 000 lines (a spread of its lines once overflowed the stack)', () => {
    const file = path.join(tempDir(), 'big.cfg');
    const servers = Array.from({ length: 150_000 }, (_, index) => `    server s${index} 127.0.0.1:${1024 + (index % 60_000)}`);
    writeFileSync(file, `global\n    daemon\nbackend b\n${servers.join('\n')}\n`);
    const config = loadConfig([file]);
    expect(config.lines).toHaveLength(150_003);
    expect(config.lines.at(-1)).toMatchObject({ section: 'backend', line: 150_003, words: ['server', 's149999', '127.0.0.1:31023'] });
  });

  it('tokenizes quotes, escapes and comments as haproxy does', () => {
    expect(tokenize('  stats socket "/run/a b.sock" level admin # comment')).toEqual(['stats', 'socket', '/run/a b.sock', 'level', 'admin']);
    expect(tokenize("bind 'unix@/x' expose-fd\\ x")).toEqual(['bind', 'unix@/x', 'expose-fd x']);
    // Without quotes, escapes or comments: words between spaces and tabs only (a \v or a no-break space is part of a word).
    expect(tokenize('\t  server  s1\t\t127.0.0.1:80 check\u00a0x  ')).toEqual(['server', 's1', '127.0.0.1:80', 'check\u00a0x']);
    expect(tokenize('a\vb c')).toEqual(['a\vb', 'c']);
    expect(tokenize(' \t ')).toEqual([]);
    expect(tokenize('')).toEqual([]);
  });

  it('tells whether a config has servers: a `server` or `server-template` line in any file, not `default-server`', () => {
    const dir = tempDir();
    const write = (name: string, text: string): string => {
      writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const base = write('base.cfg', 'defaults\n    default-server check inter 1s\nfrontend fe\n    bind :80\n    use-server s1 if TRUE\n');
    expect(readConfigFacts([base]).servers).toBe(false);
    expect(readConfigFacts([base, write('app.cfg', 'backend app\n    server s1 127.0.0.1:81\n')]).servers).toBe(true);
    expect(readConfigFacts([base, write('tpl.cfg', 'backend app\n    server-template srv 1-3 app.local:80\n')]).servers).toBe(true);
    expect(readConfigFacts([write('comment.cfg', 'backend app\n    # server s1 127.0.0.1:81\n')]).servers).toBe(false);
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

  it("points at haproxy's HTTP client CA load only when nothing in the config may use that client and nothing sets it", () => {
    const dir = tempDir();
    const file = path.join(dir, 'h.cfg');
    const hint = (text: string) => {
      writeFileSync(file, text);
      const facts = httpClientFacts(loadConfig([file]).lines);
      return { facts, finding: httpClientFindings(facts).find((finding) => finding.message.includes("system's CA bundle")) };
    };
    const plain = hint('global\n    hard-stop-after 1m\nfrontend fe\n    bind :443 ssl crt /etc/ssl/site.pem\n');
    expect(plain.facts).toEqual({ tlsSet: undefined, users: [] });
    expect(plain.finding).toMatchObject({ level: 'ok', fix: expect.stringContaining('`httpclient.ssl.verify none` in the global section') as string });
    expect(plain.finding?.fix).toContain('it would not verify');
    expect(hint('global\n    httpclient.ssl.verify none\n')).toEqual({ facts: { tlsSet: `${file}:2`, users: [] }, finding: undefined });
    expect(hint('global\n    httpclient.ssl.ca-file /etc/ssl/ours.pem\n').finding).toBeUndefined();
    for (const [text, user] of [
      ['global\n    lua-load /etc/haproxy/fetch.lua\n', `lua-load (${file}:2)`],
      ['global\n    lua-load-per-thread /etc/haproxy/fetch.lua\n', `lua-load-per-thread (${file}:2)`],
      ['frontend fe\n    bind :443 ssl crt /etc/ssl/site.pem ocsp-update on\n', `bind (${file}:2)`],
      ['global\n    ocsp-update.mode on\n', `ocsp-update.mode (${file}:2)`],
      ['frontend fe\n    bind :443 ssl crt-list /etc/haproxy/certs.list\n', `bind (${file}:2)`],
      ['acme le\n    directory https://acme-v02.api.letsencrypt.org/directory\n', `acme (${file}:1)`],
      ['crt-store web\n    load crt site.pem ocsp-update on\n', `load (${file}:2)`],
    ] as const) {
      expect(hint(text), text).toEqual({ facts: { tlsSet: undefined, users: [user] }, finding: undefined });
    }
    // Those words elsewhere are not the keywords: a backend named lua-load, a header value.
    expect(hint('backend lua-load\n    server s1 127.0.0.1:80\n    http-request set-header x-tls crt-list\n').facts.users).toEqual([]);
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

describe('keep-alive facts and findings', () => {
  const facts = (text: string) => {
    const file = path.join(tempDir(), 'h.cfg');
    writeFileSync(file, text);
    return readConfigFacts([file]);
  };

  it('finds HTTP frontends that close idle keep-alive connections on a soft stop, inheriting mode, option and timeouts from their defaults', () => {
    const read = facts(`global
    hard-stop-after 30s
defaults
    mode http
    timeout client 20s
frontend www
    bind :80
frontend raw
    mode tcp
    bind :81
defaults tuned from unnamed
    mode http
    option idle-close-on-response
    timeout http-keep-alive 5s
listen api
    bind :82
frontend opted-out from tuned
    bind :83
    no option idle-close-on-response
`);
    expect(read.keepAlive.httpFrontends.map(({ name, where, idleCloseOnResponse, keepAliveMs }) => [name, where.replace(/^.*\//, ''), idleCloseOnResponse, keepAliveMs])).toEqual([
      ['www', 'h.cfg:6', false, 20_000],
      ['api', 'h.cfg:15', true, 5000],
      ['opted-out', 'h.cfg:17', false, 5000],
    ]);
    const warning = lintConfig(read, 1_800_000).find((finding) => finding.message.startsWith('Keep-alive clients'));
    expect(warning).toMatchObject({ level: 'warning', fix: 'Add `option idle-close-on-response` to the defaults section (or to each HTTP frontend).' });
    expect(warning?.message).toContain('www (');
    expect(warning?.message).toContain('opted-out (');
    expect(warning?.message).not.toContain('api (');
  });

  it('is satisfied by the option in defaults, and warns about close-spread-time and a hard-stop-after within the keep-alive timeout', () => {
    const good = facts('global\n    hard-stop-after 5m\ndefaults\n    mode http\n    option idle-close-on-response\n    timeout client 30s\nfrontend www\n    bind :80\n');
    expect(lintConfig(good, 1_800_000).filter((finding) => finding.level === 'warning').map((finding) => finding.message)).toEqual([
      expect.stringContaining('Server state'),
    ]);
    const spread = facts('global\n    hard-stop-after 10s\n    close-spread-time 5s\ndefaults\n    mode http\n    option idle-close-on-response\n    timeout client 30s\nfrontend www\n    bind :80\n');
    const messages = lintConfig(spread, 1_800_000).map((finding) => finding.message);
    expect(messages).toContainEqual(expect.stringContaining('close-spread-time 5s closes idle keep-alive connections'));
    expect(messages).toContainEqual(expect.stringContaining('hard-stop-after (10s) is not longer than the keep-alive timeout (30s)'));
    const tcpOnly = facts('defaults\n    mode tcp\nfrontend raw\n    bind :80\n');
    expect(lintConfig(tcpOnly, 1_800_000).some((finding) => /keep-alive/i.test(finding.message))).toBe(false);
  });
});
