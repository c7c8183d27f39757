/** The SQS client of the worker, pointed at LocalStack when an endpoint is configured. */
import { SQSClient } from '@aws-sdk/client-sqs';

export interface AwsSettings {
  readonly region: string;
  readonly endpoint?: string | undefined;
}

export function createSqsClient(aws: AwsSettings): SQSClient {
  return new SQSClient({
    region: aws.region,
    ...(aws.endpoint === undefined ? {} : { endpoint: aws.endpoint }),
    // The SDK's own retries cover throttling and 5xx; message-level retries are ours.
    maxAttempts: 3,
  });
}
