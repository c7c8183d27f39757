--[[
  invalidate: delete every variant of one entity and bump its fence, atomically.

  Variadic key count: numkeys = 1 + number of keys to unlink (at least 1).
  All keys share one hash tag, so in cluster mode this runs on one slot.

  Input:
    KEYS[1]       fence (or reco generation) key, bumped (see below)
    KEYS[2..n]    value keys to UNLINK (may be none: generation-only families)
    ARGV[1]       fence TTL in ms, reset at every bump (fences expire so memory stays bounded;
                  see fenceTtlMs in src/core/key-contract.ts for why that is safe)

  Output:
    { deleted, fence }
      deleted  number of value keys that existed and were unlinked
      fence    the fence value after the bump (every populate holding another token is refused)

  The bump is a hybrid logical clock: next = max(current + 1, Redis server time in µs), with
  the TTL. One SET of the clock with PX and GET (the previous value) in the common case; a
  second SET to previous + 1 when the previous value is ahead of the clock (the same as an
  INCR). One replicated write per bump; Redis CPU figures are in the decision record.
  WHY (DESIGN rule 8, docs/decisions/0007-fences-never-reissued.md): the fence can vanish (its TTL, eviction, a
  failover to a replica that missed the last bump), and a plain INCR on a missing key starts
  again at 1, reissuing a value a slow reader may still hold, whose stale populate would then
  pass. The clock only moves forward past every value issued earlier, so the next bump is a
  value never issued before, provided the nodes' clocks are NTP-synced to well under the
  seconds that failure detection and promotion take. Values are ~1.7e15: exact in a Lua
  double, written with '%.0f' so they are never in scientific notation.

  Why one script: the delete and the bump must be seen together. A populate that checks the
  fence between a bare UNLINK and a bare bump would pass and resurrect the old value.
]]
local deleted = 0
if #KEYS > 1 then
  deleted = redis.call('UNLINK', unpack(KEYS, 2))
end
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local previous = redis.call('SET', KEYS[1], string.format('%.0f', nowUs), 'PX', ARGV[1], 'GET')
previous = tonumber(previous or '0')
local fence = nowUs
if previous + 1 > nowUs then
  fence = previous + 1
  redis.call('SET', KEYS[1], string.format('%.0f', fence), 'PX', ARGV[1])
end
return { deleted, fence }
