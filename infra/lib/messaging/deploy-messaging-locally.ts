/**
 * Deploys the messaging stack (the same construct the AWS stack composes) to LocalStack's
 * CloudFormation: synthesize in-process, create or update, return the outputs. Used by
 * `npm run env:up` and by end-to-end tests that want a private copy of the topology.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  UpdateStackCommand,
  waitUntilStackCreateComplete,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation';
import { App, BootstraplessSynthesizer, Duration } from 'aws-cdk-lib';
import { MessagingStack } from './local-messaging-stack.ts';
import { CONSUMER_QUEUES, TOPICS, type ConsumerName, type TopicName } from './messaging-topology.ts';

export interface LocalDeployOptions {
  readonly endpoint: string;
  readonly region: string;
  readonly stackName: string;
  readonly namePrefix: string;
  readonly maxReceiveCount?: number;
  readonly visibilityTimeoutSeconds?: number;
  /** Also deploy the consistency auditor's queue. Default false. */
  readonly auditorQueue?: boolean;
}

export interface DeployedQueue {
  readonly url: string;
  readonly arn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

export interface DeployedMessaging {
  readonly stackName: string;
  readonly topics: Record<TopicName, string>;
  readonly queues: Record<ConsumerName, DeployedQueue>;
  /** The consistency auditor's queue, when deployed. */
  readonly auditor?: { readonly url: string; readonly arn: string };
}

/** Synthesizes the messaging stack to a CloudFormation template (no bootstrap, no assets). */
export function synthesizeMessagingTemplate(options: LocalDeployOptions): string {
  const outdir = mkdtempSync(join(tmpdir(), 'messaging-synth-'));
  try {
    const app = new App({ outdir });
    new MessagingStack(app, options.stackName, {
      env: { account: '000000000000', region: options.region },
      synthesizer: new BootstraplessSynthesizer(),
      messaging: {
        namePrefix: options.namePrefix,
        ...(options.maxReceiveCount !== undefined && { maxReceiveCount: options.maxReceiveCount }),
        ...(options.visibilityTimeoutSeconds !== undefined && {
          visibilityTimeout: Duration.seconds(options.visibilityTimeoutSeconds),
        }),
        ...(options.auditorQueue === true && { auditorQueue: true }),
      },
    });
    return JSON.stringify(app.synth().getStackByName(options.stackName).template);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Creates or updates the stack in LocalStack and returns its topics and queues. */
export async function deployMessagingLocally(options: LocalDeployOptions): Promise<DeployedMessaging> {
  const cfn = new CloudFormationClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    const TemplateBody = synthesizeMessagingTemplate(options);
    const StackName = options.stackName;
    const waiter = { client: cfn, maxWaitTime: 120, minDelay: 1, maxDelay: 2 };
    const existing = await describe(cfn, StackName);
    if (!existing) {
      await cfn.send(new CreateStackCommand({ StackName, TemplateBody }));
      await waitUntilStackCreateComplete(waiter, { StackName });
    } else {
      try {
        await cfn.send(new UpdateStackCommand({ StackName, TemplateBody }));
        await waitUntilStackUpdateComplete(waiter, { StackName });
      } catch (err) {
        if (!(err instanceof Error && /No updates are to be performed/.test(err.message))) throw err;
      }
    }
    const outputs = new Map(
      ((await describe(cfn, StackName))?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]),
    );
    const need = (key: string): string => {
      const value = outputs.get(key);
      if (!value) throw new Error(`stack ${StackName} has no output ${key}`);
      return value;
    };
    const topics = Object.fromEntries(Object.keys(TOPICS).map((t) => [t, need(`${t}TopicArn`)])) as Record<
      TopicName,
      string
    >;
    const queues = Object.fromEntries(
      Object.keys(CONSUMER_QUEUES).map((q) => [
        q,
        {
          url: need(`${q}QueueUrl`),
          arn: need(`${q}QueueArn`),
          dlqUrl: need(`${q}DlqUrl`),
          dlqArn: need(`${q}DlqArn`),
        },
      ]),
    ) as Record<ConsumerName, DeployedQueue>;
    const auditorUrl = outputs.get('auditorQueueUrl');
    const auditorArn = outputs.get('auditorQueueArn');
    return {
      stackName: StackName,
      topics,
      queues,
      ...(auditorUrl && auditorArn ? { auditor: { url: auditorUrl, arn: auditorArn } } : {}),
    };
  } finally {
    cfn.destroy();
  }
}

async function describe(cfn: CloudFormationClient, StackName: string) {
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName }));
    const stack = res.Stacks?.[0];
    if (!stack || stack.StackStatus === 'DELETE_COMPLETE') return undefined;
    return stack;
  } catch (err) {
    if (err instanceof Error && /does not exist/.test(err.message)) return undefined;
    throw err;
  }
}
