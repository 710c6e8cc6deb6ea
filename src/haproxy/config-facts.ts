import path from 'node:path';
import { parseDuration } from '../config/duration.js';
import type { LoadedConfig } from './config-load.js';
import type { ConfigLine } from './config-parse.js';
import { listenersFollowLine } from './binds.js';
import { keepAliveFacts, type KeepAliveFacts } from './keep-alive.js';

/** A `stats socket` line of the global section. */
export type StatsSocket = { address: string; unix: boolean; levelAdmin: boolean; exposeFd: boolean; where: string };

/** What the supervisor needs to know about a configuration, read from its files without running haproxy. */
export type ConfigFacts = {
  files: string[];
  statsSockets: StatsSocket[];
  hardStopAfterMs: number | undefined;
  masterWorker: string | undefined;
  noreuseport: string | undefined;
  abnsBinds: string[];
  daemon: string | undefined;
  unreadable: string[];
  empty: string[];
  /** `server-state-file` (global), resolved against `server-state-base` and the working directory. */
  serverStateFile: string | undefined;
  /** `load-server-state-from-file` values (defaults or backends): global, local or none. */
  loadServerState: string[];
  /** `nice` in the global section: haproxy sets its own priority, the supervisor leaves it alone. */
  nice: string | undefined;
  /** HTTP frontends and what decides what their keep-alive clients see on a reload. */
  keepAlive: KeepAliveFacts;
  /** The listening sockets follow from the text and the environment alone (binds.ts `listenersFollowLine`). */
  listenersFollowText: boolean;
  /** A `server` or `server-template` line in any section: the config may have servers to health-check. */
  servers: boolean;
};

const where = (line: ConfigLine): string => `${line.file}:${line.line}`;

function isUnixAddress(address: string): boolean {
  if (address.startsWith('unix@') || address.startsWith('/') || address.startsWith('./')) return true;
  return !/^[a-z0-9]+@/.test(address) && !address.includes(':');
}

function statsSocket(line: ConfigLine): StatsSocket {
  const address = line.words[2] ?? '';
  const params = line.words.slice(3);
  const after = (keyword: string): string | undefined => params[params.indexOf(keyword) + 1];
  return {
    address,
    unix: isUnixAddress(address),
    levelAdmin: params.includes('level') && after('level') === 'admin',
    exposeFd: params.includes('expose-fd') && after('expose-fd') === 'listeners',
    where: where(line),
  };
}

/** The facts of a loaded configuration. */
export function configFacts(config: LoadedConfig): ConfigFacts {
  const facts: ConfigFacts = {
    files: config.files,
    statsSockets: [],
    hardStopAfterMs: undefined,
    masterWorker: undefined,
    noreuseport: undefined,
    abnsBinds: [],
    daemon: undefined,
    unreadable: config.unreadable,
    empty: config.empty,
    serverStateFile: undefined,
    loadServerState: [],
    nice: undefined,
    keepAlive: keepAliveFacts(config.lines),
    listenersFollowText: true,
    servers: false,
  };
  let stateBase: string | undefined;
  let stateFile: string | undefined;
  for (const line of config.lines) {
    const [first, second] = line.words;
    if (line.section === 'global') {
      if (first === 'stats' && second === 'socket') facts.statsSockets.push(statsSocket(line));
      else if (first === 'hard-stop-after' && second !== undefined) facts.hardStopAfterMs = parseDuration(second);
      else if (first === 'master-worker') facts.masterWorker = where(line);
      else if (first === 'noreuseport') facts.noreuseport = where(line);
      else if (first === 'daemon') facts.daemon = where(line);
      else if (first === 'nice') facts.nice = where(line);
      else if (first === 'server-state-file' && second !== undefined) stateFile = second;
      else if (first === 'server-state-base' && second !== undefined) stateBase = second;
    }
    if (first === 'load-server-state-from-file' && second !== undefined) facts.loadServerState.push(second);
    if (first === 'server' || first === 'server-template') facts.servers = true;
    if (facts.listenersFollowText && !listenersFollowLine(line)) facts.listenersFollowText = false;
    if (first === 'bind' && line.words.slice(1).some((word) => word.startsWith('abns@'))) facts.abnsBinds.push(where(line));
  }
  if (stateFile !== undefined) facts.serverStateFile = path.resolve(stateBase ?? process.cwd(), stateFile);
  return facts;
}
