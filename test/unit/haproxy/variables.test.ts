import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/haproxy/config-parse.js';
import { envUses, liveFlip } from '../../../src/haproxy/variables.js';

const uses = (text: string) => envUses({ files: ['h.cfg'], lines: parseConfig('h.cfg', text), unreadable: [], empty: [], digest: '', texts: {} });

describe('environment variables in a config', () => {
  const config = `global
    set-var proc.maint env(HAPROXY_MAINT),add(0)
    set-var proc.color env(COLOR)
frontend fe
    bind "\${ADDR}:80"
    acl maint var(proc.maint) -m int gt 0
    acl beta env(BETA) -m str on
`;

  it('tells process variables seeded in global from every other use', () => {
    const found = uses(config);
    expect(found.get('HAPROXY_MAINT')).toEqual({ seeds: [{ variable: 'proc.maint', envVar: 'HAPROXY_MAINT', converters: ',add(0)', where: 'h.cfg:2' }], elsewhere: [] });
    expect(found.get('BETA')).toEqual({ seeds: [], elsewhere: ['h.cfg:7'] });
    expect(found.get('ADDR')).toEqual({ seeds: [], elsewhere: ['h.cfg:5'] });
  });

  it('flips seeded variables with the same converters, and says why anything else needs a new process', () => {
    const found = uses(config);
    expect(liveFlip(found, { HAPROXY_MAINT: '1', COLOR: 'blue' })).toEqual({ commands: ['set var proc.maint str(1),add(0)', 'set var proc.color str(blue)'] });
    expect(liveFlip(found, { BETA: 'on' })).toEqual({ reason: 'BETA is read where only a new process sees it (h.cfg:7)' });
    expect(liveFlip(found, { UNUSED: '1' })).toEqual({ reason: 'the configuration does not read UNUSED' });
    expect(liveFlip(found, { HAPROXY_MAINT: undefined })).toEqual({ reason: 'unsetting HAPROXY_MAINT needs a new process' });
    expect(liveFlip(found, { COLOR: 'a),str(b' })).toEqual({ reason: 'the value of COLOR cannot be set at runtime as it is' });
    expect(liveFlip(found, { HAPROXY_MAINT: '1', BETA: 'on' })).toMatchObject({ reason: expect.stringContaining('BETA') as string });
  });
});
