-- spec/helper.lua: what every spec uses to drive the loop (busted has no
-- asynchronous mode).  Specs call `h.run()` after setting up their work:
-- it runs the loop until nothing is left, fails the spec if that takes
-- longer than the timeout, re-raises an error raised in a callback, and
-- checks the counts registered with `h.must_call`.
local lnet = require("lnet")
local core = require("lnet.core")

local H = { lnet = lnet }

local expected = {}   -- must_call records of the current spec

--- Returns a function that calls fn (if any) and must be called exactly n
--- times (default 1) by the end of the next H.run.
function H.must_call(fn, n)
  local rec = { n = n or 1, calls = 0, where = debug.traceback("", 2):match("\n\t([^\n]*)") }
  expected[#expected + 1] = rec
  return function(...)
    rec.calls = rec.calls + 1
    if fn then return fn(...) end
  end
end

--- A function that fails the spec if it is ever called.
function H.must_not_call(msg)
  return function()
    error("must_not_call: " .. (msg or "called"), 2)
  end
end

local function check_calls()
  local list = expected
  expected = {}
  for _, rec in ipairs(list) do
    if rec.calls ~= rec.n then
      error(("must_call at %s: expected %d call(s), got %d"):format(
        rec.where or "?", rec.n, rec.calls), 0)
    end
  end
end

--- Runs the loop until nothing referenced is left (at most timeout ms,
--- default 5000), then checks must_call counts.
function H.run(timeout)
  local ok, err = pcall(lnet.run, { timeout = timeout or 5000 })
  if not ok then
    expected = {}
    if type(err) == "table" and err.code == "ETIMEDOUT" then
      H.cleanup()
      error("loop still busy after the spec's timeout: " .. tostring(err.message), 0)
    end
    error(err, 0)
  end
  check_calls()
  return err
end

--- Closes whatever a spec left open and lets the loop finish it.
function H.cleanup()
  expected = {}
  core.close_all()
  for _ = 1, 10 do
    local ok = pcall(lnet.run, { mode = "nowait" })
    if ok and not core.alive() then break end
  end
end

--- Runs `lnet` (the built interpreter) with a shell command line; returns
--- exit code, stdout, stderr.
function H.lnet_bin()
  return os.getenv("LNET_BIN") or "build/lnet"
end

local tmpn = 0
function H.tmpname(suffix)
  tmpn = tmpn + 1
  return ("%s/lnet-spec-%d-%d%s"):format(os.getenv("TMPDIR") or "/tmp",
    core.getpid(), tmpn, suffix or "")
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  os.remove(path)
  return s
end

--- Runs a shell command; returns exit code, stdout, stderr.
function H.sh(cmd, stdin)
  local out, err = H.tmpname(".out"), H.tmpname(".err")
  local full = ("( %s ) >%s 2>%s"):format(cmd, out, err)
  if stdin then
    local inp = H.tmpname(".in")
    local f = assert(io.open(inp, "wb"))
    f:write(stdin)
    f:close()
    full = full .. " <" .. inp
    local _, _, code = os.execute(full)
    os.remove(inp)
    return code, slurp(out), slurp(err)
  end
  local _, _, code = os.execute(full .. " </dev/null")
  return code, slurp(out), slurp(err)
end

--- Quotes s for the shell.
function H.q(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

return H
