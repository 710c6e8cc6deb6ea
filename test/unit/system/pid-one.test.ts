import { describe, expect, it } from 'vitest';
import { pidOneRole } from '../../../src/system/pid-one.js';

describe('pidOneRole', () => {
  const comm = (name: string) => (pid: number) => (pid === 1 ? name : undefined);

  it('is pid1 for PID 1 itself, whatever runs there', () => {
    expect(pidOneRole(1, 0, comm('haproxy-supervi'))).toBe('pid1');
  });

  it('is behind-init under tini, docker-init or dumb-init at PID 1', () => {
    for (const init of ['tini', 'docker-init', 'dumb-init']) expect(pidOneRole(7, 1, comm(init))).toBe('behind-init');
  });

  it('is host under systemd or sysV init, or any other parent', () => {
    expect(pidOneRole(4242, 1, comm('systemd'))).toBe('host');
    expect(pidOneRole(4242, 1, comm('init'))).toBe('host');
    expect(pidOneRole(4242, 4000, comm('tini'))).toBe('host');
  });

  it('reads this process for real: the test runner is not PID 1', () => {
    expect(pidOneRole()).not.toBe('pid1');
  });
});
