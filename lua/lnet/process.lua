-- lnet.process: the interpreter's `process` table and globals (contract
-- §4, §9).  Only the `lnet` interpreter installs these; stock lua5.4 users
-- require "timers" themselves.
local core = require("lnet.core")
local events = require("events")
local tick = require("lnet.tick")
local timers = require("timers")

local EventEmitter = events.EventEmitter

local process = {
  pid = core.getpid(),
  platform = "linux",
  exitCode = nil,
  version = core.version,
  versions = { lnet = core.version, uv = core.uv_version, lua = _VERSION },
  nextTick = tick.nextTick,
}

-- The emitter behind process.on & co.  `process` itself stays a plain table
-- whose functions are called with a dot; the colon form passes `process` as
-- the first argument, which is dropped.
local emitter = EventEmitter.new()

local signals = {}   -- name -> signal handle while it has listeners
local signal_owner = {}

function signal_owner.onsignal(_, signum)
  for name, num in pairs(core.signals) do
    if num == signum then
      emitter:emit(name, name, signum)
      return
    end
  end
end

local function watch_signal(name)
  if core.signals[name] and not signals[name] then
    local h = core.signal_new(signal_owner)
    h:start(core.signals[name])
    h:unref()  -- as Node: a signal listener keeps nothing alive
    signals[name] = h
  end
end

local function unwatch_signal(name)
  if signals[name] and emitter:listenerCount(name) == 0 then
    signals[name]:stop()
    signals[name]:close()
    signals[name] = nil
  end
end

local function method(name, after)
  return function(...)
    local first = ...
    if first == process then
      return method(name, after)(select(2, ...))
    end
    local ev = first
    emitter[name](emitter, ...)
    if after then after(ev) end
    return process
  end
end

process.on = method("on", watch_signal)
process.addListener = process.on
process.once = method("once", watch_signal)
process.prependListener = method("prependListener", watch_signal)
process.off = method("off", unwatch_signal)
process.removeListener = process.off
process.removeAllListeners = method("removeAllListeners", function(ev)
  for name in pairs(signals) do
    if ev == nil or ev == name then unwatch_signal(name) end
  end
end)

function process.emit(...)
  local first = ...
  if first == process then return process.emit(select(2, ...)) end
  return emitter:emit(...)
end

function process.listenerCount(...)
  local first = ...
  if first == process then return process.listenerCount(select(2, ...)) end
  return emitter:listenerCount(...)
end

local exiting = false

--- Runs the 'exit' listeners once with code (the interpreter calls this when
--- the loop is done; process.exit calls it before leaving).
function process._emit_exit(code)
  if exiting then return end
  exiting = true
  process.exitCode = code
  emitter:emit("exit", code)
end

local function exit_code(code)
  code = tonumber(code)
  if code == nil then return 0 end
  return math.floor(code) & 0xff
end

--- Ends the process now with code (default process.exitCode or 0), after the
--- 'exit' listeners.
function process.exit(...)
  local code = ...
  if code == process then code = select(2, ...) end
  if code == nil then code = process.exitCode end
  code = exit_code(code)
  process._emit_exit(code)
  io.stdout:flush()
  io.stderr:flush()
  os.exit(exit_code(process.exitCode or code), false)
end

process._exit_code = exit_code

local env = core.environ()
process.env = env

function process.hrtime()
  return core.hrtime()
end

function process.cwd()
  return os.getenv("PWD") or "."
end

--- Installs `process` and the timer functions as globals.
function process._install_globals(argv)
  process.argv = argv
  _G.process = process
  _G.setTimeout = timers.setTimeout
  _G.clearTimeout = timers.clearTimeout
  _G.setInterval = timers.setInterval
  _G.clearInterval = timers.clearInterval
  _G.setImmediate = timers.setImmediate
  _G.clearImmediate = timers.clearImmediate
end

return process
