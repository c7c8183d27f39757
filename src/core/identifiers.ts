/**
 * Identifiers that are easy to mix up get their own branded types. Every value of these
 * types is built in one place (the key contract or the config), so key shapes cannot drift.
 */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A full Redis key of a cached value, e.g. `mc:{acme:product:B08X1YRSTR}:v1:ja-JP` (see key-contract.ts). */
export type CacheKey = Brand<string, 'CacheKey'>;
/** A Redis key holding a fence (or generation) counter; shares its hash tag with the keys it guards. */
export type FenceKey = Brand<string, 'FenceKey'>;
/** An SQS queue URL. */
export type QueueUrl = Brand<string, 'QueueUrl'>;
/** An SNS topic ARN. */
export type TopicArn = Brand<string, 'TopicArn'>;

/** Cast helpers: only the modules that own a shape may call these. */
export const asCacheKey = (s: string): CacheKey => s as CacheKey;
export const asFenceKey = (s: string): FenceKey => s as FenceKey;
export const asQueueUrl = (s: string): QueueUrl => s as QueueUrl;
export const asTopicArn = (s: string): TopicArn => s as TopicArn;
