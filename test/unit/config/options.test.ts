import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/config/duration.js';
import { resolveOptions } from '../../../src/config/options.js';
import { OptionError } from '../../../src/errors.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['30m', 1_800_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['250', 250],
    ['100us', 0],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'abc', '10 parsecs', '-5s', '1e3'])('rejects %j', (text) => expect(parseDuration(text)).toBeUndefined());

  it('formats back', () => {
    expect([formatDuration(500), formatDuration(30_000), formatDuration(1_800_000), formatDuration(1500)]).toEqual(['500ms', '30s', '30m', '1.5s']);
  });
});

describe('resolveOptions', () => {
  it('fills every default once', () => {
    const options = resolveOptions({ config: ['x.cfg'], runDir: '/tmp/r' });
    expect(options).toMatchObject({ drainTimeoutMs: 1_800_000, killGraceMs: 10_000, maxDraining: 20, haproxy: 'haproxy', runDir: '/tmp/r' });
    expect(path.isAbsolute(options.config[0] ?? '')).toBe(true);
  });

  it('names the option, the value and what it expects', () => {
    expect(() => resolveOptions({ config: ['x'], drainTimeout: 'abc' })).toThrow(new OptionError('Expected `--drain-timeout` to be a duration like 500ms, 30s or 30m, got `abc`.'));
    expect(() => resolveOptions({ config: [] })).toThrow(/at least one `--config`/);
    expect(() => resolveOptions({ config: ['x'], maxDraining: -1 })).toThrow(/--max-draining/);
    expect(() => resolveOptions({ config: ['x'], logLevel: 'loud' })).toThrow(/--log-level/);
  });
});
