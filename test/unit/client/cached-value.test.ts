import { describe, expect, it } from 'vitest';
import { decodeStored, encodeEnvelope, encodeStored } from '../../../src/client/cached-value.ts';
import { encodeVersioned } from '../../../src/client/fenced-populate.ts';

describe('the stored value frame', () => {
  it('round-trips a value with its version and store time', () => {
    // Prepare
    const raw = encodeStored({
      found: true,
      data: { asin: 'B0', title: 'a|b' },
      version: 7,
      storedAtMs: 123,
    });

    // Act
    const decoded = decodeStored(raw);

    // Assess
    expect(raw).toBe('7|{"mc":1,"at":123,"d":{"asin":"B0","title":"a|b"}}');
    expect(decoded).toEqual({ found: true, data: { asin: 'B0', title: 'a|b' }, version: 7, storedAtMs: 123 });
  });

  it('frames a cached "not found" at version 0', () => {
    // Act
    const raw = encodeVersioned(0, encodeEnvelope({ found: false }, 5));

    // Assess
    expect(raw).toBe('0|{"mc":1,"at":5,"nf":1}');
    expect(decodeStored(raw)).toEqual({ found: false, version: 0, storedAtMs: 5 });
  });

  it('reads a value written by the refresh (no envelope) as data of unknown age', () => {
    expect(decodeStored('4|{"asin":"B0","reviewCount":3}')).toEqual({
      found: true,
      data: { asin: 'B0', reviewCount: 3 },
      version: 4,
    });
  });

  it.each([['plain'], ['x|{}'], ['3|not json'], ['|{}']])('refuses %j (a miss, not a crash)', (raw) => {
    expect(decodeStored(raw)).toBeUndefined();
  });
});
