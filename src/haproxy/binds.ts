import type { LoadedConfig } from './config-load.js';

/** A TCP address a configuration listens on; `host` undefined means every address. */
export type BindAddress = { host: string | undefined; port: number; where: string };

/** Address prefixes that are not TCP (configuration.txt §11: unix@, abns@, fd@, sockpair@, udp@, quic@…). */
const NOT_TCP = /^(unix|abns|fd|sockpair|udp[46]?|quic[46]?)@/;
const TCP_PREFIX = /^(ipv4|ipv6|tcp|tcp4|tcp6)@/;
const ANY = new Set(['', '*', '0.0.0.0', '::']);
/** Port ranges longer than this are not expanded (they are not what two supervisors fight over). */
const MAX_RANGE = 1024;

/**
 * The TCP addresses of every `bind` line (any section but global), as haproxy reads `addr:port[,addr:port…]`:
 * the port follows the last colon, IPv6 may be bracketed, `*`, `::` and an empty host mean every address.
 * Unix sockets, variables and host names are skipped.
 */
export function bindAddresses(config: LoadedConfig): BindAddress[] {
  const addresses: BindAddress[] = [];
  for (const line of config.lines) {
    if (line.section === 'global' || line.words[0] !== 'bind' || line.words[1] === undefined) continue;
    for (const item of line.words[1].split(',')) {
      if (NOT_TCP.test(item) || item.startsWith('/') || item.includes('${')) continue;
      const address = item.replace(TCP_PREFIX, '');
      const colon = address.lastIndexOf(':');
      if (colon === -1) continue;
      const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
      if (!ANY.has(host) && !/^[\d.]+$/.test(host) && !host.includes(':')) continue;
      for (const port of ports(address.slice(colon + 1))) addresses.push({ host: ANY.has(host) ? undefined : host, port, where: `${line.file}:${line.line}` });
    }
  }
  return addresses;
}

function ports(text: string): number[] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (match === null) return [];
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (last < first || last - first > MAX_RANGE) return [first];
  return Array.from({ length: last - first + 1 }, (_, index) => first + index);
}

/** True when a socket listening on ip:port takes connections meant for `bind` (same port; same or a wildcard address). */
export function overlaps(bind: BindAddress, ip: string, port: number): boolean {
  if (bind.port !== port) return false;
  return bind.host === undefined || ANY.has(ip) || bind.host === ip;
}
