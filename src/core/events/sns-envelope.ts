/**
 * The SNS notification envelope, as SQS receives it when raw message delivery is off.
 * Only the fields we use are checked; SNS adds others (Signature, UnsubscribeURL, Subject,
 * MessageAttributes) and may add more, so this object is deliberately not strict.
 * The signature is not verified here: the queue policy admits only our topics, and
 * verifying needs the network (certificate fetch), which the pure core does not do.
 */
import { z } from 'zod';

/** SNS topic ARN, standard or FIFO, any partition (LocalStack uses account 000000000000). */
export const TOPIC_ARN_PATTERN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/;

/** Schema of the envelope fields we read. */
export const snsEnvelopeSchema = z.looseObject({
  Type: z.literal('Notification', { error: 'only SNS "Notification" envelopes carry events' }),
  MessageId: z.string().regex(/^[0-9A-Za-z-]{1,100}$/, { error: 'invalid SNS MessageId' }),
  TopicArn: z.string().regex(TOPIC_ARN_PATTERN, { error: 'invalid SNS TopicArn' }),
  /** When SNS accepted the publish: the second origin of the lag measurement. */
  Timestamp: z.iso.datetime({ offset: true, error: 'invalid SNS Timestamp' }),
  Message: z.string({ error: 'SNS Message must be a string' }),
});

export type SnsEnvelope = z.output<typeof snsEnvelopeSchema>;

/** True when a parsed JSON value looks like an SNS envelope rather than a raw event. */
export const looksLikeSnsEnvelope = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  'Type' in value &&
  !('type' in value);
