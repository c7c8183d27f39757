import { describe, expect, it } from 'vitest';
import { parseIdList, resolveWarmOptions } from '../../../src/refresh/warm-options.ts';
import type { WarmStackView } from '../../../src/refresh/warm-options.ts';

const env: WarmStackView = {
  redis: {
    primary: { host: '127.0.0.1', port: 6380 },
    replica: { host: '127.0.0.1', port: 6381 },
    sentinels: [{ host: '127.0.0.1', port: 26380 }],
    sentinelName: 'mcache',
    cluster: [{ host: '127.0.0.1', port: 7100 }],
  },
  origin: { url: 'http://127.0.0.1:4599' },
};

describe('warm-up options', () => {
  it('reads ids from comma lists and files with comments', () => {
    expect(parseIdList('B000000001, B000000002\n# a comment\n\nB000000003  # trailing\n')).toEqual([
      'B000000001',
      'B000000002',
      'B000000003',
    ]);
  });

  it('resolves defaults: budget 50/s x 16, Sentinel from the env file, default locales', () => {
    const r = resolveWarmOptions({ family: 'review', top: '100' }, [], env);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.settings.budget).toEqual({ ratePerSecond: 50, concurrency: 16 });
    expect(r.settings.redis).toEqual({
      mode: 'sentinel',
      sentinels: [{ host: '127.0.0.1', port: 26380 }],
      name: 'mcache',
    });
    expect(r.settings.originUrl).toBe('http://127.0.0.1:4599');
    expect(r.settings.locales).toEqual(['en-US', 'ja-JP']);
  });

  it('merges --ids and --file, deduplicated; flags override the env file', () => {
    const r = resolveWarmOptions(
      { family: 'product', ids: 'B000000001,B000000002', redis: 'localhost:7000', rate: '200' },
      ['B000000002', 'B000000003'],
      env,
    );
    expect(r.ok && r.settings.ids).toEqual(['B000000001', 'B000000002', 'B000000003']);
    expect(r.ok && r.settings.redis).toEqual({ mode: 'standalone', host: 'localhost', port: 7000 });
    expect(r.ok && r.settings.budget.ratePerSecond).toBe(200);
  });

  it('reports every problem at once', () => {
    const r = resolveWarmOptions(
      { family: 'price', rate: 'fast', concurrency: '0', namespace: 'MC', ids: 'bad id' },
      [],
      undefined,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.errors.join('\n');
    for (const expected of ['--family', '--rate', 'concurrency', '--namespace', 'no Redis', 'no origin'])
      expect(text).toContain(expected);
  });

  it('validates ids with the family rule (store sections for promo)', () => {
    expect(resolveWarmOptions({ family: 'promo', ids: 'manga-home' }, [], env).ok).toBe(true);
    expect(resolveWarmOptions({ family: 'promo', ids: 'B000000001' }, [], env).ok).toBe(false);
    expect(resolveWarmOptions({ family: 'review', ids: 'manga-home' }, [], env).ok).toBe(false);
  });

  it('requires a source of ids', () => {
    const r = resolveWarmOptions({ family: 'review' }, [], env);
    expect(!r.ok && r.errors.join()).toContain('--top');
  });
});
