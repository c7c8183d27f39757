/**
 * The drill's event publisher: changes entities at the origin simulator (POST /_sim/change,
 * which bumps the version, builds the event with the simulator's event factory and
 * publishes it to the drill's private SNS topics) at a steady rate, open loop, on the same
 * Zipf-hot entities the readers read, so every change is one a reader may hold. Each change
 * is recorded with its event id, version and origin time, and goes into the version history.
 *
 * Mix: product 50 %, session (reco) 20 %, review 20 %, promotion 10 %. A promotion change
 * names one store section, with the section as its promotion id, so the event's version and
 * the section's version (what a reader is served) stay equal.
 */
import type { ReadFamily } from '../client/cache-client.ts';
import { STORE_SECTIONS, ZipfSampler, asinOf } from '../orchestrator-sim/workload.ts';
import { mulberry32 } from '../origin-sim/deterministic-random.ts';
import { VersionHistory } from './version-history.ts';

export interface PublishedEvent {
  readonly eventId: string;
  readonly family: ReadFamily;
  readonly id: string;
  readonly version: number;
  readonly occurredAtMs: number;
}

export interface EventLoadOptions {
  readonly originUrl: string;
  readonly eventsPerS: number;
  readonly catalogSize: number;
  readonly users: number;
  readonly skew: number;
  readonly seed: number;
  readonly maxInFlight?: number;
  /** Told every published event's body (the consistency auditor's `observe`). */
  readonly onPublished?: (body: string) => void;
}

export interface EventLoad {
  readonly history: VersionHistory;
  readonly published: readonly PublishedEvent[];
  /** Changes the origin refused or whose publish failed (counted, never retried). */
  failures(): number;
  /** Issues `n` changes at once (a peak on top of the steady rate). */
  burst(n: number): void;
  /** Stops issuing; resolves when the changes in flight are done. */
  stop(): Promise<void>;
}

const TICK_MS = 20;

export function startEventLoad(o: EventLoadOptions): EventLoad {
  const random = mulberry32(o.seed);
  const catalog = new ZipfSampler(o.catalogSize, o.skew, random);
  const sections = new ZipfSampler(STORE_SECTIONS.length, o.skew, random);
  const history = new VersionHistory();
  const published: PublishedEvent[] = [];
  const url = `${o.originUrl.replace(/\/+$/, '')}/_sim/change`;
  const maxInFlight = o.maxInFlight ?? 64;
  let failures = 0;
  let inFlight = 0;
  let stopping = false;

  const nextChange = (): { body: Record<string, unknown>; family: ReadFamily; id: string } => {
    const u = random();
    if (u < 0.5) {
      const id = asinOf(catalog.next());
      return { body: { family: 'product', id }, family: 'product', id };
    }
    if (u < 0.7) {
      const id = `user-${Math.floor(random() * o.users)}`;
      return { body: { family: 'session', id }, family: 'reco', id };
    }
    if (u < 0.9) {
      const id = asinOf(catalog.next());
      return { body: { family: 'review', id }, family: 'review', id };
    }
    const id = STORE_SECTIONS[sections.next()] ?? 'manga-home';
    return { body: { family: 'promotion', id, storeSections: [id] }, family: 'promo', id };
  };

  async function changeOnce(): Promise<void> {
    const c = nextChange();
    inFlight++;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(c.body),
        signal: AbortSignal.timeout(10_000),
      });
      const out = (await res.json()) as {
        published?: boolean;
        event?: { eventId: string; version: number; occurredAt: string };
      };
      // The origin's write happened even when the publish failed: the history has it.
      if (out.event) history.record(c.family, c.id, out.event.version, Date.parse(out.event.occurredAt));
      if (res.ok && out.published === true && out.event) o.onPublished?.(JSON.stringify(out.event));
      if (res.ok && out.published === true && out.event)
        published.push({
          eventId: out.event.eventId,
          family: c.family,
          id: c.id,
          version: out.event.version,
          occurredAtMs: Date.parse(out.event.occurredAt),
        });
      else failures++;
    } catch {
      failures++;
    } finally {
      inFlight--;
    }
  }

  const startedAt = performance.now();
  let issued = 0;
  const loop = (async () => {
    while (!stopping) {
      const due = Math.floor(((performance.now() - startedAt) / 1000) * o.eventsPerS) - issued;
      for (let i = 0; i < due; i++) {
        issued++;
        if (inFlight < maxInFlight) void changeOnce();
        else failures++;
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    while (inFlight > 0) await new Promise((r) => setTimeout(r, TICK_MS));
  })();

  return {
    history,
    published,
    failures: () => failures,
    burst(n) {
      for (let i = 0; i < n && !stopping; i++) void changeOnce();
    },
    async stop() {
      stopping = true;
      await loop;
    },
  };
}
