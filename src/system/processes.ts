import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { readComm } from './proc.js';

/** A TCP socket in LISTEN state, from /proc/net/tcp{,6}. */
export type ListeningSocket = { ip: string; port: number; inode: number };

/** Live processes whose /proc comm is `comm` (at most 15 characters, as the kernel keeps it), other than this one. */
export function processesNamed(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    if (readComm(Number(entry)) === comm && !isZombie(Number(entry))) pids.push(Number(entry));
  }
  return pids;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** A process's argv, or [] when it is gone or unreadable. */
export function processArgv(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return [];
  }
}

/** A process's working directory, or undefined. */
export function processCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** One variable of a process's environment (readable for our own processes, or as root), or undefined. */
export function processEnv(pid: number, name: string): string | undefined {
  try {
    const prefix = `${name}=`;
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((entry) => entry.startsWith(prefix))?.slice(prefix.length);
  } catch {
    return undefined;
  }
}

/** Inodes of the sockets a process holds open (its fds that read `socket:[inode]`). */
export function socketInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match !== null) inodes.add(Number(match[1]));
    } catch {
      // Closed meanwhile.
    }
  }
  return inodes;
}

/** Paths of the unix sockets in this network namespace that have one, by inode (from /proc/net/unix). */
export function unixSocketPaths(): Map<number, string> {
  const paths = new Map<number, string>();
  for (const line of tableLines('/proc/net/unix', (entry) => entry.includes(' /')).split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const fields = line.trim().split(/\s+/);
    const [inode, socketPath] = [fields[6], fields[7]];
    if (inode !== undefined && socketPath !== undefined && socketPath.startsWith('/')) paths.set(Number(inode), socketPath);
  }
  return paths;
}

/**
 * Pids (other than this one) that hold the unix socket at `socketPath`, among `candidates`. haproxy binds
 * `<path>.<pid>.tmp` and renames it into place, so /proc/net/unix may show that name.
 */
export function unixSocketHolders(socketPath: string, candidates: number[]): number[] {
  const temp = new RegExp(`^${socketPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+\\.tmp$`);
  const inodes = new Set([...unixSocketPaths()].filter(([, bound]) => bound === socketPath || temp.test(bound)).map(([inode]) => inode));
  if (inodes.size === 0) return [];
  return candidates.filter((pid) => [...socketInodes(pid)].some((inode) => inodes.has(inode)));
}

/** A process's session id (/proc/<pid>/stat field 6), or undefined. */
export function sessionId(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const sid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
    return Number.isInteger(sid) ? sid : undefined;
  } catch {
    return undefined;
  }
}

/** A process's parent pid, or undefined. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** Every TCP socket listening in this network namespace, IPv4 and IPv6 (addresses in their usual text form). */
export function listeningSockets(): ListeningSocket[] {
  return [...parseProcNetTcp(tableLines('/proc/net/tcp', isListenLine), 4), ...parseProcNetTcp(tableLines('/proc/net/tcp6', isListenLine), 6)];
}

/** A /proc/net/tcp{,6} line in LISTEN state (`st` 0A). */
export const isListenLine = (line: string): boolean => /^\s*\d+: \S+ \S+ 0A /.test(line);

/** A /proc/net/tcp{,6} line whose inode (the 10th field) is one of `inodes`: TIME_WAIT lines (inode 0) never are. */
export const hasInodeIn =
  (inodes: Set<number>) =>
  (line: string): boolean =>
    inodes.has(Number(line.trim().split(/\s+/, 10)[9]));

/** The header line and the lines `keep` accepts, as one text for the parsers below. */
export function selectLines(lines: Iterable<string>, keep: (line: string) => boolean): string {
  const kept: string[] = [];
  let header: string | undefined;
  for (const line of lines) {
    if (header === undefined) header = line;
    else if (keep(line)) kept.push(line);
  }
  return header === undefined ? '' : [header, ...kept].join('\n');
}

/** One reused chunk: well under glibc's mmap threshold (128 KiB), see tableLines. */
const CHUNK = Buffer.allocUnsafeSlow(64 * 1024);

/** The lines of a file read in CHUNK-sized pieces (none when it cannot be opened; what was read if it vanishes). */
function* chunkedLines(file: string): Generator<string> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return;
  }
  let partial = '';
  try {
    for (let read = readSync(fd, CHUNK); read > 0; read = readSync(fd, CHUNK)) {
      const lines = (partial + CHUNK.toString('latin1', 0, read)).split('\n');
      partial = lines.pop() ?? '';
      yield* lines;
    }
  } catch {
    // The table changed or vanished under us: what was read is what there is.
  } finally {
    closeSync(fd);
  }
  if (partial !== '') yield partial;
}

/**
 * The header and the lines `keep` accepts of a /proc/net table (tcp, tcp6, unix), read in 64 KiB chunks ('' when it
 * cannot be read). On a busy load balancer the table holds tens of thousands of TIME_WAIT lines, megabytes, read on
 * every `status` and metrics scrape: reading it whole allocated one buffer and one string of that size each time,
 * and after the first such free glibc raises its mmap threshold, so later allocations fragmented the heap for good
 * (bench: RSS after 1 000 reloads 72 → 63 MiB with 10 000 TIME_WAIT sockets).
 */
export function tableLines(file: string, keep: (line: string) => boolean): string {
  return selectLines(chunkedLines(file), keep);
}

const LISTEN = '0A';
const ESTABLISHED = '01';

/** One TCP socket of /proc/net/tcp{,6}: its inode, state (LISTEN, ESTABLISHED or other) and both ends. */
export type TcpEntry = { inode: number; state: 'listen' | 'established' | 'other'; localIp: string; localPort: number; remoteIp: string; remotePort: number };

/**
 * Parses /proc/net/tcp or tcp6: `local_address` and `rem_address` are the address in hex, each 32-bit word in host
 * (little-endian) byte order, then `:port` in hex; `st` 0A is LISTEN, 01 ESTABLISHED; `inode` is the 10th field.
 */
export function parseTcpTable(text: string, family: 4 | 6): TcpEntry[] {
  const entries: TcpEntry[] = [];
  const address = (field: string): [string, number] | undefined => {
    const [hex, port] = field.split(':');
    if (hex === undefined || port === undefined) return undefined;
    return [family === 4 ? ipv4(hex) : ipv6(hex), Number.parseInt(port, 16)];
  };
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = address(fields[1] ?? '');
    const remote = address(fields[2] ?? '');
    const inode = Number(fields[9]);
    if (local === undefined || remote === undefined || !Number.isInteger(inode) || inode === 0) continue;
    const state = fields[3] === LISTEN ? 'listen' : fields[3] === ESTABLISHED ? 'established' : 'other';
    entries.push({ inode, state, localIp: local[0], localPort: local[1], remoteIp: remote[0], remotePort: remote[1] });
  }
  return entries;
}

/** LISTEN sockets of one table (address, port, inode). */
export function parseProcNetTcp(text: string, family: 4 | 6): ListeningSocket[] {
  return parseTcpTable(text, family)
    .filter((entry) => entry.state === 'listen')
    .map((entry) => ({ ip: entry.localIp, port: entry.localPort, inode: entry.inode }));
}

/**
 * The TCP sockets of this network namespace whose inode is in `inodes`, by inode, IPv4 and IPv6. Only those lines
 * are parsed: after a load test the table holds tens of thousands of TIME_WAIT entries (inode 0) nobody asked for.
 */
export function tcpTable(inodes: Set<number>): Map<number, TcpEntry> {
  const table = new Map<number, TcpEntry>();
  if (inodes.size === 0) return table;
  const wanted = hasInodeIn(inodes);
  for (const entry of [...parseTcpTable(tableLines('/proc/net/tcp', wanted), 4), ...parseTcpTable(tableLines('/proc/net/tcp6', wanted), 6)]) table.set(entry.inode, entry);
  return table;
}

/** A process's resident set size in bytes (VmRSS), or undefined when it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

function wordBytes(hex: string): number[] {
  const bytes = [];
  for (let index = 6; index >= 0; index -= 2) bytes.push(Number.parseInt(hex.slice(index, index + 2), 16));
  return bytes;
}

function ipv4(hex: string): string {
  return wordBytes(hex).join('.');
}

function ipv6(hex: string): string {
  const bytes = [0, 8, 16, 24].flatMap((offset) => wordBytes(hex.slice(offset, offset + 8)));
  const groups = [];
  for (let index = 0; index < 16; index += 2) groups.push((((bytes[index] ?? 0) << 8) | (bytes[index + 1] ?? 0)).toString(16));
  return compressIpv6(groups);
}

/** `0:0:0:0:0:0:0:1` → `::1`: the longest run of zero groups becomes `::`. */
function compressIpv6(groups: string[]): string {
  let best = { start: -1, length: 0 };
  for (let start = 0; start < groups.length; ) {
    let end = start;
    while (end < groups.length && groups[end] === '0') end++;
    if (end - start > best.length) best = { start, length: end - start };
    start = end === start ? start + 1 : end;
  }
  if (best.length < 2) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}
