-- lnet: the runtime (contract §2).  require("lnet") in stock lua5.4 loads
-- the C module, which also makes "net", "events" and "timers" requirable.
local core = require("lnet.core")
local errors = require("lnet.errors")

local lnet = {
  version = core.version,
  uv_version = core.uv_version,
  Error = errors.Error,
}

local modes = { default = true, once = true, nowait = true }

--- Drives the event loop (§2).  mode: "default" | "once" | "nowait", or a
--- table {mode = ..., timeout = ms}.  Returns true when nothing is left,
--- false when stopped with work remaining.  An error raised by a callback
--- is re-raised unchanged.
function lnet.run(mode)
  local timeout
  if type(mode) == "table" then
    timeout = mode.timeout
    mode = mode.mode
  end
  mode = mode or "default"
  if not modes[mode] then
    error(errors.ERR_INVALID_ARG_VALUE("mode", mode,
      "must be one of: 'default', 'once', 'nowait'"), 2)
  end
  if timeout ~= nil then
    errors.check_integer(timeout, "timeout", 0)
  end
  local status, value, extra = core.run(mode, timeout)
  if status == "error" then
    error(value, 0)
  elseif status == "timeout" then
    error(errors.new("Error", "ETIMEDOUT",
      ("lnet.run timed out after %d ms with %d active handle%s"):format(
        timeout, value, value == 1 and "" or "s"), { active = value }), 2)
  end
  return status
end

lnet.stop = core.stop
lnet.now = core.now
lnet.hrtime = core.hrtime

--- The traceback of the last error a callback raised (for reports).
lnet.traceback = core.traceback

return lnet
