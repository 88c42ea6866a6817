-- lnet.tick: Node's process.nextTick queue.  Callbacks queued here run after
-- the current callback from C returns and before anything else pending: the
-- C trampoline (src/core.c, lnet__call) drains the queue after every call
-- into Lua, and lnet.run drains it before entering the loop.
local core = require("lnet.core")

local tick = {}

-- A ring of parallel arrays: no table per queued callback unless it has
-- arguments.
local fns, args = {}, {}
local head, tail = 1, 0

local unpack = table.unpack

-- args[i]: nil (no arguments), a table.pack of them, or for
-- tick.defer's single argument that argument itself, with one[i] true.
local one = {}

-- True while drain() runs: what is queued meanwhile runs in the same
-- drain, so C need not be told (a C call, then an empty drain: one more
-- protected call per connection).  Left true if a callback raises; C then
-- keeps its flag set and its next drain starts afresh.
local draining = false

local function drain()
  draining = true
  while head <= tail do
    local i = head
    local fn, a = fns[i], args[i]
    fns[i], args[i] = nil, nil
    head = i + 1
    if a == nil then fn()
    elseif one[i] then one[i] = nil fn(a)
    else fn(unpack(a, 1, a.n)) end
  end
  head, tail = 1, 0
  draining = false
end

core.set_tick(drain)

--- Runs the queued callbacks now, if any: for callers that run several
--- user callbacks in one call from C (immediates), so that ticks run between
--- them as in Node.
function tick.drain()
  if head <= tail then drain() end
end

--- Queues fn(...) to run before any other pending callback.
function tick.nextTick(fn, ...)
  if type(fn) ~= "function" then
    local errors = require("lnet.errors")
    error(errors.ERR_INVALID_ARG_TYPE("callback", "function", fn), 2)
  end
  if head > tail and not draining then
    core.tick_request()
  end
  tail = tail + 1
  fns[tail] = fn
  if select("#", ...) > 0 then
    args[tail] = table.pack(...)
  end
end

--- lnet's own code: nextTick(fn, a) for a function fn and a non-nil a,
--- without the checks and the table.pack (twice per connection).
function tick.defer(fn, a)
  if head > tail and not draining then
    core.tick_request()
  end
  local t = tail + 1
  tail = t
  fns[t], args[t], one[t] = fn, a, true
end

return tick
