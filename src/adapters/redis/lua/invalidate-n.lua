--[[
  invalidate: delete every variant of one entity and bump its fence, atomically.

  Variadic key count: numkeys = 1 + number of keys to unlink (at least 1).
  All keys share one hash tag, so in cluster mode this runs on one slot.

  Input:
    KEYS[1]       fence (or reco generation) key, INCRed
    KEYS[2..n]    value keys to UNLINK (may be none: generation-only families)
    ARGV[1]       fence TTL in ms, reset at every bump (fences expire so memory stays bounded;
                  see fenceTtlMs in src/core/key-contract.ts for why that is safe)

  Output:
    { deleted, fence }
      deleted  number of value keys that existed and were unlinked
      fence    the fence value after the INCR (every populate holding an older token is refused)

  Why one script: the delete and the bump must be seen together. A populate that checks the
  fence between a bare UNLINK and a bare INCR would pass and resurrect the old value.
]]
local deleted = 0
if #KEYS > 1 then
  deleted = redis.call('UNLINK', unpack(KEYS, 2))
end
local fence = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return { deleted, fence }
