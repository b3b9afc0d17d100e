"""The Lua scripts of the shared Yunxin gate. Each runs atomically on the server in one round trip, is
loaded once (redis-py's register_script: EVALSHA, and SCRIPT LOAD again after a server restart) and
reads the server's clock (TIME), so the replicas' own clocks never matter.

Redis 6 replicates a script by its effects only when asked: `redis.replicate_commands()` comes before
any write that follows TIME. Redis 7+ and Valkey always do (there the call is a no-op, or absent).

Keys of one Yunxin app (its AppKey in a hash tag, so a cluster keeps them in one slot):
    window   list: the start times (ms, server clock) of the last `limit` calls, oldest first
    pause    string: the trace ID of the call Yunxin answered 416; it expires when the pause ends
    breaker  hash: until (ms) and trace (the last failure's trace ID) while the breaker is tripped
    probe    string: the token of the one probe call let through once the cool-down is over (SET NX)
    fails    counter: failed calls in a row
    taken:*  string: the start one attempt was given, so that asking again (after an answer that came too
             late) gives the same start instead of a second one
    told:*   string: a call's failure was counted (told again, it is not counted twice)

Every script may run twice for one operation (SharedState.run asks once more after a timeout): each gives
the same outcome the second time.
"""

from __future__ import annotations

# Statuses GATE answers with: {status, milliseconds, text or number}.
GO, PAUSED, OPEN, OVER, PROBE = 0, 1, 2, 3, 4

_NOW = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: window, pause, breaker, probe, fails, taken (this attempt's)
# ARGV: limit, window_ms, max_wait_ms, token, lease_ms
# GO {0, wait_ms, failures}: call after wait_ms; PROBE {4, wait_ms, failures}: the same, as the probe;
# PAUSED {1, ms_left, trace}; OPEN {2, ms_left, trace}; OVER {3, wait_ms, ''}: no room within max_wait_ms.
GATE = (
    _NOW
    + """
local taken = redis.call('GET', KEYS[6])
if taken then
  local start, probe = string.match(taken, '^(%d+):(%d)$')
  local failures = tonumber(redis.call('GET', KEYS[5]) or '0')
  return {tonumber(probe) == 1 and 4 or 0, math.max(tonumber(start) - now, 0), failures}
end
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then
  return {1, paused, redis.call('GET', KEYS[2]) or ''}
end
local probe = 0
local tripped = redis.call('HMGET', KEYS[3], 'until', 'trace')
if tripped[1] then
  local trace = tripped[2] or ''
  local left = tonumber(tripped[1]) - now
  if left > 0 then
    return {2, left, trace}
  end
  if not redis.call('SET', KEYS[4], ARGV[4], 'NX', 'PX', ARGV[5]) then
    if redis.call('GET', KEYS[4]) ~= ARGV[4] then
      return {2, math.max(redis.call('PTTL', KEYS[4]), 1), trace}
    end
  end
  probe = 1
end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local start = now
if redis.call('LLEN', KEYS[1]) >= limit then
  local nth = tonumber(redis.call('LINDEX', KEYS[1], -limit))
  if nth + window > start then
    start = nth + window
  end
end
if start - now > tonumber(ARGV[3]) then
  if probe == 1 then
    redis.call('DEL', KEYS[4])
  end
  return {3, start - now, ''}
end
redis.call('RPUSH', KEYS[1], start)
redis.call('LTRIM', KEYS[1], -limit, -1)
redis.call('PEXPIRE', KEYS[1], start - now + window)
redis.call('SET', KEYS[6], start .. ':' .. probe, 'PX', start - now + window)
local failures = tonumber(redis.call('GET', KEYS[5]) or '0')
if probe == 1 then
  return {4, start - now, failures}
end
return {0, start - now, failures}
"""
)

# KEYS: pause, breaker, probe, fails, told (this call's: a failure told twice counts once)
# ARGV: outcome ('answered', 'limited' or 'failed'), token, trace, threshold, cooldown_ms, pause_ms, memory_ms
# answered / limited: 1 when this answer closed the breaker, else 0. failed: 1 when it opened the breaker,
# 2 when it was the probe and opened it again, else 0.
REPORT = """
local outcome = ARGV[1]
if outcome == 'answered' or outcome == 'limited' then
  if redis.replicate_commands then redis.replicate_commands() end
  local closed = redis.call('DEL', KEYS[2])
  redis.call('DEL', KEYS[4])
  if redis.call('GET', KEYS[3]) == ARGV[2] then
    redis.call('DEL', KEYS[3])
  end
  if outcome == 'limited' and tonumber(ARGV[6]) > 0 then
    redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[6])
  end
  return closed
end
if redis.replicate_commands then redis.replicate_commands() end
if not redis.call('SET', KEYS[5], '1', 'NX', 'PX', ARGV[7]) then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local failures = redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ARGV[7])
local cooldown = tonumber(ARGV[5])
if redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('GET', KEYS[3]) == ARGV[2] then
    redis.call('HSET', KEYS[2], 'until', now + cooldown, 'trace', ARGV[3])
    redis.call('PEXPIRE', KEYS[2], cooldown + 3600000)
    redis.call('DEL', KEYS[3])
    return 2
  end
  return 0
end
if failures >= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[2], 'until', now + cooldown, 'trace', ARGV[3])
  redis.call('PEXPIRE', KEYS[2], cooldown + 3600000)
  redis.call('DEL', KEYS[3])
  return 1
end
return 0
"""

# KEYS: window. ARGV: limit, window_ms, then how many ms ago each call this process made alone started.
# Run once when Redis is back, so the calls made from a process's own share count in the shared window.
MERGE = (
    _NOW
    + """
local all = {}
for _, start in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  all[#all + 1] = tonumber(start)
end
for i = 3, #ARGV do
  all[#all + 1] = now - tonumber(ARGV[i])
end
if #all == 0 then
  return 0
end
table.sort(all)
local limit = tonumber(ARGV[1])
redis.call('DEL', KEYS[1])
for i = math.max(1, #all - limit + 1), #all do
  redis.call('RPUSH', KEYS[1], all[i])
end
redis.call('PEXPIRE', KEYS[1], math.max(all[#all] - now, 0) + tonumber(ARGV[2]))
return #all
"""
)

# The replay guard's claim on a signature. KEYS: the signature's key. ARGV: this request's token, window_ms.
# 1: first time (or this same request asking again); 0: seen before.
CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return 1
end
return 0
"""
