import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const REPO = path.resolve(import.meta.dirname, '../..');

/**
 * The boot script, run as PID 1's parent inside `unshare --pid --fork --mount --mount-proc --propagation private`:
 * private tmpfs on /run, /tmp and /var/tmp *before* systemd starts (or its boot-time clean-up would empty the
 * machine's real /tmp), and on the journal and haproxy's chroot; the repository bind-mounted where the namespace
 * can see it, `haproxy-supervisor` on PATH through a shim, the units under test in /run/systemd/system, the image's
 * own units (and whatever it enables) masked. Then systemd.
 */
const BOOT = String.raw`set -e
src="$1"; repo="$2"
mount -t tmpfs tmpfs /run
mkdir -p /run/hs-repo /run/hs-test /run/hs-bin /run/systemd/system
mount --bind "$repo" /run/hs-repo
cp -r "$src"/. /run/hs-test/
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/tmp
# The journal and haproxy's chroot stay in the namespace too (the unit bind-mounts /dev/log into the chroot).
[ ! -d /var/log/journal ] || mount -t tmpfs -o mode=2755 tmpfs /var/log/journal
[ ! -d /var/lib/haproxy ] || mount -t tmpfs -o mode=0755 tmpfs /var/lib/haproxy
printf '#!/bin/sh\nexec /usr/bin/node /run/hs-repo/dist/cli/main.js "$@"\n' > /run/hs-bin/haproxy-supervisor
chmod 755 /run/hs-bin/haproxy-supervisor
mount --bind /run/hs-bin /usr/local/bin
cp -r /run/hs-test/units/. /run/systemd/system/
for unit in haproxy.service getty@.service serial-getty@.service console-getty.service getty.target systemd-logind.service \
  systemd-tmpfiles-clean.timer systemd-tmpfiles-setup.service cron.service ssh.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer fstrim.timer man-db.timer dpkg-db-backup.timer logrotate.timer systemd-networkd.service systemd-resolved.service; do
  [ -e "/run/systemd/system/$unit" ] || ln -s /dev/null "/run/systemd/system/$unit"
done
# Whatever else the image enables (prometheus for promtool, postgresql, …) stays off too.
for link in /etc/systemd/system/multi-user.target.wants/*.service /etc/systemd/system/timers.target.wants/*.timer; do
  unit=$(basename "$link")
  [ -e "$link" ] && [ ! -e "/run/systemd/system/$unit" ] && ln -s /dev/null "/run/systemd/system/$unit" || true
done
exec /lib/systemd/systemd --system --unit=multi-user.target --log-target=null
`;

/** A real systemd as PID 1 of a private PID and mount namespace, for the units' tests (root only). */
export class PrivateSystemd {
  readonly dir: string;
  #child: ChildProcess | undefined;
  #pid: number | undefined;

  /** `dir` (a test temp dir) must hold `units/` and whatever else the services need; it is copied to /run/hs-test. */
  constructor(dir: string) {
    this.dir = dir;
  }

  /** Why it cannot run here, or undefined. */
  static unavailable(): string | undefined {
    if (process.getuid?.() !== 0) return 'needs root (unshare of the PID and mount namespaces)';
    try {
      execFileSync('unshare', ['--pid', '--fork', '--mount', '--mount-proc', '--propagation', 'private', 'true'], { stdio: 'ignore' });
      readFileSync('/lib/systemd/systemd');
    } catch (error) {
      return `no private namespace or no systemd here (${(error as Error).message.split('\n')[0]})`;
    }
    return undefined;
  }

  async boot(): Promise<void> {
    mkdirSync(path.join(this.dir, 'units'), { recursive: true });
    writeFileSync(path.join(this.dir, 'boot.sh'), BOOT);
    this.#child = spawn('unshare', ['--pid', '--fork', '--mount', '--mount-proc', '--propagation', 'private', 'bash', path.join(this.dir, 'boot.sh'), this.dir, REPO], { stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      this.#pid ??= this.#findSystemd();
      if (this.#pid !== undefined) {
        const state = this.exec(['systemctl', 'is-system-running'], true).trim();
        if (state === 'running' || state === 'degraded') return;
      }
      await sleep(100);
    }
    throw new Error('systemd did not come up in the namespace');
  }

  /** Runs a command inside the namespace; returns stdout (throws on a non-zero exit unless `lenient`). */
  exec(args: string[], lenient = false): string {
    try {
      return execFileSync('nsenter', ['-t', String(this.#pid), '-m', '-p', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    } catch (error) {
      if (lenient) return String((error as { stdout?: string }).stdout ?? '');
      throw error;
    }
  }

  /** Exit code of a command inside the namespace. */
  status(args: string[]): number {
    try {
      execFileSync('nsenter', ['-t', String(this.#pid), '-m', '-p', ...args], { stdio: 'ignore', timeout: 120_000 });
      return 0;
    } catch (error) {
      return (error as { status?: number }).status ?? -1;
    }
  }

  /** Writes a file inside the namespace (through its root in /proc). */
  writeFile(file: string, text: string): void {
    writeFileSync(`/proc/${this.#pid}/root${file}`, text);
  }

  /** A unit property (`systemctl show -p`). */
  property(unit: string, name: string): string {
    return this.exec(['systemctl', 'show', '-p', name, '--value', unit], true).trim();
  }

  /** Stops systemd (`systemctl exit`), which ends everything in the namespace. */
  async shutdown(): Promise<void> {
    if (this.#pid !== undefined) this.exec(['systemctl', 'exit'], true);
    const child = this.#child;
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  }

  #findSystemd(): number | undefined {
    const parent = this.#child?.pid;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === parent && readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'systemd') return Number(entry);
      } catch {
        // Gone.
      }
    }
    return undefined;
  }
}
