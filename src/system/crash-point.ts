import { unlinkSync } from 'node:fs';

/**
 * The instants of a reload, a drain escalation and an upgrade at which a test can kill the supervisor (kill -9 of
 * itself) to prove that a successor finishes whatever was in flight (design rule 6).
 */
export type CrashPoint =
  | 'before-spawn' // state.json names the generation about to start; not spawned yet
  | 'after-spawn' // spawned, its record not yet on disk, not serving yet
  | 'after-ready' // the new generation serves; not yet the active one
  | 'after-activate' // active, older generations not yet told to finish
  | 'after-retire' // older generations got SIGUSR1; state.json not yet updated
  | 'escalation' // a drain deadline's SIGTERM or SIGKILL was just sent
  | 'handover-spawned' // upgrade: the successor was started, it has not reported yet
  | 'handover-reported'; // upgrade: the successor serves and said so; systemd not yet told

/**
 * HAPSUP_CRASH_AT=<point>:<marker file>: at that point, when the marker file exists, remove it (so it fires once,
 * even across a restart with the same environment) and SIGKILL this process. Unset (always, outside tests) the
 * call costs one comparison. Fault injection like etcd's or TiKV's failpoints: the only way to hit an instant of a
 * few microseconds deterministically.
 */
const armed = parse(process.env['HAPSUP_CRASH_AT']);

export function crashPoint(point: CrashPoint): void {
  if (armed === undefined || armed.point !== point) return;
  try {
    unlinkSync(armed.marker);
  } catch {
    return; // not armed now, or already fired
  }
  process.kill(process.pid, 'SIGKILL');
}

function parse(value: string | undefined): { point: string; marker: string } | undefined {
  const colon = value?.indexOf(':') ?? -1;
  if (value === undefined || colon <= 0) return undefined;
  return { point: value.slice(0, colon), marker: value.slice(colon + 1) };
}
