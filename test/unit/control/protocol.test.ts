import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../../src/control/protocol.js';

describe('parseRequest', () => {
  it.each([
    ['{"cmd":"status"}', { cmd: 'status' }],
    ['{"cmd":"reload"}', { cmd: 'reload', mode: 'reload' }],
    ['{"cmd":"reload","mode":"reload-socket"}', { cmd: 'reload', mode: 'reload-socket' }],
    ['{"cmd":"reload","verify":false}', { cmd: 'reload', mode: 'reload', verify: false }],
    ['{"cmd":"reload","verify":true}', { cmd: 'reload', mode: 'reload' }],
    ['{"cmd":"stop","hard":true}', { cmd: 'stop', hard: true }],
    ['{"cmd":"stop","drainTimeoutMs":5000}', { cmd: 'stop', hard: false, drainTimeoutMs: 5000 }],
  ])('accepts %s', (line, expected) => {
    expect(parseRequest(line)).toEqual(expected);
  });

  it.each([
    ['not json', 'bad-request'],
    ['[1]', 'bad-request'],
    ['null', 'bad-request'],
    ['"status"', 'bad-request'],
    ['{"cmd":"reload","mode":"sideways"}', 'bad-request'],
    ['{"cmd":"reload","verify":"no"}', 'bad-request'],
    ['{"cmd":"stop","drainTimeoutMs":-1}', 'bad-request'],
    ['{"cmd":"rm -rf"}', 'unknown-command'],
    ['{}', 'unknown-command'],
  ])('answers %s with %s', (line, code) => {
    expect(parseRequest(line)).toMatchObject({ ok: false, error: { code } });
  });
});
