-- events: Node's EventEmitter for Lua (contract §3).
--
--   local events = require("events")
--   local e = events.EventEmitter.new()   -- or events(), events.new(),
--                                         -- events.EventEmitter()
--   e:on("data", function(chunk) ... end):once("end", fn)
--   e:emit("data", "abc")                 --> true
--
-- As in Node, the module is the class itself (events.EventEmitter == events).
--
-- Subclassing (net.Socket, net.Server):
--
--   local Socket = events.EventEmitter.extend({__name = "Socket"})
--   function Socket.new(options)
--     local self = setmetatable({}, Socket)   -- no super call is needed
--     ...
--     return self
--   end
--   -- Socket(options) calls Socket.new; Socket.extend(Sub) subclasses again.
--
-- extend(Sub) copies the base's methods into Sub (so a method call on an
-- instance finds `emit` in one hop) and falls back to the base through
-- __index for anything added to the base later.  Redefining a base method
-- after extend() is therefore not seen by subclasses: define classes first.
-- __name names the class in the MaxListenersExceededWarning text and in
-- "Received an instance of Socket" messages.
--
-- Storage.  An instance is a plain table and owns no extra table until its
-- first listener is added: then one table `_events`, holding both
-- name -> listeners and, in its array part (_events[1..#_events]), the
-- names in insertion order (for eventNames() and for the removal order of
-- removeAllListeners(), which Node takes from the key order of its _events
-- object).  One table, not two: ~90 bytes less for every emitter with
-- listeners (each connection's socket).  Number names would collide with
-- the array part, so their listeners live in a side table _events[NUM],
-- made only when a number is used as a name.  The listeners of one name
-- are stored as:
--   * the entry itself, when there is exactly one listener that is a plain
--     function or an internal entry (below);
--   * otherwise a sequence of entries (functions, once-wrappers, internal
--     entries), itself callable (metatable List: calling it calls each
--     entry in turn), so that the stored value is simply called: emit()
--     and net's read path need no type() test (a C call) to tell the two
--     apart.  Code that must tell them apart tests for the List metatable:
--     a lone entry may be a table too.
-- A sequence is never modified after it is stored: adding or removing builds
-- a new one.  emit() can therefore walk the sequence it fetched without
-- copying it, and still call exactly the listeners registered when it
-- started (Node copies the array on every emit instead).  emit() passes its
-- varargs straight through and allocates nothing.
--
-- A once-wrapper is a callable table {listener=, target=, name=, fired=},
-- the counterpart of Node's bound onceWrapper: rawListeners() returns it,
-- wrapper.listener is the original function, and calling it runs the
-- listener at most once.
--
-- An internal entry is a callable table that lnet's own modules store as
-- a listener in place of a closure (net.lua's pipe state is src's 'data'
-- listener: a closure and its upvalue cost ~100 bytes a pipe).  Its
-- metatable is registered here with a function that returns the function
-- the entry stands for (made on first request and kept in entry.listener:
-- what listeners(), rawListeners() and the 'newListener'/'removeListener'
-- events report, and what removeListener() accepts, as for Node's pipe()
-- listener).  Users cannot add one: on() and the like take functions only.
--
-- Listeners receive the event's arguments only (§1.4), not the emitter.

local errors = require("lnet.errors")

local type, select, error = type, select, error
local setmetatable, getmetatable, rawget = setmetatable, getmetatable, rawget
local tostring, pairs, ipairs = tostring, pairs, ipairs

local EventEmitter = {}
EventEmitter.__index = EventEmitter
EventEmitter.__name = "EventEmitter"
EventEmitter.EventEmitter = EventEmitter

-- Read at the time a listener is added, as Node reads
-- EventEmitter.defaultMaxListeners.  0 or math.huge means no limit.
EventEmitter.defaultMaxListeners = 10

-- The key of the side table for number names' listeners: private, so no
-- event name can equal it.
local NUM = {}

-- Names known to be strings: a table read instead of a type() call (which
-- pushes the type name: ~150 instructions) on the paths every connection
-- runs (add, removeListener, emit).  They test for a number name inline
-- and call get/set only for one.
local STRING_NAME = {}
for _, n in ipairs({ "data", "end", "error", "close", "finish", "drain",
  "connect", "ready", "timeout", "lookup", "connectionAttempt",
  "connectionAttemptFailed", "connectionAttemptTimeout", "listening",
  "connection", "drop", "pipe", "unpipe", "newListener", "removeListener" })
do
  STRING_NAME[n] = true
end

local function get(ev, name)
  if type(name) == "number" then
    local t = ev[NUM]
    return t and t[name]
  end
  return ev[name]
end

local function set(ev, name, v)
  if type(name) == "number" then
    local t = ev[NUM]
    if t == nil then
      t = {}
      ev[NUM] = t
    end
    t[name] = v
  else
    ev[name] = v
  end
end


-- {==========================================================================
-- Once-wrappers.

local Once = {__name = "onceWrapper"}

-- Remove first, then call: a listener that emits the same event again
-- (directly or from a 'removeListener' listener) does not run twice.
function Once.__call(w, ...)
  if not w.fired then
    w.target:removeListener(w.name, w)
    w.fired = true
    return w.listener(...)
  end
end

-- Internal entry metatable -> the function making the entry's listener.
local ENTRY = {}

-- The function a stored entry stands for.
local function unwrap(entry)
  if type(entry) == "table" then
    local f = entry.listener
    if f == nil then f = ENTRY[getmetatable(entry)](entry) end
    return f
  end
  return entry
end

-- What rawListeners() reports: a once-wrapper as it is (Node's bound
-- wrapper), an internal entry as its function.
local function raw(entry)
  if type(entry) == "table" and getmetatable(entry) ~= Once then
    return unwrap(entry)
  end
  return entry
end

-- Whether a stored entry is, or stands for, listener.  entry.listener is
-- read raw (no metatable here has __index): an internal entry whose
-- function was never made cannot be named by the caller.
local function matches(entry, listener)
  return entry == listener
    or (type(entry) == "table" and entry.listener == listener)
end

-- A sequence of listeners, callable: emit's one call reaches every entry.
local List = {__name = "listeners"}

function List.__call(list, ...)
  for i = 1, #list do list[i](...) end
end

local function seq(t)
  return setmetatable(t, List)
end

-- }==========================================================================


-- {==========================================================================
-- Adding listeners.

local function check_listener(listener)
  if type(listener) ~= "function" then
    error(errors.ERR_INVALID_ARG_TYPE("listener", "function", listener), 3)
  end
end

local function check_name(name)
  if name == nil or name ~= name then
    error(errors.ERR_INVALID_ARG_VALUE("eventName", name,
      "must not be nil or NaN"), 3)
  end
end

local function warn_max(self, name, count, max)
  local warned = self._warned
  if warned == nil then
    warned = {}
    self._warned = warned
  end
  if warned[name] then return end
  warned[name] = true
  local mt = getmetatable(self)
  local cls = type(mt) == "table" and mt.__name or "EventEmitter"
  -- Node prints through process.emitWarning as "(node:PID) ..."; the
  -- method is named with Lua's colon (§1.2).
  io.stderr:write("(lnet) MaxListenersExceededWarning: Possible EventEmitter ",
    "memory leak detected. ", tostring(count), " ", tostring(name),
    " listeners added to [", tostring(cls), "]. MaxListeners is ",
    tostring(max), ". Use emitter:setMaxListeners() to increase limit\n")
end

-- internal: listener is an internal entry (EventEmitter._add_entry).
local function add(self, name, listener, prepend, once, internal)
  -- The checks are called only to raise: two Lua calls less per listener
  -- added (every connection adds a few).
  if type(listener) ~= "function" and not internal then
    check_listener(listener)
  end
  if name == nil or name ~= name then check_name(name) end
  local ev = self._events
  if ev ~= nil and ev.newListener ~= nil then
    -- Before adding, with the function the user gave (not the wrapper); a
    -- listener it adds for the same name therefore comes first.
    self:emit("newListener", name, internal and unwrap(listener) or listener)
    ev = self._events
  end
  local entry = listener
  if once then
    entry = setmetatable({listener = listener, target = self, name = name,
      fired = false}, Once)
  end

  local num = not STRING_NAME[name] and type(name) == "number"
  if ev == nil then
    if not num then
      -- Sized by the constructor for two names (the nil fields count):
      -- a socket nearly always gets a second ('error' and 'data'), which
      -- then needs no rehash of either part.  A lone once-wrapper still
      -- goes in a sequence (below).
      self._events = {name, nil, [name] = once and seq({entry}) or entry,
        [NUM] = nil}
      return self
    end
    ev = {}
    self._events = ev
  end

  local cur
  if num then cur = get(ev, name) else cur = ev[name] end
  local count
  if cur == nil then
    -- A lone once-wrapper still goes in a sequence (stored alone, it
    -- would be taken for an internal entry).
    if num then set(ev, name, once and seq({entry}) or entry)
    else ev[name] = once and seq({entry}) or entry end
    ev[#ev + 1] = name
    return self
  elseif getmetatable(cur) ~= List then
    cur = seq(prepend and {entry, cur} or {cur, entry})
    if num then set(ev, name, cur) else ev[name] = cur end
    count = 2
  else
    count = #cur + 1
    local new = seq({})
    if prepend then
      new[1] = entry
      for i = 2, count do new[i] = cur[i - 1] end
    else
      for i = 1, count - 1 do new[i] = cur[i] end
      new[count] = entry
    end
    if num then set(ev, name, new) else ev[name] = new end
  end

  local max = self._maxListeners or EventEmitter.defaultMaxListeners
  if max > 0 and count > max then warn_max(self, name, count, max) end
  return self
end

function EventEmitter:on(name, listener)
  return add(self, name, listener, false, false)
end

EventEmitter.addListener = EventEmitter.on

function EventEmitter:prependListener(name, listener)
  return add(self, name, listener, true, false)
end

function EventEmitter:once(name, listener)
  return add(self, name, listener, false, true)
end

function EventEmitter:prependOnceListener(name, listener)
  return add(self, name, listener, true, true)
end

-- For lnet's own modules only, not part of §3 (a table, so extend() does
-- not copy it into subclasses as a method).
EventEmitter._internal = {
  -- entry_type(mt, make): tables with metatable mt (which has __call and
  -- no __index) may be stored as listeners; make(entry) returns the
  -- function entry stands for, kept in entry.listener.
  entry_type = function(mt, make) ENTRY[mt] = make end,
  -- add_entry(emitter, name, entry): on(), for an internal entry.
  add_entry = function(self, name, entry)
    return add(self, name, entry, false, false, true)
  end,
  -- The metatable of a sequence of entries: a stored value without it is
  -- a single entry.
  List = List,
}

-- }==========================================================================


-- {==========================================================================
-- Emitting.

-- Kept small: it runs for every chunk read from every socket.
function EventEmitter:emit(name, ...)
  local ev = self._events
  local l
  if ev ~= nil then
    if not STRING_NAME[name] and type(name) == "number" then
      l = ev[NUM]
      l = l and l[name]
    else
      l = ev[name]
    end
  end
  if l ~= nil then
    l(...)  -- a function or a callable List
    return true
  end
  if name == "error" then
    -- Node throws an Error instance as it is; a table is Lua's structured
    -- error value (there is no common base class to test), so any table is
    -- raised unchanged.  Anything else is wrapped, with the value kept as
    -- err.context.
    local err = ...
    if type(err) == "table" then error(err, 0) end
    error(errors.ERR_UNHANDLED_ERROR(err), 0)
  end
  return false
end

-- }==========================================================================


-- {==========================================================================
-- Removing listeners.

local function drop_name(self, ev, name)
  local n = #ev
  if n == 1 then
    -- The emitter is idle again: give the storage back.
    self._events = nil
    return
  end
  for i = 1, n do
    if ev[i] == name then
      table.remove(ev, i)
      break
    end
  end
end

function EventEmitter:removeListener(name, listener)
  -- A once-wrapper from rawListeners() is accepted too, as Node accepts the
  -- bound wrapper function; an internal entry from lnet's own modules.
  if type(listener) ~= "function" then
    local mt = getmetatable(listener)
    if mt ~= Once and (mt == nil or ENTRY[mt] == nil) then
      check_listener(listener)
    end
  end
  local ev = self._events
  if ev == nil then return self end
  local num = not STRING_NAME[name] and type(name) == "number"
  local cur
  if num then cur = get(ev, name) else cur = ev[name] end
  if cur == nil then return self end

  local reported = listener
  local left
  if getmetatable(cur) ~= List then
    if not matches(cur, listener) then return self end
    left = 0
  else
    local n = #cur
    local pos
    -- The last matching entry goes, as in Node.
    for i = n, 1, -1 do
      if matches(cur[i], listener) then
        pos = i
        break
      end
    end
    if pos == nil then return self end
    left = n - 1
    if left == 0 then
      -- Node reports the original function when the last one goes.
      reported = cur[1].listener
    elseif left == 1 then
      local keep = cur[pos == 1 and 2 or 1]
      if getmetatable(keep) == Once then keep = seq({keep}) end
      if num then set(ev, name, keep) else ev[name] = keep end
    else
      local new = seq({})
      for i = 1, pos - 1 do new[i] = cur[i] end
      for i = pos + 1, n do new[i - 1] = cur[i] end
      if num then set(ev, name, new) else ev[name] = new end
    end
  end

  if left == 0 then
    if num then set(ev, name, nil) else ev[name] = nil end
    drop_name(self, ev, name)
  end
  if left <= 1 then
    -- Node forgets the warning once the list shrinks to one listener.
    -- rawget: only warn_max sets it, on the instance; a plain read would
    -- run a subclass's __index function (net.Socket's) on every removal.
    local warned = rawget(self, "_warned")
    if warned then warned[name] = nil end
  end
  if ev.removeListener ~= nil then
    if type(reported) == "table" and getmetatable(reported) ~= Once then
      reported = unwrap(reported)  -- an internal entry: its function
    end
    self:emit("removeListener", name, reported)
  end
  return self
end

EventEmitter.off = EventEmitter.removeListener

function EventEmitter:removeAllListeners(name)
  local ev = self._events
  if ev == nil then return self end

  if ev.removeListener == nil then
    if name == nil then
      self._events, self._warned = nil, nil
    elseif get(ev, name) ~= nil then
      set(ev, name, nil)
      drop_name(self, ev, name)
      local warned = self._warned
      if warned then warned[name] = nil end
    end
    return self
  end

  if name == nil then
    -- Every name in insertion order, 'removeListener' itself last, so that
    -- its listeners hear about all the others.
    local names = {}
    for i = 1, #ev do names[i] = ev[i] end
    for _, n in ipairs(names) do
      if n ~= "removeListener" then self:removeAllListeners(n) end
    end
    self:removeAllListeners("removeListener")
    self._events, self._warned = nil, nil
    return self
  end

  local cur = get(ev, name)
  if cur == nil then return self end
  if getmetatable(cur) ~= List then
    self:removeListener(name, cur)
  else
    -- Newest first, as Node does.  `cur` is never modified, so it stays a
    -- valid snapshot while removeListener replaces the stored sequence.
    for i = #cur, 1, -1 do self:removeListener(name, cur[i]) end
  end
  return self
end

-- }==========================================================================


-- {==========================================================================
-- Introspection.

-- A fresh sequence of as(entry) for the stored entries of name.
local function collect(self, name, as)
  local ev = self._events
  local cur = ev and get(ev, name)
  if cur == nil then return {} end
  if getmetatable(cur) ~= List then return {as(cur)} end
  local out = {}
  for i = 1, #cur do out[i] = as(cur[i]) end
  return out
end

function EventEmitter:listeners(name)
  return collect(self, name, unwrap)
end

function EventEmitter:rawListeners(name)
  return collect(self, name, raw)
end

-- listenerCount(name[, listener]): with a listener, how many of the entries
-- are that function (once-wrapped or not), as in Node 20.
function EventEmitter:listenerCount(name, listener)
  local ev = self._events
  local cur = ev and get(ev, name)
  if cur == nil then return 0 end
  if getmetatable(cur) ~= List then
    if listener == nil or matches(cur, listener) then return 1 end
    return 0
  end
  if listener == nil then return #cur end
  local count = 0
  for i = 1, #cur do
    if matches(cur[i], listener) then count = count + 1 end
  end
  return count
end

function EventEmitter:eventNames()
  local ev = self._events
  local out = {}
  if ev then
    for i = 1, #ev do out[i] = ev[i] end
  end
  return out
end

function EventEmitter:setMaxListeners(n)
  errors.check_number(n, "setMaxListeners", 0)
  self._maxListeners = n
  return self
end

function EventEmitter:getMaxListeners()
  return self._maxListeners or EventEmitter.defaultMaxListeners
end

-- }==========================================================================


-- {==========================================================================
-- Construction and subclassing.

local function construct(cls, ...)
  return cls.new(...)
end

function EventEmitter.new()
  return setmetatable({}, EventEmitter)
end

local function extend(Base, Sub)
  Sub = Sub or {}
  for k, v in pairs(Base) do
    if type(v) == "function" and type(k) == "string" and rawget(Sub, k) == nil
        and k ~= "new" and k ~= "extend" and k:sub(1, 2) ~= "__" then
      Sub[k] = v
    end
  end
  Sub.__index = Sub
  if rawget(Sub, "new") == nil then
    Sub.new = function() return setmetatable({}, Sub) end
  end
  Sub.extend = function(SubSub) return extend(Sub, SubSub) end
  return setmetatable(Sub, {__index = Base, __call = construct})
end

-- EventEmitter.extend([Sub]) -> Sub, a subclass (see the top of the file).
function EventEmitter.extend(Sub)
  return extend(EventEmitter, Sub)
end

setmetatable(EventEmitter, {__call = construct})

-- }==========================================================================

return EventEmitter
