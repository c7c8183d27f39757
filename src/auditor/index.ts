/**
 * The consistency auditor's programmatic API (docs/auditor.md): `startAuditor(options)`
 * resolves with an {@link Auditor} whose `snapshot()` gives the checks, inconsistencies, the
 * counts per family and window and the findings, and whose `close()` stops it.
 */
export { AUDITOR_DEFAULTS, sampled, startAuditor } from './auditor.ts';
export type { AuditSnapshot, Auditor, AuditorOptions, Finding } from './auditor.ts';
export type { WindowTally } from './consistency-tally.ts';
export type { StaleRule } from './staleness-rule.ts';
export type { Tier } from './tier-readers.ts';
export { L1_INSPECTION_PATH, registerL1InspectionRoute } from './l1-inspection-route.ts';
