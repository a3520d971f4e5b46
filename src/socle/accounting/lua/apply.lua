-- Add settled spend that the current epoch does not contain yet (reconciliation after an
-- outage or a rebuild), only if the store is still in the epoch the database names.
--
-- KEYS[1] epoch key, KEYS[2 ..] budget counters
-- ARGV[1] expected epoch, then per counter: amount (nano), expire-at (0: never)
-- Returns {"ok"}, {"other", epoch} (a later rebuild already counted it) or {"noepoch"}.
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  return {'noepoch'}
end
if epoch ~= ARGV[1] then
  return {'other', epoch}
end
for i = 2, #KEYS do
  local a = 2 * (i - 1)
  redis.call('HINCRBY', KEYS[i], 's', ARGV[a])
  local expire = tonumber(ARGV[a + 1])
  if expire > 0 then
    redis.call('EXPIREAT', KEYS[i], expire)
  end
end
return {'ok'}
