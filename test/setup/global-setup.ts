/**
 * Runs once before the suite. Unit tests need nothing; tests of the real path read
 * `.local/env.json` through test/support/stack.ts, which scripts/test.sh writes by starting
 * the stack first. Nothing is skipped when a service is missing: those tests fail loudly.
 */
export default function setup(): void {
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  process.env.AWS_REGION ??= 'us-east-1';
}
