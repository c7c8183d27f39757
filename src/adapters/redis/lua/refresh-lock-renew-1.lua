--[[
  refresh-lock-renew: extend a refresh run lock only if we still own it
  (src/adapters/redis/refresh-run-lock.ts).

  Input:
    KEYS[1]   lock key
    ARGV[1]   owner token (set by SET NX PX when the lock was taken)
    ARGV[2]   new TTL in ms

  Output:
    1   renewed
    0   not ours any more (expired, or taken by another run): the caller must stop
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
