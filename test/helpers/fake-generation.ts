import pino from 'pino';
import type { GenerationState } from '../../src/control/types.js';
import { Generation, type GenerationRecord } from '../../src/supervisor/generation.js';
import type { SignalOutcome } from '../../src/system/signals.js';
import type { ProcessExit } from '../../src/system/spawn.js';

/**
 * A real Generation whose process is imaginary: signals are recorded instead of sent, and the test decides when
 * it exits (`exit()`) and what haproxy printed (`remember`).
 */
export class FakeGeneration extends Generation {
  readonly signals: NodeJS.Signals[] = [];
  /** What `signal()` answers: 'sent', or 'recycled'/'gone' to play a pid that changed hands. */
  outcome: SignalOutcome = 'sent';
  readonly #exit: (exit: ProcessExit) => void;
  readonly #life: { running: boolean };

  constructor(id: number, options: { state?: GenerationState; deadlineInMs?: number; record?: Partial<GenerationRecord> } = {}) {
    let resolveExit!: (exit: ProcessExit) => void;
    const exited = new Promise<ProcessExit>((resolve) => (resolveExit = resolve));
    const record: GenerationRecord = {
      id,
      pid: 1000 + id,
      startTime: 1,
      startedAt: new Date().toISOString(),
      socket: `/nonexistent/${id}.sock`,
      state: options.state ?? 'starting',
      ...(options.deadlineInMs === undefined ? {} : { deadline: new Date(Date.now() + options.deadlineInMs).toISOString() }),
      ...options.record,
    };
    const life = { running: true };
    const handle = { pid: record.pid, identity: { pid: record.pid, startTime: 1 }, exited, isRunning: () => life.running };
    super(record, handle, pino({ level: 'silent' }));
    this.#life = life;
    this.#exit = resolveExit;
  }

  override signal(signal: NodeJS.Signals): SignalOutcome {
    if (!this.#life.running) return 'gone';
    this.signals.push(signal);
    return this.outcome;
  }

  /** The process ends (as the kernel would report it). */
  exit(exit: ProcessExit = { code: 0, signal: null }): void {
    this.#life.running = false;
    this.#exit(exit);
  }
}
