import { formatDuration, parseDuration } from '../config/duration.js';
import type { ConfigLine } from './config-parse.js';

/** An HTTP frontend (or listen section) and what decides how its keep-alive clients see a reload. */
export type HttpFrontend = {
  name: string;
  where: string;
  /** `option idle-close-on-response`, in the section or the defaults it uses. */
  idleCloseOnResponse: boolean;
  /** How long a client's connection may stay idle between requests: `timeout http-keep-alive`, else `http-request`, else `client`. */
  keepAliveMs: number | undefined;
};

/** The keep-alive facts of a configuration. */
export type KeepAliveFacts = { httpFrontends: HttpFrontend[]; closeSpreadTime: string | undefined };

/** What a `defaults`, `frontend` or `listen` section sets (undefined: not set there). */
type Settings = { mode?: string; idleClose?: boolean; timeouts: Record<string, number | undefined> };

/**
 * Reads, per `frontend` and `listen` section in HTTP mode, whether idle keep-alive connections survive a soft stop,
 * inheriting from the `defaults` section haproxy would use (the last one before it, or `from <name>`).
 */
export function keepAliveFacts(lines: ConfigLine[]): KeepAliveFacts {
  const named = new Map<string, Settings>();
  let lastDefaults: Settings = { timeouts: {} };
  const proxies: Array<{ name: string; where: string; own: Settings; inherited: Settings }> = [];
  let current: Settings | undefined;
  let closeSpreadTime: string | undefined;
  for (const line of lines) {
    const [first, second, third] = line.words;
    if (line.section === 'global' && first === 'close-spread-time' && second !== undefined) closeSpreadTime = second;
    if (first === line.section) {
      // A section header: `defaults [name] [from x]`, `frontend name [from x]`, `listen name [from x]`.
      const fromIndex = line.words.indexOf('from');
      const parent = fromIndex > 0 ? named.get(line.words[fromIndex + 1] ?? '') : undefined;
      if (first === 'defaults') {
        current = { ...(parent ?? {}), timeouts: { ...parent?.timeouts } };
        lastDefaults = current;
        if (second !== undefined && second !== 'from') named.set(second, current);
      } else if (first === 'frontend' || first === 'listen') {
        current = { timeouts: {} };
        proxies.push({ name: second ?? '', where: `${line.file}:${line.line}`, own: current, inherited: parent ?? lastDefaults });
      } else {
        current = undefined;
      }
      continue;
    }
    if (current === undefined) continue;
    if (first === 'mode' && second !== undefined) current.mode = second;
    else if (first === 'option' && second === 'idle-close-on-response') current.idleClose = true;
    else if (first === 'no' && second === 'option' && third === 'idle-close-on-response') current.idleClose = false;
    else if (first === 'timeout' && second !== undefined && line.words[2] !== undefined) current.timeouts[second] = parseDuration(line.words[2]);
  }
  const httpFrontends = proxies
    .filter(({ own, inherited }) => (own.mode ?? inherited.mode) === 'http')
    .map(({ name, where, own, inherited }) => {
      const timeout = (kind: string): number | undefined => own.timeouts[kind] ?? inherited.timeouts[kind];
      return { name, where, idleCloseOnResponse: own.idleClose ?? inherited.idleClose ?? false, keepAliveMs: timeout('http-keep-alive') ?? timeout('http-request') ?? timeout('client') };
    });
  return { httpFrontends, closeSpreadTime };
}

/** A keep-alive finding, in config-lint.ts's shape. */
export type KeepAliveFinding = { level: 'warning' | 'ok'; message: string; fix?: string };

/**
 * What keep-alive clients will see on a reload, with the one-line fix. haproxy 2.6 closes idle keep-alive
 * connections the moment it soft-stops (src/mux_h1.c, since 2.4), racing a client's next request on them: the AWS
 * ALB 502s of haproxy issue 1506; `option idle-close-on-response` keeps them open until the next request, which the
 * old generation answers with `Connection: close`. `close-spread-time` closes them anyway (spread over its window),
 * and a `hard-stop-after` shorter than the keep-alive timeout cuts off clients whose next request comes late.
 */
export function keepAliveFindings(facts: KeepAliveFacts, hardStopAfterMs: number | undefined): KeepAliveFinding[] {
  const findings: KeepAliveFinding[] = [];
  const exposed = facts.httpFrontends.filter((frontend) => !frontend.idleCloseOnResponse);
  if (exposed.length > 0) {
    const names = exposed.map((frontend) => `${frontend.name} (${frontend.where})`).join(', ');
    findings.push({
      level: 'warning',
      message: `Keep-alive clients can fail on every reload: HTTP frontend${exposed.length > 1 ? 's' : ''} ${names} close${exposed.length > 1 ? '' : 's'} idle connections the moment a generation soft-stops, racing the client's next request.`,
      fix: 'Add `option idle-close-on-response` to the defaults section (or to each HTTP frontend).',
    });
  } else if (facts.httpFrontends.length > 0) {
    findings.push({ level: 'ok', message: 'Every HTTP frontend keeps idle keep-alive connections open through a reload (`option idle-close-on-response`).' });
  }
  if (facts.closeSpreadTime !== undefined && facts.closeSpreadTime !== 'infinite' && facts.httpFrontends.length > 0) {
    findings.push({
      level: 'warning',
      message: `close-spread-time ${facts.closeSpreadTime} closes idle keep-alive connections during the drain even with \`option idle-close-on-response\`: a client that reuses one at that instant fails.`,
      fix: 'Remove `close-spread-time` unless every client retries idempotent requests (or use `close-spread-time infinite`).',
    });
  }
  const longest = Math.max(0, ...facts.httpFrontends.filter((frontend) => frontend.idleCloseOnResponse).map((frontend) => frontend.keepAliveMs ?? 0));
  if (hardStopAfterMs !== undefined && longest > 0 && hardStopAfterMs <= longest) {
    findings.push({
      level: 'warning',
      message: `hard-stop-after (${formatDuration(hardStopAfterMs)}) is not longer than the keep-alive timeout (${formatDuration(longest)}): a client whose next request arrives late on a connection kept open by \`option idle-close-on-response\` is cut off.`,
      fix: `Set \`hard-stop-after\` above ${formatDuration(longest)} plus your longest request, or lower \`timeout http-keep-alive\`.`,
    });
  }
  return findings;
}
