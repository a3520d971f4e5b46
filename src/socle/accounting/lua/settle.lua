-- Settle one request: release its reservation (if it was made in the current epoch), add the
-- actual cost to the settled spend, and give back unused tokens to the token rate limiters.
--
-- KEYS[1] epoch key, KEYS[2 .. 1+nb] budget counters, KEYS[2+nb ..] GCRA keys to refund
-- ARGV[1] epoch of the reservation, ARGV[2] reserved (nano), ARGV[3] actual cost (nano),
-- ARGV[4] nb, ARGV[5] nr, ARGV[6] this replica's id, then per counter: expire-at (0: never),
-- then per GCRA key: emission interval (ms), units to give back.
-- Returns {"ok", epoch, spent_1, ...} or {"noepoch"} (nothing applied).
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  return {'noepoch'}
end
local reserved = tonumber(ARGV[2])
local nb = tonumber(ARGV[4])
local nr = tonumber(ARGV[5])
local same = (epoch == ARGV[1])
local mine = 'r:' .. ARGV[6]
local out = {'ok', epoch}
for i = 1, nb do
  local key = KEYS[1 + i]
  if same and reserved > 0 then
    local held = tonumber(redis.call('HGET', key, mine) or '0')
    local release = math.min(held, reserved)
    if release >= held then
      redis.call('HDEL', key, mine)
    elseif release > 0 then
      redis.call('HINCRBY', key, mine, string.format('%d', -release))
    end
  end
  out[#out + 1] = redis.call('HINCRBY', key, 's', ARGV[3])
  local expire = tonumber(ARGV[6 + i])
  if expire > 0 then
    redis.call('EXPIREAT', key, expire)
  end
end
if nr > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  local a = 7 + nb
  for j = 1, nr do
    local key = KEYS[1 + nb + j]
    local interval = tonumber(ARGV[a])
    local units = tonumber(ARGV[a + 1])
    a = a + 2
    local tat = redis.call('GET', key)
    if tat and units > 0 then
      local new_tat = math.max(now, tonumber(tat) - units * interval)
      redis.call('SET', key, string.format('%.3f', new_tat), 'KEEPTTL')
    end
  end
end
return out
