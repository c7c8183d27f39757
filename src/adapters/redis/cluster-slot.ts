/**
 * Redis Cluster hash slot of a key (CRC16/XMODEM of the hash tag, mod 16384), so the
 * effects can be grouped per node before they are sent. Kept here rather than importing
 * ioredis' transitive `cluster-key-slot`, which is not a declared dependency.
 */
import { hashTagOf } from '../../core/key-parser.ts';

const SLOTS = 16_384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
  return crc;
}

/** The cluster slot (0..16383) that owns `key`. */
export function slotOf(key: string): number {
  return crc16(Buffer.from(hashTagOf(key), 'utf8')) % SLOTS;
}
