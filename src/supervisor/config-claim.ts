import path from 'node:path';
import type { Logger } from 'pino';
import { ConfigInUseError } from '../errors.js';
import { bindAddresses, overlaps } from '../haproxy/binds.js';
import { expandConfigPaths } from '../haproxy/config-files.js';
import type { LoadedConfig } from '../haproxy/config-load.js';
import { SUPERVISOR_COMM } from '../system/pidfile.js';
import { listeningSockets, processArgv, processCwd, processEnv, processesNamed, socketInodes, unixSocketPaths } from '../system/processes.js';
import { readPeerState } from './state-file.js';

/** Something else that already runs this configuration, and the command that stops it. */
export type Conflict = { pid: number; what: string; fix: string };

/** Another live supervisor, as far as /proc and its run dir tell. */
type Peer = { pid: number; runDir: string | undefined; config: string[]; generations: number[] };

/**
 * One supervisor per configuration: finds every other live supervisor whose `-f` files overlap ours (whatever its
 * run dir), and every haproxy that is not one of our generations yet listens on an address our config binds — fleets
 * that would otherwise share the ports through SO_REUSEPORT and split the traffic. `ours`: pids that are not
 * conflicts (our adopted generations, and the supervisor handing over to this one).
 */
export function findConflicts(config: LoadedConfig, ours: number[]): Conflict[] {
  const conflicts: Conflict[] = [];
  const files = new Set(config.files);
  const peers = findPeers().filter((peer) => !ours.includes(peer.pid));
  for (const peer of peers) {
    const shared = expandConfigPaths(peer.config).filter((file) => files.has(file));
    if (shared.length > 0) conflicts.push({ pid: peer.pid, what: `haproxy-supervisor (pid ${peer.pid}) already runs ${shared.join(', ')}`, fix: stopPeer(peer) });
  }
  const binds = bindAddresses(config);
  if (binds.length === 0) return conflicts;
  const listening = listeningSockets();
  for (const pid of processesNamed('haproxy')) {
    if (ours.includes(pid)) continue;
    const inodes = socketInodes(pid);
    const taken = listening.filter((socket) => inodes.has(socket.inode) && binds.some((bind) => overlaps(bind, socket.ip, socket.port)));
    if (taken.length === 0) continue;
    const addresses = [...new Set(taken.map((socket) => `${socket.ip.includes(':') ? `[${socket.ip}]` : socket.ip}:${socket.port}`))].join(', ');
    const owner = peers.find((peer) => peer.generations.includes(pid));
    conflicts.push(
      owner === undefined
        ? { pid, what: `haproxy (pid ${pid}), not started by a supervisor, listens on ${addresses}`, fix: `stop it (kill -USR1 ${pid} lets it finish its connections)` }
        : { pid, what: `haproxy (pid ${pid}) of haproxy-supervisor (pid ${owner.pid}) listens on ${addresses}`, fix: stopPeer(owner) },
    );
  }
  return conflicts;
}

/**
 * Refuses (ConfigInUseError) when something else already runs this configuration, unless `allowShared`
 * (--allow-shared-ports): then it only warns.
 */
export function claimConfig(config: LoadedConfig, ours: number[], allowShared: boolean, log: Logger): void {
  const conflicts = findConflicts(config, ours);
  if (conflicts.length === 0) return;
  if (!allowShared) throw configInUse(conflicts);
  log.warn({ conflicts }, '--allow-shared-ports: starting beside what already runs this configuration');
}

/** The error that refuses a start: what runs, with pids, and what to do. */
export function configInUse(conflicts: Conflict[]): ConfigInUseError {
  const fixes = [...new Set(conflicts.map((conflict) => conflict.fix))];
  return new ConfigInUseError(
    `This configuration is already in use:\n${conflicts.map((conflict) => `  ${conflict.what}`).join('\n')}\n` +
      `Fix: ${fixes.join('; ')}. Or pass --allow-shared-ports to run a second fleet beside it anyway (they will split the traffic).`,
    { pids: conflicts.map((conflict) => conflict.pid) },
  );
}

function stopPeer(peer: Peer): string {
  return peer.runDir === undefined ? `stop haproxy-supervisor pid ${peer.pid}` : `haproxy-supervisor stop --run-dir ${peer.runDir}`;
}

/** Other live supervisors: their run dir from the control socket they hold, their config and generations from its state.json. */
function findPeers(): Peer[] {
  const unixPaths = unixSocketPaths();
  return processesNamed(SUPERVISOR_COMM).map((pid) => {
    for (const inode of socketInodes(pid)) {
      const socketPath = unixPaths.get(inode);
      if (socketPath === undefined || path.basename(socketPath) !== 'control.sock') continue;
      const runDir = path.dirname(socketPath);
      const state = readPeerState(path.join(runDir, 'state.json'));
      return { pid, runDir, config: state.config.length > 0 ? state.config : argvConfig(pid), generations: state.generations };
    }
    return { pid, runDir: undefined, config: argvConfig(pid), generations: [] };
  });
}

/**
 * The `-f` arguments in a supervisor's argv or HAPROXY_SUPERVISOR_CONFIG, made absolute: for one that did not set
 * its process title (setting it overwrites the argv /proc shows).
 */
function argvConfig(pid: number): string[] {
  const argv = processArgv(pid);
  const found: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    const inline = /^(?:-f|--config)=(.+)$/.exec(arg);
    if (inline?.[1] !== undefined) found.push(inline[1]);
    else if ((arg === '-f' || arg === '--config') && argv[index + 1] !== undefined) found.push(argv[++index] ?? '');
  }
  if (found.length === 0) {
    const fromEnv = processEnv(pid, 'HAPROXY_SUPERVISOR_CONFIG');
    if (fromEnv !== undefined && fromEnv !== '') found.push(fromEnv);
  }
  const cwd = processCwd(pid) ?? '/';
  return found.map((file) => path.resolve(cwd, file));
}
