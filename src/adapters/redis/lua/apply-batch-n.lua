--[[
  apply-batch: every effect of one SQS batch plus its L1 broadcast, in one script call
  (standalone and Sentinel mode only: the keys span many hash slots, which a cluster
  refuses; cluster mode runs invalidate-n.lua per slot, then broadcast-1.lua).

  Variadic key count: numkeys = 1 + E + (number of keys to unlink).

  Input:
    KEYS[1]     broadcast sequence key
    KEYS[2..]   for each of the E entities, in order: its fence (or reco generation) key
                (bumped, see below), then its value keys to UNLINK
    ARGV[1]     broadcast channel
    ARGV[2]     broadcast body: the whole message WITHOUT "seq" and "publishedAtMs", as
                broadcast-message.ts writes it (encodeInvalidateBody), the same body
                broadcast-1.lua takes; empty string: no broadcast
    ARGV[3]     E, the number of entities
    ARGV[4..]   for each entity, in order: the number of its value keys, its fence TTL in ms

  Output:
    { deleted, seq, receivers, publishedAtMs, fence_1, ..., fence_E }
      deleted        value keys that existed and were unlinked
      seq            the broadcast's sequence number (0 when there was no broadcast)
      receivers      subscribers the broadcast reached (0 without broadcast)
      publishedAtMs  Redis server time of the publish (0 without broadcast)
      fence_i        entity i's fence value after the bump

  Each fence is bumped as a hybrid logical clock, exactly as in invalidate-n.lua:
  next = max(current + 1, Redis server time in µs) with the TTL: SET the clock PX ttl GET,
  and SET previous + 1 PX ttl when the previous value was ahead of the clock ('%.0f': never
  scientific notation). WHY: a
  fence that vanished (TTL, eviction, failover to a replica that missed the last bump) must
  never be issued a value a reader already holds (DESIGN rule 8; the clock assumption is in
  invalidate-n.lua and docs/decisions/0007-fences-never-reissued.md). One TIME per call.

  The broadcast is stamped exactly as broadcast-1.lua stamps it: "seq" and "publishedAtMs"
  spliced in front of the body, as text. The script never writes the message's other fields:
  the wire format (docs/l1-broadcast.md) is written in one place, broadcast-message.ts.

  Why one script: the same atomicity as invalidate-n.lua (a delete and its fence bump are
  seen together; the broadcast follows every delete) at one command per batch instead of
  one per entity, which is what bounds throughput (docs/benchmarks.md).
]]
local entities = tonumber(ARGV[3])
local deleted = 0
local fences = {}
local k = 2
local time = redis.call('TIME')
local nowUs = tonumber(time[1]) * 1000000 + tonumber(time[2])
for i = 1, entities do
  local count = tonumber(ARGV[2 + 2 * i])
  local ttl = ARGV[3 + 2 * i]
  local fence = KEYS[k]
  if count > 0 then
    deleted = deleted + redis.call('UNLINK', unpack(KEYS, k + 1, k + count))
  end
  local previous = redis.call('SET', fence, string.format('%.0f', nowUs), 'PX', ttl, 'GET')
  previous = tonumber(previous or '0')
  fences[i] = nowUs
  if previous + 1 > nowUs then
    fences[i] = previous + 1
    redis.call('SET', fence, string.format('%.0f', previous + 1), 'PX', ttl)
  end
  k = k + 1 + count
end

local seq, receivers, nowMs = 0, 0, 0
if ARGV[2] ~= '' then
  seq = redis.call('INCR', KEYS[1])
  local t = redis.call('TIME')
  nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local message = '{"seq":' .. seq .. ',"publishedAtMs":' .. nowMs .. ',' .. string.sub(ARGV[2], 2)
  receivers = redis.call('PUBLISH', ARGV[1], message)
end

local reply = { deleted, seq, receivers, nowMs }
for i = 1, entities do
  reply[4 + i] = fences[i]
end
return reply
