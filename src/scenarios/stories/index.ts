/** The stories, in the order `all` runs them. */
import type { Story } from '../story.ts';
import { goldenWeek } from './golden-week.ts';
import { nodeReplaced } from './node-replaced.ts';
import { racingFills } from './racing-fills.ts';
import { stampede } from './stampede.ts';

export const STORIES: readonly Story[] = [goldenWeek, stampede, nodeReplaced, racingFills];

/** The stories named (each once, in `STORIES` order); throws on an unknown name. */
export function storiesNamed(names: readonly string[]): Story[] {
  const unknown = names.filter((n) => !STORIES.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`unknown stories: ${unknown.join(', ')}`);
  return STORIES.filter((s) => names.includes(s.name));
}
