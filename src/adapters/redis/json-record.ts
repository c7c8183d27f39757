/**
 * The first step of every pub/sub message parser (broadcasts, watermarks, presence): the
 * message as a JSON object, or undefined when it is not one. Each parser then checks its
 * own fields; nothing here trusts the contents.
 */
export function parseJsonRecord(raw: string): Record<string, unknown> | undefined {
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined;
  return m as Record<string, unknown>;
}
