# syntax=docker/dockerfile:1
# The worker image: Node 24 LTS runs the TypeScript sources directly (type stripping), so
# there is no build step; the first stage only installs the production dependencies.
# Build context: the repository root (see .dockerignore: an allow-list).

ARG NODE_IMAGE=node:24.21-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No lifecycle scripts: none of the runtime dependencies needs one, and none gets to run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# Heap limits of a 512 MiB task (src/config/worker-heap.ts); the stack sets NODE_OPTIONS from
# the task's memory, so these hold for a plain `docker run`.
ENV NODE_ENV=production \
    NODE_OPTIONS="--enable-source-maps --max-semi-space-size=16 --max-old-space-size=192"
WORKDIR /app
# Owned by root, read by the unprivileged user: the process cannot rewrite its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
USER node
# Admin port: /healthz and Prometheus /metrics.
EXPOSE 9464
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.WORKER_ADMIN_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "src/cli/worker.ts"]
