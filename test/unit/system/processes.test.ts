import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseProcNetTcp, tableLines } from '../../../src/system/processes.js';

describe('tableLines', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hs-test-table-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the header and the wanted lines of a table far larger than its 64 KiB chunk, lines cut across chunks included', () => {
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
    const line = (index: number, state: string, inode: number): string => `${String(index).padStart(4)}: 0100007F:1F90 0100007F:D432 ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 20 4 30 10 -1`;
    const lines = [header];
    for (let index = 0; index < 20_000; index++) lines.push(line(index, index % 5000 === 1234 ? '0A' : '06', index % 5000 === 1234 ? 9000 + index : 0));
    const file = path.join(dir, 'tcp');
    writeFileSync(file, `${lines.join('\n')}\n`);
    expect(statSync(file).size).toBeGreaterThan(10 * 64 * 1024);
    const kept = tableLines(file, (candidate) => / 0A /.test(candidate)).split('\n');
    expect(kept).toEqual([header, line(1234, '0A', 10234), line(6234, '0A', 15234), line(11234, '0A', 20234), line(16234, '0A', 25234)]);
    expect(parseProcNetTcp(kept.join('\n'), 4).map((socket) => socket.inode)).toEqual([10234, 15234, 20234, 25234]);
  });

  it('keeps a last line without its newline, and gives "" for a file that cannot be read', () => {
    const file = path.join(dir, 'short');
    writeFileSync(file, 'header\nfirst\nlast');
    expect(tableLines(file, () => true)).toBe('header\nfirst\nlast');
    expect(tableLines(path.join(dir, 'missing'), () => true)).toBe('');
  });
});
