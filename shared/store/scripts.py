"""The Lua scripts of the Redis store, and how they are called.

Rules they keep, for Tair's cluster and proxy instances: every key a script touches comes in KEYS
(never built in Lua), each takes at least one key, and time is the server's `TIME`, never a
caller's clock. `redis.replicate_commands()` makes a Redis older than 5 replicate the script's
effects rather than the script, which it must once a script has read `TIME`.

A script is called by its SHA (EVALSHA); on NOSCRIPT (the script cache is per node and is lost on a
failover or a restart) it is sent whole with EVAL, which also caches it again.
"""

from __future__ import annotations

import hashlib
from typing import Any

import redis
from redis.exceptions import NoScriptError

RESERVE = """
if redis.replicate_commands then redis.replicate_commands() end
local limit, window, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now - window))
local raw = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local slots = {}
for i = 2, #raw, 2 do slots[#slots + 1] = tonumber(raw[i]) end
local count = #slots
-- shared/store/algorithms.py's fits and earliest_slot, 1-based.
local function fits(slot, below)
  for first = math.max(1, below + 1 - limit), below + 1 do
    local last = first + limit
    if last > count + 1 then return true end
    local start = slot
    if first <= below then start = slots[first] end
    local finish = slot
    if last > below + 1 then finish = slots[last - 1] end
    if finish - start <= window then return false end
  end
  return true
end
local slot, below = now, 0
for index = 0, count do
  if index > 0 then slot = math.max(now, slots[index] + window + 1) end
  while below < count and slots[below + 1] <= slot do below = below + 1 end
  if fits(slot, below) then break end
end
local granted = 0
if ARGV[5] == '1' and slot - now <= max_wait then
  redis.call('ZADD', KEYS[1], string.format('%d', slot), ARGV[4])
  granted = 1
end
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if newest[2] then
  redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(newest[2]) - now + window) / 1000) + 1000)
end
return {granted, slot - now, slot}
"""
"""KEYS[1]: the sorted set of slots (scores: server microseconds). ARGV: limit, window (us),
max wait (us), a unique member, '1' to take the slot or '0' to ask only.
Returns {granted, wait (us), slot (server us)}."""

TAKE_TOKENS = """
if redis.replicate_commands then redis.replicate_commands() end
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
if now > updated then
  tokens = math.min(burst, tokens + (now - updated) * rate / 1000000)
  updated = now
end
local allowed, wait = 0, 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = math.ceil((cost - tokens) * 1000000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'updated', string.format('%d', updated))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return {allowed, wait, string.format('%.6f', tokens)}
"""
"""KEYS[1]: the bucket (a hash: tokens, updated in server microseconds). ARGV: rate per second,
burst, cost. Returns {allowed, wait (us), tokens left}."""

UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
"""KEYS[1]: the lock. ARGV[1]: the holder's token. Deletes the lock only if the token still holds it."""


class LuaScript:
    """One script, called by SHA with EVAL as the fallback.

    >>> LuaScript("return 1").sha
    'e0e1f9fabfc9d4800c877a703b823ac0578ff8db'
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    def __call__(self, client: redis.Redis, keys: list[str], args: list[str | int | float]) -> Any:
        if not keys:
            raise ValueError("A script takes at least one key: cluster proxies route it by its keys.")
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return client.eval(self.source, len(keys), *keys, *args)
