/**
 * The live dashboard: a fastify server that polls the fleet every `pollMs`, keeps the last
 * `historyPoints` points, and serves one page whose charts follow the points over
 * Server-Sent Events (`/api/stream`; `/api/series` gives the history on load).
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { DashboardOptions } from './dashboard-options.ts';
import { FleetPoller } from './fleet-poller.ts';
import type { DashboardPoint } from './fleet-poller.ts';
import type { QueueDepthReader } from './queue-depths.ts';

const ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'line-chart.js': 'text/javascript; charset=utf-8',
};
const PUBLIC = new URL('./public/', import.meta.url);

export interface DashboardServer {
  readonly app: FastifyInstance;
  /** Resolves with the URL once listening and polling. */
  listen(): Promise<string>;
  /** Stops polling, ends the event streams, closes the server; idempotent. */
  close(): Promise<void>;
}

export interface DashboardServerDeps {
  readonly queues?: QueueDepthReader | undefined;
  readonly logger?: boolean;
}

/** Builds the dashboard server (not yet listening). */
export function createDashboardServer(
  options: DashboardOptions,
  deps: DashboardServerDeps = {},
): DashboardServer {
  const app = Fastify({ logger: deps.logger ?? false });
  const poller = new FleetPoller({
    targets: options.targets,
    readers: options.readers,
    auditors: options.auditors,
    lagWindowSeconds: options.lagWindowSeconds,
    queues: deps.queues,
  });
  const points: DashboardPoint[] = [];
  const streams = new Set<ServerResponse>();
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  let closing: Promise<void> | undefined;

  const config = {
    targets: options.targets,
    readers: options.readers,
    auditors: options.auditors,
    sloMs: options.sloMs,
    pollMs: options.pollMs,
    lagWindowSeconds: options.lagWindowSeconds,
    historyPoints: options.historyPoints,
    queuesWatched: deps.queues?.queues.map((q) => q.name) ?? [],
  };

  async function tick(): Promise<void> {
    if (polling) return; // a slow fleet must not pile up polls
    polling = true;
    try {
      const point = await poller.tick();
      points.push(point);
      if (points.length > options.historyPoints) points.shift();
      const frame = `event: point\ndata: ${JSON.stringify(point)}\n\n`;
      for (const s of streams) s.write(frame);
    } catch (err) {
      app.log.warn({ err }, 'poll failed');
    } finally {
      polling = false;
    }
  }

  app.get('/', (_req, reply) => sendAsset(reply, 'index.html'));
  app.get<{ Params: { file: string } }>('/assets/:file', (req, reply) => {
    if (!Object.hasOwn(ASSETS, req.params.file) || req.params.file === 'index.html') {
      return Promise.resolve(reply.code(404).send({ error: 'not found' }));
    }
    return sendAsset(reply, req.params.file);
  });
  app.get('/api/config', () => Promise.resolve(config));
  app.get('/api/series', () => Promise.resolve({ config, points }));
  app.get('/api/stream', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(`retry: 2000\n\n`);
    streams.add(res);
    req.raw.on('close', () => streams.delete(res));
  });

  async function sendAsset(
    reply: { header(k: string, v: string): unknown; send(body: string): unknown },
    file: string,
  ): Promise<unknown> {
    const body = await readFile(new URL(file, PUBLIC), 'utf8');
    reply.header('content-type', ASSETS[file] ?? 'application/octet-stream');
    reply.header('cache-control', 'no-store');
    return reply.send(body);
  }

  return {
    app,
    async listen() {
      const url = await app.listen({ port: options.port, host: options.host });
      await tick();
      timer = setInterval(() => void tick(), options.pollMs);
      timer.unref();
      return url;
    },
    close() {
      closing ??= (async () => {
        if (timer !== undefined) clearInterval(timer);
        for (const s of streams) s.end();
        streams.clear();
        deps.queues?.close();
        await app.close();
      })();
      return closing;
    },
  };
}
