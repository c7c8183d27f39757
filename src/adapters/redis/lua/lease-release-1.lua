--[[
  lease-release: ends a fill lease and tells every waiting reader of the fleet to look again.

  Input:
    KEYS[1]   lease key (KeyBuilder.leaseKey)
    ARGV[1]   the lease value the holder was granted ("<token>:<owner>")
    ARGV[2]   the fill channel (KeyBuilder.fillChannel)
    ARGV[3]   the notice: the value key that was filled (or whose fill was refused)

  Output:
    1 when this holder's lease was deleted, 0 when it had expired or belongs to another
    holder (left alone). The notice is published in both cases.

  Why compare: a lease that expired (a slow origin) may have been granted to another reader
  since; deleting it would let a third reader call the origin too. Why publish even when
  refused: waiters must look again either way (a refused fill means an invalidation moved the
  fence, so one of them takes a fresh lease), and a notice is cheaper than their time-out.
]]
local released = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  released = redis.call('DEL', KEYS[1])
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return released
