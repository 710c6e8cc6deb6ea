import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';

const REPO = path.resolve(import.meta.dirname, '../..');

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

describe('the npm package', () => {
  it('installs from npm pack with runtime dependencies only, and runs check, start, reload, stop and completion from there', async () => {
    // The dist/ the suite built: pack without running `prepare` again.
    const packed = await execa('npm', ['pack', '--ignore-scripts', '--pack-destination', sandbox.dir], { cwd: REPO, reject: false });
    expect(packed.exitCode, String(packed.stderr)).toBe(0);
    const tarball = readdirSync(sandbox.dir).find((name) => name.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const prefix = path.join(sandbox.dir, 'prefix');
    const installed = await execa('npm', ['install', '-g', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', path.join(sandbox.dir, tarball ?? '')], { reject: false, timeout: 300_000 });
    expect(installed.exitCode, String(installed.stderr)).toBe(0);
    const root = path.join(prefix, 'lib', 'node_modules', 'haproxy-supervisor');
    for (const shipped of ['init/haproxy-supervisor', 'systemd/haproxy-supervisor.service', 'examples/maintenance/haproxy.cfg', 'dist/cli/main.js']) expect(existsSync(path.join(root, shipped)), shipped).toBe(true);
    const dependencies = readdirSync(path.join(root, 'node_modules'));
    for (const development of ['vitest', 'typescript', 'eslint', '@types', 'execa', 'yaml']) expect(dependencies).not.toContain(development);

    // The bin through its shebang, as an operator runs it.
    const bin = path.join(prefix, 'bin', 'haproxy-supervisor');
    const run = async (args: string[]) => {
      const result = await execa(bin, args, { reject: false, timeout: 60_000 });
      return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
    };
    const { version } = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect((await run(['--version'])).stdout).toBe(version);
    sandbox.writeConfig(httpConfig(port, 'packaged'));
    const checked = await run(['check', '-f', sandbox.config]);
    expect(checked.exitCode, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toContain('haproxy -c: configuration is valid.');
    const started = await run(['start', '-f', sandbox.config, '--run-dir', sandbox.runDir, '--no-watch']);
    expect(started.exitCode, started.stderr).toBe(0);
    try {
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('packaged');
      const reloaded = await run(['reload', '--run-dir', sandbox.runDir]);
      expect(reloaded.stdout).toMatch(/^reload #\d+ ok/);
    } finally {
      expect((await run(['stop', '--run-dir', sandbox.runDir])).exitCode).toBe(0);
    }
    expect(sandbox.haproxyPids()).toEqual([]);
    expect((await run(['completion'])).stdout).toContain('###-begin-haproxy-supervisor-completions-###');
  });
});
