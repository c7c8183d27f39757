import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LocalStackDescriptionSchema,
  parseStackDescription,
  readLocalStack,
} from '../../../src/local/env-file.ts';
import type { LocalStackDescription } from '../../../src/local/env-file.ts';

const at = (port: number) => ({ host: '127.0.0.1', port });
const queue = (name: string) => ({
  url: `http://127.0.0.1:4566/queue/us-east-1/000000000000/${name}`,
  arn: `arn:aws:sqs:us-east-1:000000000000:${name}`,
  dlqUrl: `http://127.0.0.1:4566/queue/us-east-1/000000000000/${name}-dlq`,
  dlqArn: `arn:aws:sqs:us-east-1:000000000000:${name}-dlq`,
});
/** What scripts/lib/provision-messaging.ts writes. */
const written: LocalStackDescription = {
  region: 'us-east-1',
  localstack: { endpoint: 'http://127.0.0.1:4566' },
  redis: {
    primary: at(6380),
    replica: at(6381),
    sentinels: [at(26380), at(26381), at(26382)],
    sentinelName: 'mcache',
    cluster: [at(7100), at(7101), at(7102)],
  },
  topics: {
    catalog: 'arn:aws:sns:us-east-1:000000000000:local-catalog-events',
    promotions: 'arn:aws:sns:us-east-1:000000000000:local-promo-events',
    sessions: 'arn:aws:sns:us-east-1:000000000000:local-session-events',
  },
  queues: {
    catalog: queue('c'),
    promotions: queue('p'),
    sessions: queue('s'),
    reviewRefresh: queue('r'),
  },
  origin: { url: 'http://127.0.0.1:4599' },
};

const dir = mkdtempSync(join(tmpdir(), 'env-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('local stack description', () => {
  it('reads back what the provisioner writes', () => {
    // Prepare
    const file = join(dir, 'env.json');
    writeFileSync(file, JSON.stringify(written));
    // Act
    const read = readLocalStack(file);
    // Assess
    expect(read).toEqual(written);
  });

  it('names the source and every problem at once', () => {
    // Prepare: three faults in three sections
    const broken = {
      ...written,
      redis: { ...written.redis, primary: at(0) },
      topics: { catalog: 'local-catalog-events' },
      origin: { url: 'ftp://origin' },
    };
    // Act
    const message = (() => {
      try {
        parseStackDescription(LocalStackDescriptionSchema, broken, 'env.json');
        return 'no error';
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    })();
    // Assess
    expect(message).toMatch(/^env\.json is not a local stack description/);
    for (const path of ['redis.primary.port', 'topics.catalog', 'topics.promotions', 'origin.url'])
      expect(message).toContain(`at ${path}`);
  });

  it('says how to start the stack when the file is missing', () => {
    expect(() => readLocalStack(join(dir, 'absent.json'))).toThrow(/npm run env:up/);
  });
});
