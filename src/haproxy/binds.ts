import type { LoadedConfig } from './config-load.js';
import type { ConfigLine } from './config-parse.js';

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
      const host = hostOf(address);
      if (!isLiteralHost(host)) continue;
      for (const port of ports(address.slice(colon + 1))) addresses.push({ host: ANY.has(host) ? undefined : host, port, where: `${line.file}:${line.line}` });
    }
  }
  return addresses;
}

/** The host of `addr:port` (IPv6 unbracketed); the whole text when it has no colon. */
function hostOf(address: string): string {
  const colon = address.lastIndexOf(':');
  return (colon === -1 ? address : address.slice(0, colon)).replace(/^\[(.*)\]$/, '$1');
}

/** Every address, an IPv4 or an IPv6 literal: not a name that is resolved. */
function isLiteralHost(host: string): boolean {
  return ANY.has(host) || /^[\d.]+$/.test(host) || host.includes(':');
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

/** An address prefix (configuration.txt §11) and what follows it. */
const PREFIXED = /^([a-z0-9]+)@(.*)$/;
const PATH_FAMILIES = new Set(['unix', 'abns', 'fd', 'sockpair', 'uxst', 'uxdg']);

/** True when an address of a listening line names what it binds literally: an IP, every address, a path, a variable. */
function literalAddress(item: string): boolean {
  if (item.includes('${')) return true; // expanded from the environment, which the caller accounts for
  const prefixed = PREFIXED.exec(item);
  if (prefixed !== null && PATH_FAMILIES.has(prefixed[1] ?? '')) return true;
  const address = prefixed === null ? item : (prefixed[2] ?? '');
  return address.startsWith('/') || isLiteralHost(hostOf(address));
}

/**
 * False for a line that makes the sockets a configuration listens on depend on more than its text (and the
 * environment it expands): a `bind`, `dgram-bind`, `stats socket` or peers address that is a host name (resolved
 * again at each start), or an `.if` block (it picks lines by what haproxy finds when it starts: its version, a
 * feature). configFacts reads it for every line (`listenersFollowText`).
 */
export function listenersFollowLine(line: ConfigLine): boolean {
  const [keyword = '', first, second] = line.words;
  if (keyword === '.if' || keyword === '.elif') return false;
  let addresses: string | undefined;
  if (keyword === 'bind' || keyword === 'dgram-bind') addresses = first;
  else if (keyword === 'stats' && first === 'socket') addresses = second;
  else if (line.section === 'peers' && (keyword === 'peer' || keyword === 'server')) addresses = second;
  return addresses === undefined || addresses.split(',').every(literalAddress);
}
