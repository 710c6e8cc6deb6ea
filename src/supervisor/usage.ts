import type { GenerationStatus, GenerationUsage } from '../control/types.js';
import { bindAddresses } from '../haproxy/binds.js';
import { loadConfig } from '../haproxy/config-load.js';
import { residentBytes, socketInodes, tcpTable } from '../system/processes.js';
import type { Fleet } from './fleet.js';
import { publicGeneration, type Generation } from './generation.js';

/**
 * What each live generation holds, from /proc alone (so it works for draining generations whose admin socket is
 * gone): its socket inodes (/proc/<pid>/fd) matched against /proc/net/tcp{,6}, as seed 000's operators did with
 * netstat. An established connection whose local port is one the configuration listens on (`clientPorts`, or any
 * port a generation listens on) is a client's; any other is to a backend. Plus whether it still listens, and RSS.
 */
export function measureUsage(generations: Generation[], clientPorts: number[]): Map<number, GenerationUsage> {
  const byPid = measurePids(generations.map((generation) => generation.pid), clientPorts);
  return new Map(generations.flatMap((generation) => {
    const usage = byPid.get(generation.pid);
    return usage === undefined ? [] : [[generation.id, usage] as const];
  }));
}

/** The same for any haproxy processes, by pid (`cleanup` reports residual processes with it). */
export function measurePids(pids: number[], clientPorts: number[]): Map<number, GenerationUsage> {
  const inodes = new Map(pids.map((pid) => [pid, socketInodes(pid)]));
  const table = tcpTable(new Set([...inodes.values()].flatMap((set) => [...set])));
  const held = new Map(pids.map((pid) => [pid, [...(inodes.get(pid) ?? [])].flatMap((inode) => table.get(inode) ?? [])]));
  const ports = new Set(clientPorts);
  for (const sockets of held.values()) for (const socket of sockets) if (socket.state === 'listen') ports.add(socket.localPort);
  const usage = new Map<number, GenerationUsage>();
  for (const pid of pids) {
    const sockets = held.get(pid) ?? [];
    const established = sockets.filter((socket) => socket.state === 'established');
    const client = established.filter((socket) => ports.has(socket.localPort)).length;
    usage.set(pid, {
      listening: sockets.some((socket) => socket.state === 'listen'),
      connections: { client, server: established.length - client },
      rssBytes: residentBytes(pid) ?? 0,
    });
  }
  return usage;
}

/** Every generation status shows, newest first; with `config`, live ones carry their usage (config: its ports). */
export function publicGenerations(fleet: Pick<Fleet, 'records' | 'live'>, config: string[] | undefined): GenerationStatus[] {
  const usage = config === undefined ? new Map<number, GenerationUsage>() : measureUsage(fleet.live(), bindAddresses(loadConfig(config)).map((bind) => bind.port));
  return fleet.records().map((record) => {
    const measured = usage.get(record.id);
    return measured === undefined ? publicGeneration(record) : { ...publicGeneration(record), usage: measured };
  });
}
