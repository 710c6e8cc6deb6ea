import { describe, expect, it } from 'vitest';
import { capabilitiesOf, parseHaproxyVersion } from '../../../src/haproxy/capabilities.js';

describe('haproxy capabilities', () => {
  it('reads the version from haproxy -v as Debian 12 and 13 print it', () => {
    expect(parseHaproxyVersion('HAProxy version 2.6.12-1+deb12u4 2025/04/29 - https://haproxy.org/\nStatus: long-term supported branch')).toEqual({ major: 2, minor: 6, text: '2.6.12-1+deb12u4' });
    expect(parseHaproxyVersion('HAProxy version 3.0.11-1+deb13u4 2026/10/15 - https://haproxy.org/')).toEqual({ major: 3, minor: 0, text: '3.0.11-1+deb13u4' });
    expect(parseHaproxyVersion('haproxy: command not found')).toBeUndefined();
    expect(parseHaproxyVersion('')).toBeUndefined();
  });

  it('says what differs: tested versions, the final _getsocks ack, set var fmt', () => {
    const of = (text: string) => capabilitiesOf(parseHaproxyVersion(`HAProxy version ${text}`) ?? { major: 0, minor: 0, text: '' });
    expect(of('2.6.12')).toMatchObject({ tested: true, getsocksFinalAck: false, setVarFormat: false });
    expect(of('3.0.11')).toMatchObject({ tested: true, getsocksFinalAck: false, setVarFormat: true });
    expect(of('3.2.4')).toMatchObject({ tested: false, getsocksFinalAck: true, setVarFormat: true });
    expect(of('2.8.5')).toMatchObject({ tested: false, getsocksFinalAck: false, setVarFormat: false });
    expect(of('10.1.0')).toMatchObject({ tested: false, getsocksFinalAck: true });
  });
});
