import { formatDuration } from '../config/duration.js';
import type { EnvResult, HistoryEntry, ReloadResult, Status } from '../control/types.js';
import { ReloadFailedError } from '../control/reload-failed.js';
import type { Finding } from '../haproxy/config-lint.js';

/** The only place that prints for humans or --json. */

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function printError(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** One reload result, in a few lines. */
export function formatReload(result: ReloadResult): string {
  const lines: string[] = [];
  if (result.ok) {
    const generation = result.generation === undefined ? 'no new generation' : `generation ${result.generation.id} (pid ${result.generation.pid}) serves`;
    const transfer = result.mode === 'restart' || result.mode === 'start' || result.mode === 'respawn' ? '' : result.hitless ? ', hitless (listeners transferred)' : ', NOT hitless (no socket transfer)';
    lines.push(`${result.mode} #${result.id} ok in ${result.durationMs} ms: ${generation}${transfer}.`);
    if (result.retired.length > 0) lines.push(`  draining: ${result.retired.map((g) => `generation ${g.id} (pid ${g.pid})`).join(', ')}`);
  } else {
    lines.push(`${result.mode} #${result.id} FAILED (${result.error?.phase ?? 'unknown'}) after ${result.durationMs} ms; the running generation keeps serving.`);
    const message = result.error?.message ?? '';
    lines.push(...message.split('\n').map((line) => `  ${line}`));
    // haproxy's own lines, unless the message already quotes them
    for (const line of result.error?.lines ?? []) if (!message.includes(line)) lines.push(`  ${line}`);
  }
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

function age(iso: string | undefined, now: number): string {
  return iso === undefined ? '-' : formatDuration(Math.max(0, Math.round((now - Date.parse(iso)) / 1000) * 1000));
}

/** `status` as a table. */
export function formatStatus(status: Status): string {
  const now = Date.now();
  const s = status.supervisor;
  const lines = [`haproxy-supervisor ${s.version}, pid ${s.pid}, ${s.state}, up ${age(s.startedAt, now)}, run dir ${s.runDir}`];
  lines.push('', 'GEN  PID      STATE     AGE      DEADLINE IN  CLIENTS  SERVERS  RSS     EXIT');
  for (const generation of status.generations) {
    const deadline = generation.state === 'draining' && generation.deadline !== undefined ? formatDuration(Math.max(0, Date.parse(generation.deadline) - now)) : '-';
    const exit = generation.exit === undefined ? '' : `${generation.exit.reason} (${generation.exit.signal ?? `code ${generation.exit.code}`})`;
    const usage = generation.usage;
    const clients = usage === undefined ? '-' : String(usage.connections.client);
    const servers = usage === undefined ? '-' : String(usage.connections.server);
    const rss = usage === undefined ? '-' : `${Math.round(usage.rssBytes / 1048576)}M`;
    const columns = [String(generation.id).padEnd(4), String(generation.pid).padEnd(8), generation.state.padEnd(9), age(generation.startedAt, now).padEnd(8), deadline.padEnd(12), clients.padEnd(8), servers.padEnd(8), rss.padEnd(7), exit];
    lines.push(columns.join(' ').trimEnd());
    if (generation.state === 'draining' && usage !== undefined) {
      const held = usage.connections.client + usage.connections.server;
      lines.push(`     held by ${held} connection${held === 1 ? '' : 's'}${usage.listening ? ', still listening' : ''}`);
    }
    if (generation.hung !== undefined && generation.state !== 'exited') lines.push(`     HUNG for ${age(generation.hung.at, now)}: ${generation.hung.reason}`);
  }
  if (status.lastReload !== null) lines.push('', `last: ${formatReload(status.lastReload)}`);
  if (status.crashLoop.looping) lines.push('', `CRASH LOOP: ${status.crashLoop.consecutiveCrashes} crashes; last: ${status.crashLoop.lastError ?? '?'}`);
  if (status.keeper !== undefined && status.keeper !== null) {
    lines.push('', `socket keeper pid ${status.keeper.pid} holds ${status.keeper.sockets.length === 0 ? 'no socket' : status.keeper.sockets.join(', ')}`);
  }
  const env = Object.entries(status.env ?? {});
  if (env.length > 0) lines.push('', `env: ${env.map(([name, value]) => `${name}=${value}`).join(' ')}`);
  const watch = status.watch;
  if (watch.enabled) {
    lines.push('', `watching ${watch.files.length} file(s) in ${watch.directories.length} director${watch.directories.length === 1 ? 'y' : 'ies'}`);
    if (watch.lastChange !== undefined) lines.push(`  last change ${age(watch.lastChange.at, now)} ago: ${watch.lastChange.files.join(', ')}`);
    if (watch.lastError !== undefined) lines.push(`  error: ${watch.lastError.split('\n').join('\n         ')}`);
  } else {
    lines.push('', 'not watching (--no-watch): reloads happen on request only');
  }
  return lines.join('\n');
}

/** What an `env` request did, or the variables (`env list`). */
export function formatEnv(result: EnvResult): string {
  const names = Object.keys(result.env).sort();
  const lines: string[] = [];
  if (result.applied === 'none' && result.changed.length === 0) {
    lines.push(names.length === 0 ? 'No variables set for haproxy.' : names.map((name) => `${name}=${result.env[name]}`).join('\n'));
  } else {
    const what = result.changed.map((name) => (name in result.env ? `${name}=${result.env[name]}` : `${name} unset`)).join(', ');
    if (result.applied === 'live') {
      lines.push(`${what}: flipped live in generation${result.flipped.length === 1 ? '' : 's'} ${result.flipped.map((generation) => generation.id).join(', ')}; no new process.`);
    } else if (result.reload !== undefined) {
      lines.push(`${what}: applied by a new generation.`, formatReload(result.reload));
    }
  }
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

/** `history`: one line per reload, newest first. */
export function formatHistory(entries: HistoryEntry[]): string {
  if (entries.length === 0) return 'No reload recorded yet.';
  const lines = ['ID     WHEN                      MODE           RESULT             MS     GEN    TRIGGERS        CHANGED'];
  for (const entry of entries) {
    const outcome = entry.ok ? (entry.hitless ? 'ok, hitless' : 'ok') : `FAILED (${entry.error?.phase ?? '?'})`;
    const changed = entry.config?.changedFiles.map((file) => file.split('/').pop()).join(', ') ?? '';
    const columns = [`#${entry.id}`.padEnd(6), entry.startedAt.padEnd(25), entry.mode.padEnd(14), outcome.padEnd(18), String(entry.durationMs).padEnd(6), String(entry.generation?.id ?? '-').padEnd(6), entry.triggers.join(',').padEnd(15), changed];
    lines.push(columns.join(' ').trimEnd());
  }
  return lines.join('\n');
}

/** `history --diff ID`: one reload in full. */
export function formatHistoryEntry(entry: HistoryEntry): string {
  const lines = [formatReload(entry), `  started ${entry.startedAt}, triggers: ${entry.triggers.join(', ')}`];
  if (entry.config !== undefined) {
    lines.push(`  config ${entry.config.digest.slice(0, 12)} (${entry.config.files.join(', ')}); changed: ${entry.config.changedFiles.join(', ') || 'nothing'}`);
  }
  if (entry.haproxyVersion !== undefined) lines.push(`  haproxy ${entry.haproxyVersion}`);
  if (entry.output.length > 0) lines.push('  haproxy said:', ...entry.output.map((line) => `    ${line}`));
  lines.push(entry.diff === undefined ? '  no diff: no earlier successful reload recorded' : entry.diff === '' ? '  the configuration did not change' : entry.diff.trimEnd());
  return lines.join('\n');
}

/** `cleanup`: the residual processes, and how each ended when they were stopped. */
export function formatResiduals(
  residuals: Array<{ pid: number; ageSeconds: number; usage: { listening: boolean; connections: { client: number; server: number } } }>,
  outcomes: Map<number, string> | undefined,
  keepers: Array<{ pid: number; outcome: string }> = [],
): string {
  const keeperLines = keepers.map(({ pid, outcome }) => `socket keeper pid ${pid}: ${outcome === 'found' ? 'would be ended (--all)' : outcome}`);
  if (residuals.length === 0) return ['No residual haproxy process runs this configuration.', ...keeperLines].join('\n');
  const lines = [...keeperLines,`PID      AGE      CLIENTS  SERVERS  LISTENING  ${outcomes === undefined ? '' : 'ENDED'}`.trimEnd()];
  for (const residual of residuals) {
    const columns = [String(residual.pid).padEnd(8), formatDuration(residual.ageSeconds * 1000).padEnd(8), String(residual.usage.connections.client).padEnd(8), String(residual.usage.connections.server).padEnd(8), (residual.usage.listening ? 'yes' : 'no').padEnd(10), outcomes?.get(residual.pid) ?? ''];
    lines.push(columns.join(' ').trimEnd());
  }
  lines.push(outcomes === undefined ? `${residuals.length} residual process(es); run without --dry-run to stop them.` : `${residuals.length} residual process(es) stopped.`);
  return lines.join('\n');
}

/** `check` findings. */
export function formatFindings(findings: Finding[]): string {
  const marks = { ok: 'ok  ', warning: 'WARN', error: 'FAIL' } as const;
  return findings.map((finding) => `${marks[finding.level]} ${finding.message}${finding.fix === undefined ? '' : `\n     fix: ${finding.fix}`}`).join('\n');
}

/** An error for humans: the message with haproxy's lines; a failed reload (other than the first start) as its result. */
export function formatError(error: unknown): string {
  if (error instanceof ReloadFailedError && error.result.mode !== 'start') return formatReload(error.result);
  const message = error instanceof Error ? error.message : String(error);
  const lines = (error as { lines?: unknown }).lines;
  if (Array.isArray(lines) && lines.length > 0 && !message.includes(String(lines[0]))) return `${message}\n${lines.join('\n')}`;
  return message;
}
