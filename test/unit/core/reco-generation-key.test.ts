/**
 * Reco generations are now hybrid-logical-clock values (max(current + 1, Redis time in µs),
 * docs/decisions/0007-fences-never-reissued.md): 16-digit integers. The key builder and the
 * parser must carry them exactly, and refuse what a double would round.
 */
import { describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { parseKey } from '../../../src/core/key-parser.ts';

describe('reco keys under a µs-clock generation', () => {
  const keys = createKeyBuilder({ namespace: 'mc' });
  const user = { family: 'reco', tenant: 'acme', id: 'user42', seedAsin: 'B08X1YRSTR' } as const;

  it('builds and parses back a 16-digit generation exactly', () => {
    const generation = 1_796_119_454_123_457; // 2026-12 in µs; odd, so a rounding would show

    const key = keys.valueKey({ ...user, generation });

    expect(key).toBe('mc:{acme:reco:user42}:v1:g1796119454123457:B08X1YRSTR');
    expect(parseKey(key, 'mc')).toMatchObject({ kind: 'value', family: 'reco', generation });
  });

  it('accepts the largest safe integer and refuses what is past it', () => {
    const largest = keys.valueKey({ ...user, generation: Number.MAX_SAFE_INTEGER });

    expect(parseKey(largest, 'mc')).toMatchObject({ generation: Number.MAX_SAFE_INTEGER });
    expect(() => keys.valueKey({ ...user, generation: Number.MAX_SAFE_INTEGER + 1 })).toThrow(/generation/);
    // A hand-made key one past the largest safe integer: a double could not tell it apart.
    expect(parseKey('mc:{acme:reco:user42}:v1:g9007199254740992:B08X1YRSTR', 'mc')).toBeNull();
  });
});
