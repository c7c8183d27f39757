/**
 * Deploys the messaging stack to LocalStack (the same CDK construct as in AWS) and writes
 * `.local/env.json`, the one description of every local endpoint, validated against the
 * schema its readers use (src/local/env-file.ts) before it is written. Called by env.sh with
 * the ports in the environment; prints nothing on success.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { deployMessagingLocally } from '../../infra/lib/messaging/deploy-messaging-locally.ts';
import { LocalStackDescriptionSchema, parseStackDescription } from '../../src/local/env-file.ts';
import type { LocalStackDescription } from '../../src/local/env-file.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (this script is run by scripts/env.sh)`);
  return value;
};
const host = env('HOST');
const ports = (name: string): number[] => env(name).split(' ').map(Number);
const endpoint = `http://${host}:${env('LOCALSTACK_PORT')}`;
const region = env('AWS_REGION');

const messaging = await deployMessagingLocally({
  endpoint,
  region,
  stackName: 'local-messaging',
  namePrefix: 'local',
  // Locally a failing message reaches its DLQ sooner, so mistakes show while you watch.
  maxReceiveCount: 5,
  visibilityTimeoutSeconds: 30,
  // The consistency auditor (npm run local) samples the events on a queue of its own.
  auditorQueue: true,
});

const file = env('ENV_FILE');
// Typed, so a field the schema lacks fails to compile; parsed, so a bad port fails here.
const draft: LocalStackDescription = {
  region,
  localstack: { endpoint },
  redis: {
    primary: { host, port: Number(env('REDIS_PRIMARY_PORT')) },
    replica: { host, port: Number(env('REDIS_REPLICA_PORT')) },
    sentinels: ports('SENTINEL_PORTS').map((port) => ({ host, port })),
    sentinelName: env('SENTINEL_NAME'),
    cluster: ports('CLUSTER_PORTS').map((port) => ({ host, port })),
    // Every node, Sentinel and cluster node serves TLS only and requires the password
    // (scripts/lib/redis.sh); the password stays in its own 0600 file.
    tls: { caFile: env('REDIS_TLS_CA_FILE') },
    passwordFile: env('REDIS_PASSWORD_FILE'),
  },
  topics: messaging.topics,
  queues: messaging.queues,
  ...(messaging.auditor === undefined ? {} : { auditor: messaging.auditor }),
  origin: { url: `http://${host}:${env('ORIGIN_PORT')}` },
};
const description = parseStackDescription(
  LocalStackDescriptionSchema,
  draft,
  `the description about to be written to ${file}`,
);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(description, null, 2)}\n`);
