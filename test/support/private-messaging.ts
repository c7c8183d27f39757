/**
 * A private copy of the messaging topology for one test file: the same CDK construct the
 * stack uses, deployed to LocalStack under a random prefix, so tests never steal each
 * other's messages. Deleted in `teardown`.
 */
import { CloudFormationClient, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import {
  deployMessagingLocally,
  type DeployedMessaging,
} from '../../infra/lib/messaging/deploy-messaging-locally.ts';
import { stack, testPrefix } from './stack.ts';

export interface PrivateMessaging extends DeployedMessaging {
  teardown(): Promise<void>;
}

export async function privateMessaging(
  options: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number; auditorQueue?: boolean } = {},
): Promise<PrivateMessaging> {
  const s = stack();
  const prefix = testPrefix('m');
  const deployed = await deployMessagingLocally({
    endpoint: s.localstack.endpoint,
    region: s.region,
    stackName: `${prefix}-messaging`,
    namePrefix: prefix,
    ...options,
  });
  return {
    ...deployed,
    async teardown() {
      const cfn = new CloudFormationClient({
        endpoint: s.localstack.endpoint,
        region: s.region,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      await cfn.send(new DeleteStackCommand({ StackName: deployed.stackName })).finally(() => cfn.destroy());
    },
  };
}
