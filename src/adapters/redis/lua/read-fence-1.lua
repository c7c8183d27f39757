--[[
  read-fence: the fence token a reader takes BEFORE its origin fetch; creates the fence when
  it is missing, so no reader ever holds a token that a missing fence would match.

  Input:
    KEYS[1]   fence key (for reco: the user's generation key)
    ARGV[1]   fence TTL in ms (fenceTtlMs of the family, src/core/key-contract.ts)

  Output:
    the fence value as a decimal string: the current value, or, when the fence is missing,
    the Redis server time in µs, which the script has just SET with PX ARGV[1] NX.

  Why create it: a missing fence used to read as token "0", and populate-2.lua matched "0"
  against a missing fence. So a reader that read a missing fence, raced an invalidation (the
  bump created the fence) and then saw that fence evicted or expired, wrote its pre-change
  value. Now every token is a value the fence really held, and populate-2.lua refuses when
  the fence is missing: a vanished fence can only cause a refused fill, never a stale one.
  The value is the server time in µs, the same clock as the bump (invalidate-n.lua), so it
  is never a value issued to this fence before (DESIGN rule 8), and the next bump
  (max(current + 1, time)) moves past it. Readers sharing the new value are as safe as
  readers sharing any fence value: the next invalidation changes it.

  Why one script: read-or-create in one round trip and atomically. From the client, a SET NX
  could lose to a bump landing after the GET, and the reader would need a second GET to learn
  the winner. Inside the script nothing lands in between; NX only states the intent.
]]
local fence = redis.call('GET', KEYS[1])
if fence then
  return fence
end
local t = redis.call('TIME')
local nowUs = string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2]))
redis.call('SET', KEYS[1], nowUs, 'PX', ARGV[1], 'NX')
return nowUs
