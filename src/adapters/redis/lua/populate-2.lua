--[[
  populate: write a cache value only if its fence has not moved since the caller read it
  (the Meta memcache lease model, DESIGN rule 3), and optionally only if it is not older
  than the stored one (rule 2: versions decide anything that writes).

  Input:
    KEYS[1]   value key
    KEYS[2]   fence key (for reco: the user's generation key)
    ARGV[1]   token: the fence value read BEFORE the origin fetch by read-fence-1.lua, as a
              decimal string (never "0": that script creates a missing fence)
    ARGV[2]   value to store (already framed by the caller when versioned: "<version>|<data>")
    ARGV[3]   TTL in ms (> 0, jitter already applied)
    ARGV[4]   version as a decimal integer, or "" for unversioned values

  Output:
    'stored'          the value was written with the TTL
    'refused-stale'   the fence moved (an invalidation happened after the read) or is missing;
                      nothing written
    'refused-older'   the stored value carries a higher version; nothing written

  Tokens compare as strings: exact, no float rounding of large counters.

  Why a missing fence refuses: the fence may have vanished after the read (TTL, eviction, a
  failover to a replica that missed the bump), and an invalidation may have happened in
  between. Matching a missing fence against some "absent" token (the old "0") let this pass:
  a reader reads the missing fence as "0", an invalidation bumps it, the fence is evicted,
  the populate with "0" finds it missing again and stores the pre-change value. A refusal
  costs one miss; the next reader's read-fence-1.lua creates the fence again.
]]
local fence = redis.call('GET', KEYS[2])
if not fence or fence ~= ARGV[1] then
  return 'refused-stale'
end
if ARGV[4] ~= '' then
  local current = redis.call('GET', KEYS[1])
  if current then
    local sep = string.find(current, '|', 1, true)
    local currentVersion = sep and tonumber(string.sub(current, 1, sep - 1))
    if currentVersion and currentVersion > tonumber(ARGV[4]) then
      return 'refused-older'
    end
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 'stored'
