/**
 * How tests get into Redis (TLS and a password everywhere, as ElastiCache with in-transit
 * encryption and an AUTH token; see src/local/local-redis.ts for the four views):
 *
 *   stackAccess()     the shared stack's, from `.local/env.json` (`redis.tls`, `redis.passwordFile`)
 *   privateAccess()   the private servers' (test/support/private-*.ts, the private Sentinel
 *                     group): the same CA, certificate and password files in `.local/`
 */
import { redisAccess, type RedisAccess } from '../../src/local/local-redis.ts';
import { stack } from './stack.ts';

export {
  LOCAL_REDIS_FILES,
  privateAccess,
  privateSentinelAuthPass,
  privateSentinelConfLines,
  privateServerArgs,
  type RedisAccess,
} from '../../src/local/local-redis.ts';

let shared: RedisAccess | undefined;

/** The shared stack's credentials, as `.local/env.json` describes them. */
export function stackAccess(): RedisAccess {
  return (shared ??= redisAccess(stack().redis));
}
