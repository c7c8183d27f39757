/**
 * Applies a change to the entity store: what "the truth changed at the origin" means for
 * each family, before any event is published (as in a real origin, the write comes first).
 */
import type { ChangeRequest } from './change-request.ts';
import type { EntityStore } from './entity-store.ts';
import type { ChangeFacts } from './event-factory.ts';

/** Bumps the versions `change` touches; returns the version and time its event reports. */
export function applyChange(store: EntityStore, change: ChangeRequest): ChangeFacts {
  switch (change.family) {
    case 'product': {
      const state = store.change('product', change.asin, { deleted: change.kind === 'deleted' });
      return { version: state.version, occurredAt: new Date(state.changedAt) };
    }
    case 'promotion': {
      // The event's version is the promotion's own; each section it touches also gets a new
      // version so that `GET /promotions/:section` visibly changes.
      const active = change.kind !== 'expired';
      for (const section of change.storeSections)
        store.change('promotion-section', section, { active, ref: change.promotionId });
      const state = store.change('promotion', change.promotionId, { active });
      return { version: state.version, occurredAt: new Date(state.changedAt) };
    }
    case 'session': {
      // A new session invalidates every recommendation of the user: one version per user.
      const state = store.change('recommendation-user', change.userId);
      return { version: state.version, occurredAt: new Date(state.changedAt) };
    }
    case 'review': {
      const state = store.change('review', change.asin);
      return { version: state.version, occurredAt: new Date(state.changedAt) };
    }
  }
}
