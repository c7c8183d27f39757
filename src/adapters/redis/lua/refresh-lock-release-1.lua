--[[
  refresh-lock-release: delete a refresh run lock only if we still own it (compare-and-delete),
  so a run whose lock expired cannot release the lock of the run that took over
  (src/adapters/redis/refresh-run-lock.ts).

  Input:
    KEYS[1]   lock key
    ARGV[1]   owner token

  Output:
    1   released
    0   not ours (already expired or taken over); nothing deleted
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
