/**
 * The key list of a refresh run: the hottest ids from the hotness signal merged with a
 * configured list, validated against the family's identifier rule and deduplicated. Pure.
 */
import type { IdentifierRule } from '../core/identifier-rules.ts';
import { matchesRule } from '../core/identifier-rules.ts';

/** Upper bound on the ids of one run (a run's checkpoint is one Redis value). */
export const MAX_KEYS_PER_RUN = 50_000;

/** The merged list, and how many candidates were dropped and why. */
export interface MergedKeys {
  readonly ids: readonly string[];
  /** Candidates that broke the identifier rule (never reach a key builder). */
  readonly invalid: number;
  /** Candidates seen twice (in both lists, or twice in one). */
  readonly duplicates: number;
  /** Valid, new candidates left out because the run was full. */
  readonly overLimit: number;
}

/**
 * Configured ids first (they are pinned on purpose), then the ranked hot ids, hottest first;
 * invalid ids are dropped (the sorted set is written by the read side: defence in depth).
 */
export function mergeHotKeys(
  ranked: readonly string[],
  configured: readonly string[],
  rule: IdentifierRule,
  limit: number = MAX_KEYS_PER_RUN,
): MergedKeys {
  const seen = new Set<string>();
  let invalid = 0;
  let duplicates = 0;
  let overLimit = 0;
  for (const id of [...configured, ...ranked]) {
    if (!matchesRule(rule, id)) invalid++;
    else if (seen.has(id)) duplicates++;
    else if (seen.size >= limit) overLimit++;
    else seen.add(id);
  }
  return { ids: [...seen], invalid, duplicates, overLimit };
}
