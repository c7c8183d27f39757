import { describe, expect, it } from 'vitest';
import {
  CLOUDWATCH_NAMESPACE,
  DIMENSION_FAMILY,
  DIMENSION_SERVICE,
  METRICS,
} from '../../../src/core/metric-names.ts';
import { EmfEmitter } from '../../../src/metrics/emf-emitter.ts';
import type { EventTimeline } from '../../../src/metrics/worker-metrics.ts';
import { validateEmfLine } from './emf-spec-validator.ts';
import { exactPercentile, seededRandom } from './seeded-random.ts';

const NOW = 1_760_000_000_000;

function emitter(maxLagValuesPerFlush?: number): { emf: EmfEmitter; lines: string[] } {
  const lines: string[] = [];
  const emf = new EmfEmitter({
    out: { write: (chunk: string) => lines.push(...chunk.split('\n').filter((l) => l !== '')) },
    service: 'cif-test',
    flushIntervalMs: 0,
    now: () => NOW,
    ...(maxLagValuesPerFlush === undefined ? {} : { maxLagValuesPerFlush }),
  });
  return { emf, lines };
}

const event = (lagMs: number, over: Partial<EventTimeline> = {}): EventTimeline => ({
  family: 'product',
  tenant: 't1',
  queue: 'catalog',
  originAtMs: NOW - lagMs,
  snsPublishedAtMs: NOW - lagMs + 5,
  sqsSentAtMs: NOW - lagMs + 8,
  receivedAtMs: NOW - 20,
  deleteConfirmedAtMs: NOW,
  broadcastAtMs: NOW + 2,
  ...over,
});

const parse = (line: string): Record<string, unknown> => JSON.parse(line) as Record<string, unknown>;
const directiveOf = (doc: Record<string, unknown>) =>
  (
    doc._aws as {
      CloudWatchMetrics: {
        Namespace: string;
        Dimensions: string[][];
        Metrics: { Name: string; Unit: string; StorageResolution: number }[];
      }[];
    }
  ).CloudWatchMetrics[0];

describe('EmfEmitter', () => {
  it('writes valid EMF lines with the names, dimensions and resolution the alarms expect', () => {
    // Prepare
    const { emf, lines } = emitter();
    // Act
    for (const lag of [120, 80, 300]) emf.eventApplied(event(lag));
    emf.eventApplied(event(50, { family: 'promo' }));
    emf.keysDeleted('product', 7);
    emf.rejected('catalog', 'SCHEMA');
    emf.deadLettered('catalog', 'SCHEMA');
    emf.retried('catalog', 'redis-error', 3);
    emf.redisError('timeout');
    emf.waitShortfall();
    emf.failoverReplayed(4);
    emf.refreshProgress({ written: 10, failed: 1, total: 20 });
    emf.refreshProgress({ written: 15, failed: 1, total: 20 });
    emf.flush();
    // Assess
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(validateEmfLine(line)).toEqual([]);
    const [product, promo, service] = lines.map(parse);
    expect(product).toMatchObject({ [DIMENSION_SERVICE]: 'cif-test', [DIMENSION_FAMILY]: 'product' });
    expect(promo?.[DIMENSION_FAMILY]).toBe('promo');
    const d = directiveOf(product ?? {});
    expect(d?.Namespace).toBe(CLOUDWATCH_NAMESPACE);
    expect(d?.Dimensions).toEqual([[DIMENSION_SERVICE, DIMENSION_FAMILY]]);
    expect(d?.Metrics.every((m) => m.StorageResolution === 1)).toBe(true);
    expect(product?.[METRICS.lagDeleteMs]).toEqual([80, 120, 300]);
    expect(product?.[METRICS.lagFromReceiveMs]).toEqual([20, 20, 20]);
    expect(product?.[METRICS.eventsProcessed]).toBe(3);
    expect(product?.[METRICS.keysDeleted]).toBe(7);
    expect(directiveOf(service ?? {})?.Dimensions).toEqual([[DIMENSION_SERVICE]]);
    expect(service).toMatchObject({
      [METRICS.rejected]: 1,
      [METRICS.deadLettered]: 1,
      [METRICS.retries]: 3,
      [METRICS.redisErrors]: 1,
      [METRICS.waitShortfalls]: 1,
      [METRICS.failoverReplays]: 1,
      [METRICS.refreshKeys]: 15,
      [METRICS.refreshFailures]: 1,
      [METRICS.lagSamplesClamped]: 0,
      rejectedByReason: { 'catalog:SCHEMA': 1 },
    });
    expect((service?._aws as { Timestamp: number }).Timestamp).toBe(NOW);
  });

  it('starts a new interval after each flush and always reports the per-service counters', () => {
    const { emf, lines } = emitter();
    emf.eventApplied(event(10));
    emf.flush();
    emf.flush();
    expect(lines).toHaveLength(3);
    expect(parse(lines[2] ?? '{}')[METRICS.redisErrors]).toBe(0);
    emf.close();
    emf.close();
    expect(lines).toHaveLength(4);
  });

  it('splits many samples into documents of at most 100 values that keep the percentiles', () => {
    // Prepare: 5 000 exponential lags in one interval, 300 values per flush
    const { emf, lines } = emitter(300);
    const random = seededRandom(7);
    const lags = Array.from({ length: 5_000 }, () => Math.round(-150 * Math.log(1 - random())));
    // Act
    for (const lag of lags) emf.eventApplied(event(lag));
    emf.flush();
    // Assess
    const familyDocs = lines.map(parse).filter((d) => d[DIMENSION_FAMILY] === 'product');
    expect(familyDocs).toHaveLength(3);
    for (const line of lines) expect(validateEmfLine(line)).toEqual([]);
    const values = familyDocs.flatMap((d) => (d[METRICS.lagDeleteMs] as number[] | undefined) ?? []);
    expect(values).toHaveLength(300);
    const sortedValues = [...values].sort((a, b) => a - b);
    const sortedLags = [...lags].sort((a, b) => a - b);
    expect(Math.max(...values)).toBe(sortedLags.at(-1));
    for (const p of [50, 90]) {
      const exact = exactPercentile(sortedLags, p);
      expect(Math.abs(exactPercentile(sortedValues, p) - exact)).toBeLessThanOrEqual(
        Math.max(2, exact * 0.02),
      );
    }
    // Counters travel once, in the first document.
    expect(familyDocs[0]?.[METRICS.eventsProcessed]).toBe(5_000);
    expect(familyDocs[1]?.[METRICS.eventsProcessed]).toBeUndefined();
  });

  it('counts clamped lag samples (clock skew)', () => {
    const { emf, lines } = emitter();
    emf.eventApplied(event(-500, { receivedAtMs: NOW - 1 }));
    emf.flush();
    const product = parse(lines[0] ?? '{}');
    expect(product[METRICS.lagDeleteMs]).toEqual([0]);
    expect(parse(lines.at(-1) ?? '{}')[METRICS.lagSamplesClamped]).toBe(4);
  });

  it('rejects documents that break the specification (the validator works)', () => {
    const good = {
      _aws: {
        Timestamp: NOW,
        CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['D']], Metrics: [{ Name: 'M', Unit: 'Count' }] }],
      },
      D: 'x',
      M: 1,
    };
    expect(validateEmfLine(JSON.stringify(good))).toEqual([]);
    expect(validateEmfLine(`x${JSON.stringify(good)}`)).not.toEqual([]);
    expect(validateEmfLine(JSON.stringify({ ...good, D: 3 }))).not.toEqual([]);
    expect(validateEmfLine(JSON.stringify({ ...good, M: Array.from({ length: 101 }, () => 1) }))).not.toEqual(
      [],
    );
    const badUnit = structuredClone(good);
    (badUnit._aws.CloudWatchMetrics[0]?.Metrics[0] as { Unit: string }).Unit = 'Millis';
    expect(validateEmfLine(JSON.stringify(badUnit))).not.toEqual([]);
    const missing = { ...good } as Record<string, unknown>;
    delete missing.M;
    expect(validateEmfLine(JSON.stringify(missing))).not.toEqual([]);
  });
});
