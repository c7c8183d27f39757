/**
 * The pub/sub messages the workers publish and the read side parses (L1 broadcasts, pipeline
 * watermarks, worker presence): each parser starts from parseJsonRecord, accepts what its
 * encoder writes, and ignores anything else, including the other messages of the same
 * channel family.
 */
import { describe, expect, it } from 'vitest';
import { parseBroadcast } from '../../../src/adapters/redis/broadcast-message.ts';
import { parseJsonRecord } from '../../../src/adapters/redis/json-record.ts';
import { encodePresence, parsePresence } from '../../../src/adapters/redis/presence-message.ts';
import { encodeWatermark, parseWatermark } from '../../../src/adapters/redis/watermark-message.ts';

const NOT_OBJECTS = ['', 'not json', '{', 'null', '42', '"text"', 'true', '[]', '[{"v":1}]'];

describe('parseJsonRecord', () => {
  it.each(NOT_OBJECTS)('refuses %j: not a JSON object', (raw) => {
    expect(parseJsonRecord(raw)).toBeUndefined();
  });

  it('returns the object of a JSON object', () => {
    expect(parseJsonRecord('{"v":1,"type":"x"}')).toEqual({ v: 1, type: 'x' });
  });
});

describe('the channel messages', () => {
  const watermark = encodeWatermark({ topic: 'catalog', originTimeMs: 1_700_000_000_000, queue: 'catalog' });
  const presence = encodePresence('host:42:abcdef01', false);

  it('round-trip through their encoders', () => {
    expect(parseWatermark(watermark)).toEqual({
      v: 1,
      type: 'watermark',
      topic: 'catalog',
      originTimeMs: 1_700_000_000_000,
      queue: 'catalog',
    });
    expect(parsePresence(presence)).toEqual({
      v: 1,
      type: 'presence',
      worker: 'host:42:abcdef01',
      leaving: false,
    });
  });

  it("ignore each other's messages and anything that is not an object", () => {
    expect(parseWatermark(presence)).toBeUndefined();
    expect(parsePresence(watermark)).toBeUndefined();
    expect(parseBroadcast(watermark)).toBeUndefined();
    expect(parseBroadcast(presence)).toBeUndefined();
    for (const raw of NOT_OBJECTS) {
      expect(parseWatermark(raw)).toBeUndefined();
      expect(parsePresence(raw)).toBeUndefined();
      expect(parseBroadcast(raw)).toBeUndefined();
    }
  });
});
