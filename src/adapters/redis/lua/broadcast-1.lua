--[[
  broadcast: assign the next L1 broadcast sequence number and publish, atomically.

  Input:
    KEYS[1]   sequence key (its own hash tag in cluster mode)
    ARGV[1]   channel
    ARGV[2]   message body: the whole message WITHOUT "seq" and "publishedAtMs", as
              broadcast-message.ts writes it (encodeInvalidateBody), e.g.
              {"v":1,"type":"invalidate","keys":[...],...}; it must hold at least one field

  Output:
    { seq, receivers, publishedAtMs }
      seq            the sequence number of this broadcast (1, 2, 3... per sequence key)
      receivers      subscribers reached (PUBLISH's reply; on a cluster, those of this node)
      publishedAtMs  Redis server time of the publish, ms since epoch

  Why one script: INCR and PUBLISH must not interleave with another publisher's, or
  subscribers would see sequence numbers out of order and flush for nothing. The two fields
  are spliced in front as text (cjson would re-encode the body, and writes an empty array as
  {}); apply-batch-n.lua stamps its body the same way, and neither writes any other field.
]]
local seq = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local body = ARGV[2]
local message = '{"seq":' .. seq .. ',"publishedAtMs":' .. nowMs .. ',' .. string.sub(body, 2)
local receivers = redis.call('PUBLISH', ARGV[1], message)
return { seq, receivers, nowMs }
