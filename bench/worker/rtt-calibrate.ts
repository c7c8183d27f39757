/**
 * Which Toxiproxy latency toxics give an ElastiCache-like Redis round trip (0.3–0.5 ms) on this
 * machine: `node bench/worker/rtt-calibrate.ts [--pings 1000]`. Starts a private Toxiproxy in
 * front of the local primary, and for each candidate setting prints the PING round trip
 * (sequential PINGs, mean / p50 / p90), beside the direct loopback one; then the same for
 * bench/worker/delay-proxy.py at a few added round trips. The worker bench's default injected
 * setting (bench/worker-throughput.ts, --rtt-added-us) was picked from this table: no
 * Toxiproxy setting gives a p50 in 0.3-0.5 ms (the latency toxic's waits are whole ms, so a
 * mix of 0 and 1 ms waits puts the p50 on one or the other; the bandwidth toxic, whose waits
 * are µs, measured 1.1 ms or more per PING).
 *
 * Toxiproxy's latency toxic (toxics/latency.go) waits latency + rand.Int63n(2 * jitter) - jitter
 * whole ms per chunk, and a wait of 0 ms or less returns at once. So with jitter J the added
 * delay is latency - J .. latency + J - 1 ms, uniform: 0 ± 1 never delays; 0 ± 2 delays one
 * chunk in four by 1 ms; 1 ± 1 delays one in two by 1 ms.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { stack } from '../../test/support/stack.ts';
import { stackAccess } from '../../test/support/redis-access.ts';
import {
  bandwidth,
  latency,
  startToxiproxy,
  type Toxic,
  type ToxicStream,
} from '../../src/local/toxiproxy-client.ts';
import { startDelayProxy } from './delay-proxy.ts';
import { measureRoundTrip, roundTripText } from './round-trip.ts';
import { loadAverage } from './stats.ts';

const { values: args } = parseArgs({ options: { pings: { type: 'string', default: '1000' } } });
const pings = Number(args.pings);

interface Candidate {
  readonly label: string;
  readonly toxics: readonly Toxic[];
}
const both = (latencyMs: number, jitterMs: number): Toxic[] =>
  (['upstream', 'downstream'] as ToxicStream[]).map((stream) => latency({ stream, latencyMs, jitterMs }));
const onReplies = (latencyMs: number, jitterMs: number): Toxic[] => [
  latency({ stream: 'downstream', latencyMs, jitterMs }),
];
/** Bandwidth on replies: each reply waits its length / rate (KB/s = bytes per ms), in µs. */
const slowReplies = (kbPerSecond: number): Toxic[] => [bandwidth({ stream: 'downstream', kbPerSecond })];
const candidates: Candidate[] = [
  { label: 'proxy, no toxic', toxics: [] },
  { label: '0 ± 1 ms both directions', toxics: both(0, 1) },
  { label: '0 ± 2 ms both directions', toxics: both(0, 2) },
  { label: '0 ± 2 ms on replies', toxics: onReplies(0, 2) },
  { label: '1 ± 1 ms on replies', toxics: onReplies(1, 1) },
  ...[32, 24, 20, 16].map((kb) => ({ label: `bandwidth ${kb} KB/s on replies`, toxics: slowReplies(kb) })),
];

const s = stack();
const access = stackAccess();
const primary = s.redis.primary;
const direct = new Redis({ ...access.node, host: primary.host, port: primary.port });
const toxi = await startToxiproxy();
try {
  const proxy = await toxi.createProxy('calibrate-redis', primary);
  const slow = new Redis({ ...access.node, host: proxy.listen.host, port: proxy.listen.port });
  console.log(`load average at start: ${loadAverage()}; ${pings} sequential PINGs per line`);
  for (const c of candidates) {
    for (const t of c.toxics) await toxi.addToxic(proxy.name, t);
    const viaProxy = await measureRoundTrip(slow, pings);
    const loopback = await measureRoundTrip(direct, pings);
    console.log(
      `${c.label.padEnd(28)} ${roundTripText(viaProxy).padEnd(36)} direct ${roundTripText(loopback)}`,
    );
    for (const t of c.toxics) await toxi.removeToxic(proxy.name, t.name);
  }
  slow.disconnect();
  for (const us of [200, 300, 400]) {
    const delay = await startDelayProxy(primary, us);
    const viaDelay = new Redis({ ...access.node, host: delay.listen.host, port: delay.listen.port });
    try {
      const viaProxy = await measureRoundTrip(viaDelay, pings);
      const loopback = await measureRoundTrip(direct, pings);
      console.log(
        `${`delay proxy +${us} µs`.padEnd(28)} ${roundTripText(viaProxy).padEnd(36)} direct ${roundTripText(loopback)}`,
      );
    } finally {
      viaDelay.disconnect();
      await delay.stop();
    }
  }
  console.log(`load average at end: ${loadAverage()}`);
} finally {
  direct.disconnect();
  await toxi.stop();
}
