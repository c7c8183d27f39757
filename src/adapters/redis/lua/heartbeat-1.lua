--[[
  heartbeat: publish the CURRENT broadcast sequence on the broadcast channel, atomically.

  Input:
    KEYS[1]   sequence key (the one broadcast-1.lua INCRs)
    ARGV[1]   channel

  Output:
    { seq, receivers, publishedAtMs }
      seq            current sequence (0 when no broadcast was ever sent)
      receivers      subscribers reached
      publishedAtMs  Redis server time, ms since epoch

  Why atomic: a GET then a separate PUBLISH could announce a sequence older than a broadcast
  published in between, and subscribers would flush for nothing; or newer than one that was
  never delivered. Inside one script the heartbeat is ordered exactly among the broadcasts,
  so a subscriber that sees heartbeat seq != last seen seq has certainly missed something.
]]
local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local message = '{"seq":' .. seq .. ',"publishedAtMs":' .. nowMs .. ',"v":1,"type":"heartbeat"}'
local receivers = redis.call('PUBLISH', ARGV[1], message)
return { seq, receivers, nowMs }
