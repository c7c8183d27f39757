/** The mutable state one simulator instance shares between its routes. */
import type { CallStats } from './call-stats.ts';
import type { EntityStore } from './entity-store.ts';
import type { EventPublisher, TopicArns } from './event-publisher.ts';
import type { FailureInjector } from './failure-injector.ts';
import type { SimConfig } from './sim-config.ts';
import type { VersionHistory } from './version-history.ts';

/** Everything a route handler may read or change. */
export interface SimContext {
  readonly store: EntityStore;
  /** Every version change of the store, with the time it became true (GET /_sim/history). */
  readonly history: VersionHistory;
  readonly stats: CallStats;
  readonly failures: FailureInjector;
  readonly topics: Readonly<TopicArns>;
  /** The current config (replaced as a whole by `POST /_sim/config`). */
  config(): SimConfig;
  /** Installs a new, already validated config. */
  setConfig(config: SimConfig): void;
  /** The SNS publisher, created on first use so a simulator without topics opens no client. */
  publisher(): EventPublisher;
}
