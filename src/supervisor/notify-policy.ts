import type { Notifier } from '../system/notify.js';
import { monotonicUsec } from '../system/notify.js';
import type { ReloadMode, ReloadResult, Status } from '../control/types.js';

/** What the supervisor tells the outside about its lifecycle (systemd today). */
export type SupervisorEvents = {
  started(status: Status): void;
  reloadStarting(mode: ReloadMode): void;
  reloadFinished(result: ReloadResult, status: Status): void;
  stopping(): void;
  /** `upgrade`: a successor serves now; it is the main process from here on. */
  handedOver(pid: number): void;
};

/** "generation 12 active, 2 draining; last reload #40 ok" */
export function statusLine(status: Status): string {
  const active = status.generations.find((generation) => generation.state === 'active');
  const draining = status.generations.filter((generation) => generation.state === 'draining').length;
  const last = status.lastReload;
  const reload = last === null ? '' : `; last ${last.mode} #${last.id} ${last.ok ? 'ok' : `FAILED (${last.error?.phase ?? '?'})`}`;
  return `${active === undefined ? 'no generation active' : `generation ${active.id} active`}, ${draining} draining${reload}`;
}

/**
 * sd_notify: READY=1 only once the first generation serves; RELOADING=1 with MONOTONIC_USEC when a reload starts
 * (so Type=notify-reload works), READY=1 again when it ends (whatever its outcome: sd_notify has no "reload
 * failed"; the failure reaches `systemctl reload` through ExecReload's exit code); STOPPING=1; STATUS= lines.
 */
export function systemdEvents(notifier: Notifier): SupervisorEvents {
  const isReload = (mode: ReloadMode): boolean => mode === 'reload' || mode === 'reload-socket' || mode === 'restart';
  return {
    started(status) {
      notifier.send({ READY: '1', MAINPID: String(process.pid), STATUS: statusLine(status) });
    },
    reloadStarting(mode) {
      if (isReload(mode)) notifier.send({ RELOADING: '1', MONOTONIC_USEC: monotonicUsec(), STATUS: `${mode} in progress` });
    },
    reloadFinished(result, status) {
      if (isReload(result.mode)) notifier.send({ READY: '1', STATUS: statusLine(status) });
      else notifier.send({ STATUS: statusLine(status) });
    },
    handedOver(pid) {
      notifier.send({ MAINPID: String(pid), STATUS: `handed over to haproxy-supervisor pid ${pid}` });
    },
    stopping() {
      notifier.send({ STOPPING: '1', STATUS: 'stopping: draining every generation' });
    },
  };
}
