--[[
  apply-batch: every effect of one SQS batch plus its L1 broadcast, in one script call
  (standalone and Sentinel mode only: the keys span many hash slots, which a cluster
  refuses; cluster mode runs invalidate-n.lua per slot instead).

  Variadic key count: numkeys = 1 + E + (number of keys to unlink).

  Input:
    KEYS[1]     broadcast sequence key
    KEYS[2..]   for each of the E entities, in order: its fence (or reco generation) key
                (bumped, see below), then its value keys to UNLINK
    ARGV[1]     broadcast channel
    ARGV[2]     broadcast body, a JSON object without "seq", "publishedAtMs", "keys" and
                "fences", which the script adds from KEYS (the value keys and the fences of
                the entities); empty string: no broadcast
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

  Why one script: the same atomicity as invalidate-n.lua (a delete and its fence bump are
  seen together; the broadcast follows every delete) at one command per batch instead of
  one per entity, which is what bounds throughput (docs/benchmarks.md).
]]
local entities = tonumber(ARGV[3])
local broadcast = ARGV[2] ~= ''
local deleted = 0
local fences = {}
local keysJson, fencesJson = {}, {}
local k = 2
local time = redis.call('TIME')
local nowUs = tonumber(time[1]) * 1000000 + tonumber(time[2])
for i = 1, entities do
  local count = tonumber(ARGV[2 + 2 * i])
  local ttl = ARGV[3 + 2 * i]
  local fence = KEYS[k]
  if broadcast then
    fencesJson[#fencesJson + 1] = cjson.encode(fence)
    for j = k + 1, k + count do
      keysJson[#keysJson + 1] = cjson.encode(KEYS[j])
    end
  end
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
if broadcast then
  seq = redis.call('INCR', KEYS[1])
  local t = redis.call('TIME')
  nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local message = '{"seq":' .. seq .. ',"publishedAtMs":' .. nowMs
    .. ',"keys":[' .. table.concat(keysJson, ',') .. '],"fences":[' .. table.concat(fencesJson, ',') .. '],'
    .. string.sub(ARGV[2], 2)
  receivers = redis.call('PUBLISH', ARGV[1], message)
end

local reply = { deleted, seq, receivers, nowMs }
for i = 1, entities do
  reply[4 + i] = fences[i]
end
return reply
