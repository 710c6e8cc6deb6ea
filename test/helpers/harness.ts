import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterEach, beforeEach, expect } from 'vitest';
import { haproxyPids, keeperPids, killAll, TEST_MARKER } from './haproxy-processes.js';
import { freePort } from './os-probes.js';
import { frontendConfig, httpConfig } from './configs.js';
import type { Status } from '../../src/control/types.js';
import { DAEMON_NODE_FLAGS } from '../../src/cli/commands/start.js';

export { freePort, frontendConfig, httpConfig };

/** state.json's text, or '' while there is none. */
function readState(runDir: string): string {
  try {
    return readFileSync(path.join(runDir, 'state.json'), 'utf8');
  } catch {
    return '';
  }
}

/** The built CLI. */
export const CLI = path.resolve(import.meta.dirname, '../../dist/cli/main.js');


export type CliResult = { exitCode: number; stdout: string; stderr: string };

/** One supervisor under test in its own temp dir, with helpers; `cleanup()` kills whatever it started. */
export class Sandbox {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), TEST_MARKER));
  readonly runDir = path.join(this.dir, 'run');
  readonly config = path.join(this.dir, 'haproxy.cfg');
  daemon: ResultPromise | undefined;
  output = '';

  /** Replaces the config as config management does: temp file, then rename over. */
  writeConfig(text: string): void {
    const temp = `${this.config}.tmp`;
    writeFileSync(temp, text);
    renameSync(temp, this.config);
  }

  /** Starts `run` in the foreground as a child of the test; resolves once the first generation serves.
   * Watching is off unless `extra` says `--watch`: other tests trigger their reloads explicitly. */
  async run(extra: string[] = [], env: Record<string, string> = {}): Promise<void> {
    const watch = extra.some((arg) => arg === '--watch') ? [] : ['--no-watch'];
    // With the node flags the installed bin's shebang and `start` use: the daemon as it is shipped.
    this.daemon = execa('node', [...DAEMON_NODE_FLAGS, CLI, 'run', '-f', this.config, '--run-dir', this.runDir, '--log-level', 'info', ...watch, ...extra], {
      reject: false,
      all: true,
      buffer: false,
      env,
    });
    this.daemon.all?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    await expect
      .poll(async () => (await this.cli(['status', '--json'])).exitCode, { timeout: 15_000, interval: 50 })
      .toBe(0);
    await expect.poll(async () => (await this.status()).generations.some((g) => g.state === 'active'), { timeout: 15_000, interval: 50 }).toBe(true);
    // Fully started: running, and state.json says so (it is written right after, asynchronously).
    await expect.poll(async () => (await this.status()).supervisor.state, { timeout: 15_000, interval: 20 }).toBe('running');
    await expect.poll(() => readState(this.runDir), { timeout: 15_000, interval: 20 }).toContain('"state": "running"');
  }

  /** Runs the CLI against this sandbox's run dir. */
  async cli(args: string[]): Promise<CliResult> {
    const result = await execa('node', [CLI, ...args, '--run-dir', this.runDir], { reject: false });
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  }

  async status(): Promise<Status> {
    const result = await this.cli(['status', '--json']);
    if (result.exitCode !== 0) throw new Error(`status failed (${result.exitCode}): ${result.stderr}`);
    return JSON.parse(result.stdout) as Status;
  }

  /** haproxy processes started for this sandbox. */
  haproxyPids(): number[] {
    return haproxyPids(this.dir);
  }

  /** Stops the daemon (hard), kills any haproxy left, removes the dir. Returns how many haproxy were left. */
  async cleanup(): Promise<number> {
    if (this.daemon !== undefined && this.daemon.exitCode === null) {
      this.daemon.kill('SIGQUIT');
      const timer = setTimeout(() => this.daemon?.kill('SIGKILL'), 10_000);
      await this.daemon;
      clearTimeout(timer);
    }
    const leaked = killAll([...this.haproxyPids(), ...keeperPids(this.dir)]);
    rmSync(this.dir, { recursive: true, force: true });
    return leaked;
  }
}

/** A fresh Sandbox and free port per test; after each test the daemon is stopped and no haproxy may be left. */
export function useSandbox(): { sandbox: Sandbox; port: number } {
  const context = {} as { sandbox: Sandbox; port: number };
  beforeEach(async () => {
    context.sandbox = new Sandbox();
    context.port = await freePort();
  });
  afterEach(async () => {
    const leaked = await context.sandbox.cleanup();
    expect(leaked, 'haproxy processes or socket keepers left after the daemon stopped').toBe(0);
  });
  return context;
}
