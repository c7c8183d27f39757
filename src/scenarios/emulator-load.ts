/**
 * Other traffic for LocalStack while a scenario runs: the load six helpers' suites put on the
 * one emulator during the long run of docs/consistency.md, reproduced on purpose. It deploys
 * a private messaging topology (the stack's CDK construct under its own prefix, so it never
 * touches another run's queues) and publishes `--rate` events a second to its catalog topic
 * for `--seconds`, with nobody consuming (SNS fans each out to the topology's queues); then it
 * deletes the topology. Prints what it published and the Publish latency.
 *
 *   node src/scenarios/emulator-load.ts [--rate 200] [--seconds 120] [--env-file .local/env.json]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudFormationClient, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { Command, InvalidArgumentError } from 'commander';
import { deployMessagingLocally } from '../../infra/lib/messaging/deploy-messaging-locally.ts';
import { runMain } from '../cli/run-main.ts';
import { readLocalStack } from '../local/env-file.ts';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
};

export async function main(argv: readonly string[]): Promise<number> {
  const o = new Command('emulator-load')
    .option('--rate <n>', 'events published per second', positive, 200)
    .option('--seconds <n>', 'how long', positive, 120)
    .option('--env-file <file>', 'local stack description', '.local/env.json')
    .parse(argv)
    .opts<{ rate: number; seconds: number; envFile: string }>();
  const stack = readLocalStack(o.envFile);
  const prefix = `eml-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const messaging = await deployMessagingLocally({
    endpoint: stack.localstack.endpoint,
    region: stack.region,
    stackName: `${prefix}-messaging`,
    namePrefix: prefix,
  });
  const sns = new SNSClient({
    endpoint: stack.localstack.endpoint,
    region: stack.region,
    credentials: CREDENTIALS,
  });
  let stopping = false;
  const stop = () => (stopping = true);
  process.once('SIGTERM', stop).once('SIGINT', stop);
  const latencies: number[] = [];
  let failed = 0;
  const pending = new Set<Promise<void>>();
  const started = Date.now();
  let sent = 0;
  try {
    while (!stopping && Date.now() - started < o.seconds * 1000) {
      const due = Math.floor(((Date.now() - started) / 1000) * o.rate) - sent;
      for (let i = 0; i < due; i++, sent++) {
        const t0 = performance.now();
        const event = {
          type: 'catalog.product.updated',
          schemaVersion: 1,
          eventId: randomUUID(),
          occurredAt: new Date().toISOString(),
          version: 2,
          asin: 'B999999998',
        };
        const p = sns
          .send(
            new PublishCommand({
              TopicArn: messaging.topics.catalog,
              Message: JSON.stringify(event),
              MessageAttributes: { eventType: { DataType: 'String', StringValue: event.type } },
            }),
          )
          .then(
            () => void latencies.push(performance.now() - t0),
            () => void failed++,
          )
          .finally(() => pending.delete(p));
        pending.add(p);
      }
      await sleep(20);
    }
    await Promise.all([...pending]);
  } finally {
    sns.destroy();
    const cfn = new CloudFormationClient({
      endpoint: stack.localstack.endpoint,
      region: stack.region,
      credentials: CREDENTIALS,
    });
    await cfn.send(new DeleteStackCommand({ StackName: messaging.stackName })).finally(() => cfn.destroy());
  }
  latencies.sort((a, b) => a - b);
  const q = (f: number) =>
    (latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))] ?? 0).toFixed(0);
  process.stdout.write(
    `published ${latencies.length} (${failed} failed) in ${((Date.now() - started) / 1000).toFixed(0)} s to ${prefix}; Publish p50 ${q(0.5)} ms, p99 ${q(0.99)} ms\n`,
  );
  return 0;
}

if (import.meta.main) runMain(main);
