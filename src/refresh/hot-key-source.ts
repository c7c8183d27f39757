/**
 * The hotness signal, as a port: "the N hottest ids of a family". The Redis adapter
 * (src/adapters/redis/hot-key-ranking.ts) reads the sorted sets the read side increments on
 * reads (src/client/hotness-recorder.ts). The read side samples its increments (1 read in k,
 * weight k) and keeps the scores decaying in the log domain (src/client/hotness-decay.ts), so
 * ZREVRANGE already orders ids by decayed weight: nothing to rescale here.
 */
import type { FetchableFamily } from './cached-value-filter.ts';

/** Where the hottest ids come from. */
export interface HotKeySource {
  /** Up to `n` ids of `family` for `tenant`, hottest first. */
  top(family: FetchableFamily, tenant: string, n: number): Promise<readonly string[]>;
}
