import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { haproxyPids, keeperPids, killAll, TEST_MARKER } from '../helpers/haproxy-processes.js';

/** Integration tests need a built CLI and a haproxy binary; afterwards no haproxy or socket keeper of theirs may be left. */
export function setup(): void {
  if (!existsSync(new URL('../../dist/cli/main.js', import.meta.url))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it).');
  }
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
  } catch {
    throw new Error('haproxy is not installed: `apt-get install -y haproxy` (.ci/run does it).');
  }
}

export function teardown(): void {
  const leaked = [...haproxyPids(TEST_MARKER), ...keeperPids(TEST_MARKER)];
  if (leaked.length > 0) {
    killAll(leaked);
    throw new Error(`The suite left ${leaked.length} haproxy process(es) or socket keeper(s) running: ${leaked.join(', ')} (now killed).`);
  }
}
