--[[
  lease-acquire: the read side's fleet-wide single-flight for one value key (Meta memcache
  leases). A reader that missed asks for the right to call the origin; the lease it gets is
  tied to the fence token it must fill with, so the lease is also the fence protocol's token.

  Input:
    KEYS[1]   value key
    KEYS[2]   fence key of the entity (for reco: the user's generation key)
    KEYS[3]   lease key of the value key (KeyBuilder.leaseKey: same hash tag, same slot)
    ARGV[1]   fence TTL in ms (fenceTtlMs of the family), used when the fence is created
    ARGV[2]   lease TTL in ms (about the client's hard origin timeout)
    ARGV[3]   lease owner id (random per attempt); the lease holds "<token>:<owner>"
    ARGV[4]   "1" to take the lease even if the value exists (a stale value's revalidation),
              "" otherwise

  Output (an array):
    { 'value', <raw> }      the value exists (ARGV[4] = ""): someone filled it meanwhile
    { 'granted', <token> }  the caller holds the lease: call the origin, fill with <token>
                            (populate-2.lua), then release (lease-release-1.lua)
    { 'wait', <token> }     another reader holds the lease: wait for its fill notice; if the
                            wait runs out, the caller may still fill with <token>

  Why one script: "value missing" and "lease taken" must be one decision, or two readers can
  both see a miss and a free lease. The fence is read (or created, as read-fence-1.lua does:
  the server time in µs, never a value issued before, decision 0007) in the same step, so the
  token predates the origin call of whoever holds it.
]]
if ARGV[4] ~= '1' then
  local value = redis.call('GET', KEYS[1])
  if value then
    return { 'value', value }
  end
end
local token = redis.call('GET', KEYS[2])
if not token then
  local t = redis.call('TIME')
  token = string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2]))
  redis.call('SET', KEYS[2], token, 'PX', ARGV[1], 'NX')
end
if redis.call('SET', KEYS[3], token .. ':' .. ARGV[3], 'NX', 'PX', ARGV[2]) then
  return { 'granted', token }
end
return { 'wait', token }
