/**
 * A TEST-ONLY hook: drop the invalidation of chosen events on purpose, so the consistency
 * auditor (src/auditor/) can be shown to find a lost invalidation. A message whose event id
 * is listed in `WORKER_TEST_DROP_EVENT_IDS` is acked without any effect: no delete, no fence
 * bump, no broadcast, exactly what a lost invalidation leaves behind. The configuration
 * refuses the variable unless `NODE_ENV=test` (load-config.ts), so no deployed worker can
 * drop anything; with the variable unset the batch handler is used as it is.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { parseEventMessage } from '../core/events/parse-event-message.ts';

type BatchHandler = (messages: Message[]) => Promise<Message[]>;

/** Wraps `handler` so the listed events are acked unapplied; `handler` itself when none are listed. */
export function withTestDrops(
  handler: BatchHandler,
  dropEventIds: readonly string[],
  logger: Logger,
): BatchHandler {
  if (dropEventIds.length === 0) return handler;
  const drop = new Set(dropEventIds);
  return async (messages) => {
    const dropped: Message[] = [];
    const kept: Message[] = [];
    for (const m of messages) {
      const parsed = parseEventMessage(m.Body ?? '');
      if (parsed.ok && drop.has(parsed.event.eventId)) dropped.push(m);
      else kept.push(m);
    }
    for (const m of dropped) {
      const parsed = parseEventMessage(m.Body ?? '');
      logger.warn(
        { eventId: parsed.ok ? parsed.event.eventId : undefined },
        'TEST HOOK: invalidation dropped on purpose (WORKER_TEST_DROP_EVENT_IDS)',
      );
    }
    return [...dropped, ...(kept.length > 0 ? await handler(kept) : [])];
  };
}
