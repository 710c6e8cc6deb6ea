import { describe, expect, it } from 'vitest';
import { parseStat, type StatRow } from '../../../src/haproxy/stat.js';
import { verifyGeneration, windowHasWork } from '../../../src/supervisor/verify.js';

/** A `show stat` row of a server (or FRONTEND/BACKEND). */
const row = (proxy: string, name: string, status: string, checkStatus = '', extra: Partial<StatRow> = {}): StatRow => ({ proxy, name, status, checkStatus, lastCheck: '', responses5xx: 0, responses: 0, ...extra });

/** A source that answers each call with the next snapshot (the last one forever). */
function sequence(...snapshots: StatRow[][]): () => Promise<StatRow[]> {
  let index = 0;
  return () => Promise.resolve(snapshots[Math.min(index++, snapshots.length - 1)] ?? []);
}

const running = [row('app', 'a1', 'UP', 'L4OK'), row('app', 'BACKEND', 'UP'), row('static', 's1', 'no check'), row('dead', 'd1', 'DOWN', 'L4CON')];

describe('verifyGeneration', () => {
  it('passes at once when every backend the running generation reaches has a server that passed, or no checks at all', async () => {
    const candidate = sequence([row('app', 'a1', 'UP', 'L4OK'), row('static', 's1', 'no check'), row('dead', 'd1', 'DOWN', 'L4CON')]);
    const started = performance.now();
    expect(await verifyGeneration(sequence(running), candidate, { windowMs: 5000, observeMs: 0 })).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('asks the new generation nothing when the running one reaches no backend and 5xx answers are not compared', async () => {
    let asked = 0;
    const candidate = (): Promise<StatRow[]> => {
      asked++;
      return Promise.resolve([]);
    };
    const nothingUp = [row('app', 'a1', 'DOWN', 'L4CON'), row('app', 'BACKEND', 'DOWN')];
    expect(await verifyGeneration(sequence(nothingUp), candidate, { windowMs: 5000, observeMs: 0 })).toBeUndefined();
    expect(asked).toBe(0);
    expect(await verifyGeneration(sequence(nothingUp), candidate, { windowMs: 5000, observeMs: 10 })).toBeUndefined();
    expect(asked).toBeGreaterThan(0);
  });

  it('says whether a config gives the window anything to decide: servers, or a 5xx comparison', () => {
    expect(windowHasWork(true, { windowMs: 5000, observeMs: 0 })).toBe(true);
    expect(windowHasWork(false, { windowMs: 5000, observeMs: 200 })).toBe(true);
    expect(windowHasWork(false, { windowMs: 5000, observeMs: 0 })).toBe(false);
  });

  it('waits for first checks (INI) and passes as soon as one server of the backend passes', async () => {
    const candidate = sequence([row('app', 'a1', 'UP 1/3', 'INI'), row('app', 'a2', 'UP 1/3', 'INI')], [row('app', 'a1', 'DOWN', 'L4CON'), row('app', 'a2', 'UP 1/3', 'INI')], [row('app', 'a1', 'DOWN', 'L4CON'), row('app', 'a2', 'UP', 'L7OK')]);
    expect(await verifyGeneration(sequence(running), candidate, { windowMs: 5000, observeMs: 0 })).toBeUndefined();
  });

  it('fails as soon as every server of a backend the running generation reaches failed its first check, with the evidence', async () => {
    const candidate = sequence([row('app', 'a1', 'DOWN', 'L4CON', { lastCheck: 'Connection refused' }), row('static', 's1', 'no check')]);
    const failure = await verifyGeneration(sequence(running), candidate, { windowMs: 60_000, observeMs: 0 });
    expect(failure?.reason).toMatch(/^no server of app passed its first health check in the new generation/);
    expect(failure?.evidence).toEqual([{ backend: 'app', servers: [{ name: 'a1', status: 'DOWN', check: 'L4CON Connection refused' }] }]);
  });

  it('fails at the end of the window when a backend’s first checks have not answered, and ignores backends the running one does not reach or the new config removed', async () => {
    const candidate = sequence([row('app', 'a1', 'UP 1/3', 'INI'), row('dead', 'd1', 'DOWN', 'L4CON')]);
    const failure = await verifyGeneration(sequence(running), candidate, { windowMs: 120, observeMs: 0 });
    expect(failure?.reason).toContain('within the verify window (120 ms)');
    expect(failure?.evidence.map((item) => item.backend)).toEqual(['app']);
  });

  it('with an observation time, fails a new generation whose share of 5xx is far above the running one’s, and passes one in line with it', async () => {
    const front = (errors: number, total: number): StatRow => row('fe', 'FRONTEND', 'OPEN', '', { responses5xx: errors, responses: total });
    const current = sequence([...running, front(0, 100)], [...running, front(1, 200)]);
    const bad = sequence([row('app', 'a1', 'UP', 'L4OK'), front(0, 0)], [row('app', 'a1', 'UP', 'L4OK'), front(40, 100)]);
    const failure = await verifyGeneration(current, bad, { windowMs: 5000, observeMs: 30 });
    expect(failure?.reason).toBe('the new generation answered 40.0 % of 100 requests with 5xx during the verify window, the running one 1.0 % of 100');
    const fine = sequence([row('app', 'a1', 'UP', 'L4OK'), front(0, 0)], [row('app', 'a1', 'UP', 'L4OK'), front(2, 100)]);
    expect(await verifyGeneration(sequence([...running, front(0, 100)], [...running, front(1, 200)]), fine, { windowMs: 5000, observeMs: 30 })).toBeUndefined();
  });

  it('reads only the columns it needs, wherever the header puts them', () => {
    // Columns in another order than haproxy 2.6's, unknown ones between, a line longer than the header and one cut short.
    const csv = '# svname,x1,last_chk,x2,hrsp_5xx,pxname,x3,status,hrsp_2xx,check_status\ns1,a,conn refused,b,4,be,c,DOWN,6,L4CON,extra,more\ns2,a,,b,0,be\n';
    expect(parseStat(csv)).toEqual([
      { proxy: 'be', name: 's1', status: 'DOWN', checkStatus: 'L4CON', lastCheck: 'conn refused', responses5xx: 4, responses: 10 },
      { proxy: 'be', name: 's2', status: '', checkStatus: '', lastCheck: '', responses5xx: 0, responses: 0 },
    ]);
  });

  it('reads haproxy’s `show stat` CSV by its header, quoted fields included', () => {
    const csv = '# pxname,svname,status,check_status,last_chk,hrsp_2xx,hrsp_5xx\nbe,s1,DOWN,L7STS,"HTTP status check returned code <503>, ""busy""",3,7\nbe,s2,UP,L4OK,,5,\n\nfe,FRONTEND,OPEN\n';
    expect(parseStat(csv)).toEqual([
      { proxy: 'be', name: 's1', status: 'DOWN', checkStatus: 'L7STS', lastCheck: 'HTTP status check returned code <503>, "busy"', responses5xx: 7, responses: 10 },
      { proxy: 'be', name: 's2', status: 'UP', checkStatus: 'L4OK', lastCheck: '', responses5xx: 0, responses: 5 },
      { proxy: 'fe', name: 'FRONTEND', status: 'OPEN', checkStatus: '', lastCheck: '', responses5xx: 0, responses: 0 },
    ]);
  });
});
