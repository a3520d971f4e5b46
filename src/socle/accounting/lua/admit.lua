-- Admit one request atomically: every rate limit and every hard budget must pass, then all
-- rate limiters advance and every budget counter holds the reservation. Nothing changes on refusal.
--
-- KEYS[1]            epoch key (absent: the counters were lost, the caller rebuilds them)
-- KEYS[2 .. 1+nb]    budget counters: hashes {s = settled spend, r:<replica> = reserved by that
--                    replica} in nano-units; a replica whose heartbeat key <prefix>alive:<replica>
--                    expired has crashed, and its reservations no longer count
-- KEYS[2+nb .. ]     GCRA keys holding the theoretical arrival time (TAT) in milliseconds
-- ARGV[1] amount to reserve (integer nano-units), ARGV[2] nb, ARGV[3] nr, ARGV[4] key prefix,
-- ARGV[5] this replica's id
-- then per counter: hard limit (-1: none), expire-at (Unix seconds, 0: never)
-- then per rate key: emission interval (ms), burst (units), weight (units)
-- Returns {"ok", epoch, remaining_1, reset_ms_1, ...} or {"rate", j, retry_ms|-1, remaining,
-- reset_ms} or {"budget", i, spent, reserved} or {"noepoch"}.
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  return {'noepoch'}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local amount = tonumber(ARGV[1])
local nb = tonumber(ARGV[2])
local nr = tonumber(ARGV[3])
local prefix = ARGV[4]
local me = ARGV[5]
local mine = 'r:' .. me
local a = 6
local limits, expires = {}, {}
for i = 1, nb do
  limits[i] = tonumber(ARGV[a])
  expires[i] = tonumber(ARGV[a + 1])
  a = a + 2
end
local new_tats, out = {}, {'ok', epoch}
for j = 1, nr do
  local interval = tonumber(ARGV[a])
  local burst = tonumber(ARGV[a + 1])
  local weight = tonumber(ARGV[a + 2])
  a = a + 3
  local tolerance = burst * interval
  local tat = tonumber(redis.call('GET', KEYS[1 + nb + j]) or '0')
  local base = math.max(tat, now)
  local new_tat = base + weight * interval
  if new_tat - now > tolerance + 0.000001 then
    local remaining = math.max(0, math.floor((tolerance - (base - now)) / interval + 0.000001))
    local retry = -1
    if weight <= burst then
      retry = new_tat - tolerance - now
    end
    return {'rate', j, tostring(retry), remaining, tostring(base - now)}
  end
  new_tats[j] = new_tat
  out[#out + 1] = math.floor((tolerance - (new_tat - now)) / interval + 0.000001)
  out[#out + 1] = tostring(new_tat - now)
end
local alive = {}
alive[me] = true
local function counts(replica)
  local known = alive[replica]
  if known == nil then
    known = redis.call('EXISTS', prefix .. 'alive:' .. replica) == 1
    alive[replica] = known
  end
  return known
end
for i = 1, nb do
  if limits[i] >= 0 then
    local key = KEYS[1 + i]
    local fields = redis.call('HGETALL', key)
    local s, r = 0, 0
    for k = 1, #fields, 2 do
      local name = fields[k]
      if name == 's' then
        s = tonumber(fields[k + 1])
      elseif string.sub(name, 1, 2) == 'r:' then
        if counts(string.sub(name, 3)) then
          r = r + tonumber(fields[k + 1])
        else
          redis.call('HDEL', key, name)
        end
      end
    end
    if s >= limits[i] or s + r + amount > limits[i] then
      return {'budget', i, tostring(s), tostring(r)}
    end
  end
end
for j = 1, nr do
  redis.call('SET', KEYS[1 + nb + j], string.format('%.3f', new_tats[j]),
             'PX', math.ceil(new_tats[j] - now) + 1000)
end
for i = 1, nb do
  redis.call('HINCRBY', KEYS[1 + i], mine, ARGV[1])
  if expires[i] > 0 then
    redis.call('EXPIREAT', KEYS[1 + i], expires[i])
  end
end
return out
