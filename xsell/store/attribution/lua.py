"""Lua scripts of feedback and attribution (the rules: models/attribution.py, their reference;
the scripts that record offers: offers_lua.py).

A user's ledger lives in the user's slot: hash ``NS:{u:USER}:att`` and zset ``NS:{u:USER}:atz``
(each field's event time, for pruning what is older than the attribution window):

- ``o\\0ITEM`` -> the suggestion that last offered ITEM;
- ``x\\0SUGGESTION\\0ITEM`` -> ``ts|placement|variant|flags`` (flags: ``a`` accepted, ``b``
  bought, ``c`` cannibalized), one per offered item, then ``|RULE`` when a merchant rule placed
  the item (its ``because.rule_id``), then ``|LIFECYCLE,SPEND`` when the message carried the
  user's segment (models/segments.py; SPEND '' when none): what the offer earns is credited to
  the placement, to ``rule:RULE``, to ``seg:LIFECYCLE`` and to ``spend:SPEND``; a record
  without these parts (written before) reads as no rule, no segment;
- ``s\\0SUGGESTION`` -> ``ts|placement|variant`` (what feedback needs);
- ``t\\0SUGGESTION`` -> the JSON list of the suggestion's trigger items (absent: none);
- ``k\\0ITEM`` -> JSON ``[[x field, epoch], ...]``: offers accepted by an add-to-cart while
  ITEM was a trigger of their suggestion, cannibalized if ITEM leaves the cart before the next
  purchase; ``pe`` -> the user's purchase count (the epoch: a purchase ends the cart);
- ``b\\0BUNDLE`` -> ``ts|variant|list_price|bundle_price``: the bundle last shown to the user
  (``GET /v1/items/{item_id}/bundle``), for the orders that carry its id;
- ``f\\0TYPE\\0SUGGESTION\\0ITEM`` -> 1: that feedback was counted (repeats count once);
- ``e\\0EVENT`` -> the JSON of what the event earned (returned again on a redelivery, so the
  day counters, in another slot, can be applied exactly once under their own marker);
- ``pid`` -> the user's pseudonym in the daily per-user revenue rows: a forget_user deletes
  the ledger, and the rows that stay in the aggregates can no longer be linked to the user.

Daily aggregates live in the day's slot (``NS:{r:DAY}``; COUNT): counters, per-pseudonym
revenue, and the markers that make each event count once there.
"""

from __future__ import annotations

from xsell.store.backend.scripts import lua_script

# the helpers every ledger script starts with (xsell/store/attribution/offers_lua.py too)
LEDGER_LUA = """
local att, atz = KEYS[1], KEYS[2]
local SEP = string.char(0)
-- prune what the window left behind (and keep a busy user's ledger to its newest cap entries)
local function prune(now, window, cap)
  local old = redis.call('ZRANGEBYSCORE', atz, '-inf', '(' .. (now - window))
  local n = redis.call('ZCARD', atz) - #old
  if n > cap then
    local more = redis.call('ZRANGE', atz, 0, n - cap - 1)
    for i = 1, #more do old[#old + 1] = more[i] end
  end
  for i = 1, #old, 500 do
    local part = {unpack(old, i, math.min(i + 499, #old))}
    redis.call('HDEL', att, unpack(part))
    redis.call('ZREM', atz, unpack(part))
  end
  return old
end
local function put(field, value, ts)
  redis.call('HSET', att, field, value)
  redis.call('ZADD', atz, ts, field)
end
local function split(text)
  local out = {}
  for part in string.gmatch(text .. '|', '([^|]*)|') do out[#out + 1] = part end
  return out
end
local function pseudonym(seed)
  local pid = redis.call('HGET', att, 'pid')
  if not pid then
    pid = redis.sha1hex(att .. SEP .. seed)
    redis.call('HSET', att, 'pid', pid)
  end
  return pid
end
-- the parts of a record after its flags: '|rule' when a merchant rule placed the item, then
-- '|lifecycle,spend' when the offer's segment is known (a record without them is as it was
-- before rules, then segments, were recorded)
local function tail(rule, seg)
  if seg ~= nil and seg ~= '' then return '|' .. (rule or '') .. '|' .. seg end
  if rule ~= nil and rule ~= '' then return '|' .. rule end
  return ''
end
-- an offer's record: 'ts|placement|variant|' (no flags yet), then its tail
local function offered(meta, rule, seg)
  return meta .. '|' .. tail(rule, seg)
end
-- the rows an offer's record p (split) earns in: its placement, 'rule:ID', 'seg:LIFECYCLE'
-- and 'spend:TIER' (each when known)
local function rows(p)
  local out = {p[2]}
  if (p[5] or '') ~= '' then out[#out + 1] = 'rule:' .. p[5] end
  local seg = p[6] or ''
  if seg ~= '' then
    local comma = string.find(seg, ',', 1, true)
    local life = comma and string.sub(seg, 1, comma - 1) or seg
    local spend = comma and string.sub(seg, comma + 1) or ''
    if life ~= '' then out[#out + 1] = 'seg:' .. life end
    if spend ~= '' then out[#out + 1] = 'spend:' .. spend end
  end
  return out
end
local function hget(field) return redis.call('HGET', att, field) end
local function hset(field, value) redis.call('HSET', att, field, value) end
-- Credits one line of an attributed event (item, the explicit suggestion id or '', revenue) to
-- the named suggestion's offer if valid, else to the item's latest offer if valid: accepted
-- once, bought once. Reads and writes the ledger through get(field) and set(field, value)
-- (ATTRIBUTE: the hash itself; ATTRIBUTE_MANY: its copy), appends what it earned to deltas.
local function credit(get, set, item, explicit, revenue, ts, window, kind, deltas)
  local field, rec = nil, nil
  local tries = {}
  if explicit ~= '' then tries[1] = explicit end
  local latest = get('o' .. SEP .. item)
  if latest then tries[#tries + 1] = latest end
  for _, sid in ipairs(tries) do
    if not rec then
      local f = 'x' .. SEP .. sid .. SEP .. item
      local r = get(f)
      if r then
        local at = tonumber(split(r)[1])
        if at <= ts and ts - at <= window then field, rec = f, r end
      end
    end
  end
  if not rec then return end
  local p = split(rec)
  local flags = p[4] or ''
  local now = flags
  -- what the offer earned goes to its placement, its rule's and its segment's rows (rows)
  local function earn(counter, amount)
    for _, row in ipairs(rows(p)) do deltas[#deltas + 1] = {row, p[3], counter, amount} end
  end
  if not string.find(flags, 'a', 1, true) then
    now = now .. 'a'
    earn('accepted', 1)
  end
  if kind == 'buy' and not string.find(flags, 'b', 1, true) then
    now = now .. 'b'
    earn('attributed_revenue', revenue)
  end
  if now ~= flags then
    set(field, p[1] .. '|' .. p[2] .. '|' .. p[3] .. '|' .. now .. tail(p[5], p[6]))
  end
  if now ~= flags and not string.find(flags, 'a', 1, true) then
    return field, string.sub(field, 3, #field - #item - 1)
  end
end
-- An add-to-cart accepted the offer `field` of suggestion `sid` (credit's answer): each trigger
-- item of the suggestion (its 't' field) other than the item keeps the acceptance under
-- 'k\\0TRIGGER', with the cart's purchase epoch ('pe'), so that removing the trigger before
-- the next purchase counts it cannibalized (cannibal). age(field, ts) dates a new field.
local function remember(get, set, age, field, sid, item, ts)
  local trig = get('t' .. SEP .. sid)
  if not trig or trig == '' then return end
  local epoch = get('pe') or '0'
  for _, t in ipairs(cjson.decode(trig)) do
    if t ~= item then
      local k = 'k' .. SEP .. t
      local cur = get(k)
      local list = (cur and cur ~= '') and cjson.decode(cur) or {}
      if #list < 100 then
        list[#list + 1] = {field, epoch}
        set(k, cjson.encode(list))
        age(k, ts)
      end
    end
  end
end
-- The trigger item left the cart (remove_from_cart): each acceptance kept under it since the
-- last purchase, of an offer made within the window, counts 'cannibalized' once (flag 'c' on
-- its offer); the list is emptied.
local function cannibal(get, set, item, ts, window, deltas)
  local k = 'k' .. SEP .. item
  local cur = get(k)
  if not cur or cur == '' then return end
  local epoch = get('pe') or '0'
  for _, e in ipairs(cjson.decode(cur)) do
    local r = e[2] == epoch and get(e[1])
    if r then
      local p = split(r)
      local flags = p[4] or ''
      if ts - tonumber(p[1]) <= window and not string.find(flags, 'c', 1, true) then
        set(e[1], p[1] .. '|' .. p[2] .. '|' .. p[3] .. '|' .. flags .. 'c' .. tail(p[5], p[6]))
        for _, row in ipairs(rows(p)) do deltas[#deltas + 1] = {row, p[3], 'cannibalized', 1} end
      end
    end
  end
  set(k, '')
end
-- A purchase: acceptances kept before it can no longer be cannibalized.
local function purchased(get, set)
  set('pe', tostring(tonumber(get('pe') or '0') + 1))
end
-- A bundle an order carries (a triple '\\0BUNDLE_ID', '1' when the lines carrying it hold
-- every item of the bundle else '0', their revenue): counted in the variant the bundle was
-- shown in ('b' field, BUNDLE_SHOWN) when shown to the user within the window.
local function bundled(get, bid, full, revenue, ts, window, deltas)
  local r = get('b' .. SEP .. bid)
  if not r then return end
  local p = split(r)
  local at = tonumber(p[1])
  if at > ts or ts - at > window then return end
  deltas[#deltas + 1] = {'', p[2], 'bundle_orders', 1}
  if full == '1' then
    deltas[#deltas + 1] = {'', p[2], 'bundle_full', 1}
    if p[3] ~= '' and p[4] ~= '' then
      deltas[#deltas + 1] = {'', p[2], 'bundle_discount', tonumber(p[3]) - tonumber(p[4])}
    end
  else
    deltas[#deltas + 1] = {'', p[2], 'bundle_partial', 1}
  end
  deltas[#deltas + 1] = {'', p[2], 'bundle_revenue', revenue}
end
-- One triple of an attributed event (ATTRIBUTE's ARGV layout), every kind.
local function line(get, set, age, item, explicit, revenue, ts, window, kind, deltas)
  if string.byte(item, 1) == 0 then
    bundled(get, string.sub(item, 2), explicit, revenue, ts, window, deltas)
  elseif kind == 'remove' then
    cannibal(get, set, item, ts, window, deltas)
  else
    local field, sid = credit(get, set, item, explicit, revenue, ts, window, kind, deltas)
    if field and kind == 'add' then remember(get, set, age, field, sid, item, ts) end
  end
end
local function expire(window)
  redis.call('EXPIRE', att, math.ceil(window) + 86400)
  redis.call('EXPIRE', atz, math.ceil(window) + 86400)
end
"""

ATTRIBUTE = lua_script(
    "attribute",
    LEDGER_LUA
    + """
-- KEYS[1] the user's ledger hash, KEYS[2] its ages zset.
-- ARGV[1] event id, ARGV[2] event ts (s), ARGV[3] window (s), ARGV[4] 'add' | 'buy' |
-- 'remove', ARGV[5 ..] triples: item id, the event's explicit suggestion id ('' = none),
-- revenue; a purchase's triple whose item starts with NUL (no item id can: ids are printable)
-- is a bundle the order carries (see bundled above).
-- An item is credited to the explicit suggestion when it offered the item within the window,
-- else to the item's latest offer if within the window; each (suggestion, item) is accepted
-- once and bought once. An add that accepts remembers the offer's trigger items; a 'remove' of
-- one before the next purchase counts the acceptance cannibalized, once.
-- A redelivered event returns what it earned the first time.
-- returns: JSON {pid, deltas: [[placement, variant, counter, amount], ...]} (an offer a rule
-- placed adds its deltas again under placement 'rule:ID', one of a known segment under
-- 'seg:LIFECYCLE' and 'spend:TIER'); placement '' is a counter of the
-- variant (bundles); a 'remove' that earned nothing: {deltas: {}} only.
local eid, ts, window, kind = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local memo = redis.call('HGET', att, 'e' .. SEP .. eid)
if memo then return memo end
local deltas = {}
local function age(field, at) redis.call('ZADD', atz, at, field) end
for i = 5, #ARGV, 3 do
  line(hget, hset, age, ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ts, window, kind, deltas)
end
if kind == 'buy' then purchased(hget, hset) end
-- a remove that cannibalized nothing earned nothing: no memo, pseudonym or lifetime to write
if kind == 'remove' and #deltas == 0 then return cjson.encode({deltas = deltas}) end
local out = cjson.encode({pid = pseudonym(eid), deltas = deltas})
put('e' .. SEP .. eid, out, ts)
expire(window)
return out
""",
)

FEEDBACK = lua_script(
    "feedback",
    LEDGER_LUA
    + """
-- KEYS[1] the user's ledger hash, KEYS[2] its ages zset.
-- ARGV[1] event id, ARGV[2] ts (s), ARGV[3] window (s), ARGV[4] suggestion id,
-- ARGV[5] 'impression' | 'click' | 'dismiss', ARGV[6] item id ('' = the whole suggestion).
-- Counts a feedback once per (type, suggestion, item), for a suggestion the ledger knows
-- (shown to this user within the window); a redelivery returns what it earned.
-- returns: JSON {pid, deltas: [[placement, variant, counter, 1]]} (deltas may be empty).
local eid, ts, window, sid = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local memo = redis.call('HGET', att, 'e' .. SEP .. eid)
if memo then return memo end
local deltas = {}
local meta = redis.call('HGET', att, 's' .. SEP .. sid)
if meta then
  local p = split(meta)
  local seen = 'f' .. SEP .. ARGV[5] .. SEP .. sid .. SEP .. ARGV[6]
  if redis.call('HEXISTS', att, seen) == 0 then
    put(seen, '1', ts)
    deltas[1] = {p[2], p[3], ARGV[5] .. 's', 1}
  end
end
local out = cjson.encode({pid = pseudonym(eid), deltas = deltas})
put('e' .. SEP .. eid, out, ts)
expire(window)
return out
""",
)

COUNT = lua_script(
    "count",
    """
-- KEYS[1] the day's counters hash, KEYS[2] the day's per-user revenue hash (field
--   'variant\\0pseudonym'), KEYS[3] the day's guard zset (marker -> until, ms: see
--   xsell/store/core/guards.py; markers whose until has passed are dropped here).
-- ARGV[1] marker (the event's), ARGV[2] now (ms), ARGV[3] the marker's until (ms),
-- ARGV[4] the day's lifetime (s: its counters and revenue), ARGV[5] n counters, then n
-- (field, amount) pairs (HINCRBYFLOAT), then (field, amount) pairs of per-user revenue; an
-- amount '' marks the
-- user as seen in the variant (HSETNX 0: revenue per user counts users who bought nothing).
-- returns: 1 when applied now, 0 when the marker was applied before.
if redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[1]) == 0 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[2])
local keep = tonumber(ARGV[3]) - tonumber(ARGV[2])  -- the markers live as long as the latest
if redis.call('PTTL', KEYS[3]) < keep then redis.call('PEXPIRE', KEYS[3], keep) end
local n = tonumber(ARGV[5])
for i = 6, 5 + 2 * n, 2 do redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = 6 + 2 * n, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HSETNX', KEYS[2], ARGV[i], '0')
  else
    redis.call('HINCRBYFLOAT', KEYS[2], ARGV[i], ARGV[i + 1])
  end
end
for i = 1, 2 do redis.call('EXPIRE', KEYS[i], tonumber(ARGV[4])) end
return 1
""",
)
