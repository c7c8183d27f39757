--[[
  hotness-record: adds one sampled read to a family's hotness sorted set, with exponential
  decay, in one atomic step (src/client/hotness-decay.ts is the same arithmetic in
  TypeScript, and its reference for the tests).

  The score of an id is kept in the log domain:
      score = ln( sum over its sampled reads i of  w_i * e^(t_i / tau) )
  so its weight decayed to any time `now` is e^(score - now / tau). Every id shares the
  factor e^(-now / tau), so ZREVRANGE orders ids by decayed weight without any rescaling,
  and no periodic job and no epoch key are needed (the score grows by 1 per tau: about
  8,760 a year for tau = 1 h, far inside a double's exact range).

  Input:
    KEYS[1]   the hotness sorted set (KeyBuilder.hotKeysKey)
    ARGV[1]   the id
    ARGV[2]   ln(w): the weight of this sample (a sampled read of 1 in k counts k)
    ARGV[3]   tau in ms
    ARGV[4]   members kept at most (the coldest beyond it are removed)
    ARGV[5]   TTL of the set in ms (renewed by every record; a tenant nobody reads expires)
    ARGV[6]   now in ms, or '' for the Redis server clock (one clock for the whole fleet)

  Output:
    the new score (a string)
]]
local now
if ARGV[6] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[6])
end
local x = tonumber(ARGV[2]) + now / tonumber(ARGV[3])
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if current then
  local c = tonumber(current)
  local hi = math.max(c, x)
  local lo = math.min(c, x)
  -- ln(e^c + e^x) without overflow: hi + ln(1 + e^(lo - hi)).
  x = hi + math.log(1 + math.exp(lo - hi))
end
-- %.17g keeps every bit of the double.
local score = string.format('%.17g', x)
redis.call('ZADD', KEYS[1], score, ARGV[1])
local max = tonumber(ARGV[4])
local card = redis.call('ZCARD', KEYS[1])
if card > max then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, card - max - 1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return score
