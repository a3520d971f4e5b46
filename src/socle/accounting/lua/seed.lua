-- Rebuild the counters after the store lost them: write the spend read from the database and
-- only then publish the new epoch, so that no script ran against half-seeded counters.
--
-- Large rebuilds come in chunks: every chunk but the last passes an empty epoch.
-- KEYS[1] epoch key, KEYS[2 ..] budget counters
-- ARGV[1] new epoch ("" = do not publish yet), then per counter: spend (nano), expire-at (0: never)
-- Returns {"ok"} or {"exists", epoch} when another replica rebuilt first.
local current = redis.call('GET', KEYS[1])
if current then
  return {'exists', current}
end
for i = 2, #KEYS do
  local a = 2 * (i - 1)
  redis.call('DEL', KEYS[i])
  redis.call('HSET', KEYS[i], 's', ARGV[a], 'r', '0')
  local expire = tonumber(ARGV[a + 1])
  if expire > 0 then
    redis.call('EXPIREAT', KEYS[i], expire)
  end
end
if ARGV[1] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1])
end
return {'ok'}
