-- timers: Node's setTimeout/setInterval/setImmediate and their clear*
-- functions (contract §4).
--
-- A Timeout owns one libuv timer (src/timer.c), anchored by C only while it
-- is active: a fired or cleared Timeout nobody refers to is collected.
-- libuv fires timers of equal due time in the order they were started, which
-- gives Node's ordering.  Immediates are a linked list run from a libuv check
-- handle after I/O (src/core.c); those queued while the list runs wait for
-- the next turn, as in Node.
local core = require("lnet.core")
local errors = require("lnet.errors")
local tick = require("lnet.tick")

local timers = {}

local TIMEOUT_MAX = 2147483647
local unpack = table.unpack

local function check_callback(fn)
  if type(fn) ~= "function" then
    error(errors.ERR_INVALID_ARG_TYPE("callback", "function", fn), 3)
  end
end

-- §4: ms < 1 or not a number counts as 1 (Node also treats values over
-- TIMEOUT_MAX as 1).
local function coerce_ms(ms)
  ms = tonumber(ms)
  if ms == nil or ms ~= ms or ms < 1 or ms > TIMEOUT_MAX then
    return 1
  end
  return math.floor(ms)
end

local function pack_args(...)
  if select("#", ...) == 0 then return nil end
  return table.pack(...)
end

-- Calls fn with the arguments pack_args kept (none: no table was made).
local function invoke(fn, a)
  if a then
    fn(unpack(a, 1, a.n))
  else
    fn()
  end
end


-- {======================================================================
-- Timeout
-- =======================================================================

local Timeout = {}
Timeout.__index = Timeout
Timeout.__name = "Timeout"
timers.Timeout = Timeout

-- Called by C when the libuv timer fires.
function Timeout:ontimeout()
  if not self._repeat then
    self._active = false
  end
  invoke(self._callback, self._args)
end

local function new_timeout(fn, ms, rep, ...)
  local h = core.timer_new(nil)
  local t = setmetatable({
    _handle = h, _callback = fn, _args = pack_args(...), _ms = ms,
    _repeat = rep and ms or nil, _active = true,
  }, Timeout)
  h:set_owner(t)
  h:start(ms, rep and ms or 0)
  return t
end

--- Stops the timer from keeping the loop alive.
function Timeout:unref()
  if not self._destroyed then self._handle:unref() end
  self._unrefed = true
  return self
end

function Timeout:ref()
  if not self._destroyed then self._handle:ref() end
  self._unrefed = nil
  return self
end

function Timeout:hasRef()
  return not self._unrefed
end

--- Restarts the timer from now with its original duration; a timer that
--- has fired is scheduled again (as Node).
function Timeout:refresh()
  if not self._destroyed then
    self._active = true
    self._handle:start(self._ms, self._repeat or 0)
  end
  return self
end

function Timeout:close()
  timers.clearTimeout(self)
  return self
end

function Timeout:__tostring()
  return ("Timeout (%d ms)%s"):format(self._ms, self._repeat and " repeat" or "")
end

function timers.setTimeout(fn, ms, ...)
  check_callback(fn)
  return new_timeout(fn, coerce_ms(ms), false, ...)
end

function timers.setInterval(fn, ms, ...)
  check_callback(fn)
  return new_timeout(fn, coerce_ms(ms), true, ...)
end

--- Cancels a Timeout (from setTimeout or setInterval); anything else,
--- nil included, is ignored as in Node.
function timers.clearTimeout(t)
  if getmetatable(t) == Timeout and not t._destroyed then
    t._destroyed = true
    t._active = false
    t._handle:stop()
    t._handle:close()
  end
end

timers.clearInterval = timers.clearTimeout

-- }======================================================================


-- {======================================================================
-- Immediate
-- =======================================================================

local Immediate = {}
Immediate.__index = Immediate
Immediate.__name = "Immediate"
timers.Immediate = Immediate

local first, last       -- the queue, a linked list through ._next
local pending, refed = 0, 0

local function update_state()
  core.immediate_state(pending > 0, refed > 0)
end

-- Runs the immediates queued before this turn's check phase; an error in
-- one leaves the rest queued for the next turn.
local function run_immediates()
  local stop = last
  while first do
    local im = first
    first = im._next
    if first == nil then last = nil end
    im._next = nil
    im._queued = false
    pending = pending - 1
    if not im._unrefed then refed = refed - 1 end
    if pending == 0 or refed == 0 then update_state() end
    invoke(im._callback, im._args)
    tick.drain()
    if im == stop then break end
  end
end

core.set_immediate(run_immediates)

function timers.setImmediate(fn, ...)
  check_callback(fn)
  local im = setmetatable({ _callback = fn, _args = pack_args(...),
                            _queued = true }, Immediate)
  if last then last._next = im else first = im end
  last = im
  pending = pending + 1
  refed = refed + 1
  if pending == 1 or refed == 1 then update_state() end
  return im
end

function timers.clearImmediate(im)
  if getmetatable(im) ~= Immediate or not im._queued then return end
  -- Unlink (the list is short-lived; a walk is fine).
  local prev, cur = nil, first
  while cur and cur ~= im do prev, cur = cur, cur._next end
  if cur == nil then return end
  if prev then prev._next = im._next else first = im._next end
  if last == im then last = prev end
  im._next = nil
  im._queued = false
  pending = pending - 1
  if not im._unrefed then refed = refed - 1 end
  update_state()
end

function Immediate:ref()
  if self._unrefed then
    self._unrefed = nil
    if self._queued then refed = refed + 1; update_state() end
  end
  return self
end

function Immediate:unref()
  if not self._unrefed then
    self._unrefed = true
    if self._queued then refed = refed - 1; update_state() end
  end
  return self
end

function Immediate:hasRef()
  return not self._unrefed
end

-- }======================================================================

return timers
