/**
 * The hotness signal, as a port: "the N hottest ids of a family". The Redis adapter
 * (src/adapters/redis/hot-key-ranking.ts) reads the sorted sets the read side increments on
 * reads (src/client/hotness-recorder.ts). The read side should sample its increments (1 read
 * in k) and decay the scores (e.g. an hourly `ZUNIONSTORE key 1 key WEIGHTS 0.5`): that is
 * its contract, not the refresh's.
 */
import type { FetchableFamily } from './cached-value-filter.ts';

/** Where the hottest ids come from. */
export interface HotKeySource {
  /** Up to `n` ids of `family` for `tenant`, hottest first. */
  top(family: FetchableFamily, tenant: string, n: number): Promise<readonly string[]>;
}
