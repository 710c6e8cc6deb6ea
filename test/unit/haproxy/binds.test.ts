import { describe, expect, it } from 'vitest';
import { bindAddresses, overlaps } from '../../../src/haproxy/binds.js';
import { configFacts } from '../../../src/haproxy/config-facts.js';
import { parseConfig } from '../../../src/haproxy/config-parse.js';
import { hasInodeIn, isListenLine, parseProcNetTcp, parseTcpTable, selectLines } from '../../../src/system/processes.js';

const loaded = (text: string) => ({ files: ['h.cfg'], lines: parseConfig('h.cfg', text), unreadable: [], empty: [], digest: '', texts: {} });
const listenersFollowText = (config: ReturnType<typeof loaded>): boolean => configFacts(config).listenersFollowText;

describe('bind addresses', () => {
  it('knows when the listening sockets follow from the text alone: literal addresses, paths and variables; not host names or .if blocks', () => {
    const literal = `global
    stats socket /run/haproxy/admin.sock mode 600 level admin expose-fd listeners
    stats socket ipv4@127.0.0.1:9999
peers mypeers
    peer local 127.0.0.1:10000
frontend fe
    bind 127.0.0.1:80,:8080
    bind *:443 ssl crt /x.pem
    bind [::1]:81
    bind ipv6@:::82
    bind unix@/run/x.sock
    bind /run/y.sock
    bind "\${ADDR}:90"
    bind fd@\${FD}
log-forward syslog
    dgram-bind 127.0.0.1:514
`;
    expect(listenersFollowText(loaded(literal))).toBe(true);
    expect(listenersFollowText(loaded(`${literal}frontend named\n    bind example.com:91\n`))).toBe(false);
    expect(listenersFollowText(loaded(`${literal}frontend list\n    bind 127.0.0.1:92,localhost:93\n`))).toBe(false);
    expect(listenersFollowText(loaded(`global\n    stats socket ipv4@admin.example:9999\nfrontend fe\n    bind :80\n`))).toBe(false);
    expect(listenersFollowText(loaded(`${literal}peers other\n    peer me peer.example:10001\n`))).toBe(false);
    expect(listenersFollowText(loaded(`${literal}frontend picked\n.if feature(QUIC)\n    bind quic4@:443 ssl crt /x.pem\n.endif\n`))).toBe(false);
  });

  it('reads TCP binds as haproxy does: lists, wildcards, IPv6, prefixes and port ranges; skips unix, variables and names', () => {
    const config = loaded(`global
    stats socket ipv4@127.0.0.1:9999
frontend fe
    bind 127.0.0.1:80,:8080
    bind *:443 ssl crt /x.pem
    bind [::1]:81
    bind ipv6@:::82
    bind ipv4@0.0.0.0:83
    bind 127.0.0.2:9000-9002
    bind unix@/run/x.sock
    bind /run/y.sock
    bind "\${ADDR}:90"
    bind example.com:91
listen stats
    bind 10.0.0.1:8404
`);
    expect(bindAddresses(config).map(({ host, port }) => `${host ?? '*'}:${port}`)).toEqual([
      '127.0.0.1:80', '*:8080', '*:443', '::1:81', '*:82', '*:83', '127.0.0.2:9000', '127.0.0.2:9001', '127.0.0.2:9002', '10.0.0.1:8404',
    ]);
  });

  it('overlaps on the same port when either side is a wildcard or the addresses match', () => {
    expect(overlaps({ host: '127.0.0.1', port: 80, where: '' }, '127.0.0.1', 80)).toBe(true);
    expect(overlaps({ host: '127.0.0.1', port: 80, where: '' }, '0.0.0.0', 80)).toBe(true);
    expect(overlaps({ host: undefined, port: 80, where: '' }, '127.0.0.5', 80)).toBe(true);
    expect(overlaps({ host: '127.0.0.1', port: 80, where: '' }, '127.0.0.2', 80)).toBe(false);
    expect(overlaps({ host: '127.0.0.1', port: 80, where: '' }, '127.0.0.1', 81)).toBe(false);
  });
});

describe('/proc/net/tcp', () => {
  it('finds LISTEN sockets with their address, port and inode, IPv4 and IPv6', () => {
    const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 100 0 0 10 0
   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0
`;
    expect(parseProcNetTcp(tcp, 4)).toEqual([
      { ip: '127.0.0.1', port: 8080, inode: 4242 },
      { ip: '0.0.0.0', port: 80, inode: 77 },
    ]);
    const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0051 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 100 1 0000000000000000 100 0 0 10 0
`;
    expect(parseProcNetTcp(tcp6, 6)).toEqual([
      { ip: '::1', port: 81, inode: 99 },
      { ip: '::', port: 443, inode: 100 },
    ]);
  });

  it('picks the wanted sockets out of a table full of TIME_WAIT entries, with both ends and the state', () => {
    const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 ffff8e0b2a3b1200 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 06 00000000:00000000 03:00000D2F 00000000     0        0 0 3 0000000000000000
   2: 0100007F:1F90 0100007F:D432 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 ffff8e0b2a3b1300 20 4 30 10 -1
`;
    expect(parseTcpTable(selectLines(table.split('\n'), hasInodeIn(new Set([4243]))), 4)).toEqual([{ inode: 4243, state: 'established', localIp: '127.0.0.1', localPort: 8080, remoteIp: '127.0.0.1', remotePort: 54322 }]);
    expect(parseTcpTable(selectLines(table.split('\n'), hasInodeIn(new Set([4242, 4243]))), 4).map((entry) => entry.state)).toEqual(['listen', 'established']);
    expect(parseProcNetTcp(selectLines(table.split('\n'), isListenLine), 4)).toEqual([{ ip: '127.0.0.1', port: 8080, inode: 4242 }]);
  });
});
