import { formatDuration } from '../config/duration.js';
import type { ConfigFacts } from './config-facts.js';
import { keepAliveFindings } from './keep-alive.js';

/** One finding about seamless-reload readiness, with a one-line fix. */
export type Finding = { level: 'error' | 'warning' | 'ok'; message: string; fix?: string };

/**
 * Judges a configuration for seamless reloads under the supervisor. Errors make a reload refuse to start;
 * warnings are reported with the result.
 */
export function lintConfig(facts: ConfigFacts, drainTimeoutMs: number): Finding[] {
  const findings: Finding[] = [];
  if (facts.masterWorker !== undefined) {
    findings.push({
      level: 'error',
      message: `master-worker mode is enabled (${facts.masterWorker}); the supervisor must be haproxy's only master.`,
      fix: 'Remove `master-worker` from the global section.',
    });
  }
  for (const file of facts.empty) {
    findings.push({
      level: 'error',
      message: `${file} is empty: haproxy would accept it and serve nothing (a truncated write?).`,
      fix: 'Write the configuration into it (a comment is enough for an intentionally empty file).',
    });
  }
  const exposing = facts.statsSockets.filter((socket) => socket.unix && socket.levelAdmin && socket.exposeFd);
  if (exposing.length > 0) {
    findings.push({ level: 'ok', message: `stats socket ${exposing[0]?.address} exposes its listeners (${exposing[0]?.where}).` });
  } else {
    findings.push({
      level: 'ok',
      message:
        'No unix stats socket with `level admin expose-fd listeners`: the supervisor adds its own per-generation socket, so reloads still transfer listeners.',
      fix: 'Optional, for other tools: `stats socket /run/haproxy/admin.sock mode 600 level admin expose-fd listeners`.',
    });
  }
  if (facts.hardStopAfterMs === undefined) {
    findings.push({
      level: 'warning',
      message: `No \`hard-stop-after\`: draining generations are ended by the supervisor only, at --drain-timeout (${formatDuration(drainTimeoutMs)}), with SIGTERM.`,
      fix: `Add \`hard-stop-after ${formatDuration(drainTimeoutMs)}\` to the global section so haproxy closes connections itself first.`,
    });
  } else if (facts.hardStopAfterMs > drainTimeoutMs) {
    findings.push({
      level: 'warning',
      message: `hard-stop-after (${formatDuration(facts.hardStopAfterMs)}) is longer than --drain-timeout (${formatDuration(drainTimeoutMs)}): the supervisor will SIGTERM generations before haproxy stops them gracefully.`,
      fix: `Set \`hard-stop-after\` at or below ${formatDuration(drainTimeoutMs)}, or raise --drain-timeout.`,
    });
  } else {
    findings.push({ level: 'ok', message: `hard-stop-after ${formatDuration(facts.hardStopAfterMs)} is within --drain-timeout.` });
  }
  for (const bind of facts.abnsBinds) {
    findings.push({
      level: 'warning',
      message: `abns@ listener at ${bind}: abstract sockets cannot be rebound; if socket transfer ever fails, haproxy 2.6 can crash the old process.`,
      fix: 'Prefer a unix socket path (`bind unix@/run/haproxy/x.sock`) or loopback TCP.',
    });
  }
  if (facts.noreuseport !== undefined) {
    findings.push({
      level: 'warning',
      message: `noreuseport (${facts.noreuseport}): a reload without socket transfer cannot bind beside the old process.`,
      fix: 'Remove `noreuseport` from the global section.',
    });
  }
  if (facts.serverStateFile === undefined || !facts.loadServerState.includes('global')) {
    findings.push({
      level: 'warning',
      message: 'Server state set at runtime (servers in maintenance or drain, weights) is lost on every reload: no global server-state file is loaded.',
      fix: 'Add `server-state-file /var/lib/haproxy/server-state` to the global section and `load-server-state-from-file global` to defaults; the supervisor then writes `show servers state` there right before each new generation starts.',
    });
  } else {
    findings.push({ level: 'ok', message: `Server state carries over reloads through ${facts.serverStateFile} (written by the supervisor before each new generation).` });
  }
  findings.push(...keepAliveFindings(facts.keepAlive, facts.hardStopAfterMs));
  if (facts.daemon !== undefined) {
    findings.push({
      level: 'ok',
      message: `\`daemon\` (${facts.daemon}) is ignored: the supervisor runs haproxy in the foreground (-db).`,
    });
  }
  return findings;
}
