/**
 * The consistency auditor's window into a read-side process's L1: `GET /l1` on the process's
 * admin port (the demo Orchestrator's reader processes register it). It answers what L1
 * holds for the variants of one entity, through the client's side-effect-free `inspectL1`
 * (no LRU touch, no read, no fill):
 *
 *   GET /l1?family=product&id=B000000001&locales=en-US,ja-JP[&tenant=default][&seed=<asin>]
 *   200 {"tenant":"default","entries":[{"locale":"en-US","version":3,"storedAtMs":…},{"locale":"ja-JP","absent":true}]}
 *
 * Authenticated like every admin route (issue 14's contract): `Authorization: Bearer <token>`
 * with the token of `loadAdminToken()`, checked by the admin server's own constant-time
 * `bearerChecker`; 401 otherwise, 503 when the process has no token to compare with. The
 * reader's admin server already refuses unauthenticated calls before routing; the route checks
 * again so that it is closed on any Fastify app it is mounted on (tests mount it on a plain
 * one). The token is read on the first call.
 */
import type { FastifyInstance } from 'fastify';
import { loadAdminToken } from '../admin/admin-token.ts';
import type { CacheClient, ReadFamily } from '../client/cache-client.ts';
import { bearerChecker } from '../worker/admin-server.ts';

/** The route's path. */
export const L1_INSPECTION_PATH = '/l1';

/** One locale's answer. */
export type L1EntryView =
  | { readonly locale: string; readonly version: number; readonly storedAtMs: number }
  | { readonly locale: string; readonly absent: true };

/** The route's 200 body. */
export interface L1InspectionBody {
  readonly tenant: string;
  readonly entries: readonly L1EntryView[];
}

export interface L1InspectionOptions {
  /** The tenant the client serves (it holds nothing of another). */
  readonly tenant: string;
  /** The client's configured locales (it holds no other). */
  readonly locales: readonly string[];
  /** The token to compare with; default `loadAdminToken()` on the first call. */
  readonly token?: () => string;
}

const FAMILIES: readonly ReadFamily[] = ['product', 'promo', 'review', 'reco'];
const MAX_LOCALES = 32;

/** Registers `GET /l1` on `app` over `client.inspectL1`. */
export function registerL1InspectionRoute(
  app: FastifyInstance,
  client: Pick<CacheClient, 'inspectL1'>,
  options: L1InspectionOptions,
): void {
  let check: ReturnType<typeof bearerChecker> | undefined;
  const token = options.token ?? (() => loadAdminToken());
  app.get<{ Querystring: Record<string, string | undefined> }>(L1_INSPECTION_PATH, async (request, reply) => {
    try {
      check ??= bearerChecker(token());
    } catch {
      return reply
        .code(503)
        .send({ error: 'no admin token configured: set ADMIN_TOKEN or run "npm run env:up"' });
    }
    if (check(request.headers.authorization) !== undefined) {
      return reply.code(401).send({ error: 'unauthorized' });
    }
    const { family, id, locales, tenant, seed } = request.query;
    if (family === undefined || !(FAMILIES as readonly string[]).includes(family)) {
      return reply.code(400).send({ error: `family must be one of ${FAMILIES.join(', ')}` });
    }
    if (id === undefined || id === '') return reply.code(400).send({ error: 'id is required' });
    const asked = (locales ?? '').split(',').filter((l) => l !== '');
    if (asked.length > MAX_LOCALES) return reply.code(400).send({ error: `at most ${MAX_LOCALES} locales` });
    const view = (locale: string | undefined): L1EntryView => {
      const label = locale ?? '';
      if (tenant !== undefined && tenant !== options.tenant) return { locale: label, absent: true };
      if (locale !== undefined && !options.locales.includes(locale)) return { locale: label, absent: true };
      const dims = family === 'reco' ? (seed === undefined ? {} : { seedAsin: seed }) : { locale };
      const entry = client.inspectL1(family as ReadFamily, id, dims);
      return entry === undefined
        ? { locale: label, absent: true }
        : { locale: label, version: entry.version, storedAtMs: entry.storedAtMs };
    };
    let entries: L1EntryView[];
    try {
      entries = family === 'reco' ? [view(undefined)] : asked.map(view);
    } catch {
      // The client's key builder refused an identifier: the answer quotes no input.
      return reply.code(400).send({ error: 'invalid identifier' });
    }
    return reply
      .header('cache-control', 'no-store')
      .send({ tenant: options.tenant, entries } satisfies L1InspectionBody);
  });
}
