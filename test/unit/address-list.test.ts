import { describe, expect, it } from 'vitest';
import { dialListArg } from '../../src/cli/options.js';
import { parseAddressOrList, parseHostPortList } from '../../src/core/address.js';

describe('controller address lists (--controller A,B)', () => {
  it('keeps the entries in order, spaces around commas trimmed; IPv6 and host names alike', () => {
    expect(parseHostPortList('10.0.0.1:50050, ctl-b.example:50050 ,[fd00::3]:50050', '--controller')).toEqual([
      '10.0.0.1:50050',
      'ctl-b.example:50050',
      '[fd00::3]:50050',
    ]);
    expect(parseHostPortList('127.0.0.1:1')).toEqual(['127.0.0.1:1']);
  });

  it('refuses an empty list, empty entries, bad and zero ports, and duplicates, naming the flag and the entry', () => {
    expect(() => parseHostPortList('', '--controller')).toThrow(/--controller is empty/);
    expect(() => parseHostPortList(' , ', '--controller')).toThrow(/--controller is empty/);
    expect(() => parseHostPortList('a:1,,b:2', '--controller')).toThrow(
      /--controller has an empty entry \(entry 2 of "a:1,,b:2"\)/,
    );
    expect(() => parseHostPortList('a:1,', '--controller')).toThrow(/empty entry \(entry 2/);
    expect(() => parseHostPortList('a:1,b:99999', '--controller')).toThrow(
      /--controller entry "b:99999" is not HOST:PORT/,
    );
    expect(() => parseHostPortList('a:1,b', '--controller')).toThrow(/--controller entry "b" is not HOST:PORT/);
    expect(() => parseHostPortList('a:1,b:0', '--controller')).toThrow(
      /--controller "b:0" \(entry 2 of "a:1,b:0"\) has port 0/,
    );
    expect(() => parseHostPortList('a:1,b:2,A:1', '--controller')).toThrow(
      /--controller names A:1 twice \(entries 1 and 3\)/,
    );
  });

  it('one address without a comma is checked exactly as before (port 0 left to the caller)', () => {
    expect(parseAddressOrList('127.0.0.1:0', '--connect')).toEqual(['127.0.0.1:0']);
    expect(() => parseAddressOrList('nope', '--connect')).toThrow(/--connect "nope" is not HOST:PORT/);
    expect(parseAddressOrList('a:1,b:2', '--connect')).toEqual(['a:1', 'b:2']);
  });

  it('a bad --controller list is a usage error naming the flag', () => {
    expect(dialListArg('a:1 , b:2', 'controller')).toBe('a:1,b:2');
    expect(dialListArg('a:1', 'controller')).toBe('a:1');
    expect(() => dialListArg('a:1,a:1', 'controller')).toThrow(expect.objectContaining({ name: 'FlagError' }));
    expect(() => dialListArg('a:0', 'controller')).toThrow(/--controller "a:0" has port 0/);
  });
});
