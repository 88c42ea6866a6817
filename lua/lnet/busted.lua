-- lnet.busted: asynchronous specs with busted, which has no async mode.
--
--   local async = require("lnet.busted")  -- first: it loads lnet.so
--   local net = require("net")
--
--   describe("echo", function()
--     after_each(async.cleanup)
--     it("echoes", function()
--       local server = net.createServer(function(s) s:pipe(s) end)
--       server:listen(0, "127.0.0.1", async.must_call(function()
--         local c = net.connect(server:address().port, "127.0.0.1")
--         c:on("data", async.must_call(function(d)
--           assert.equal("hi", d)
--           c:destroy()
--           server:close()
--         end))
--         c:write("hi")
--       end))
--       async.run()
--     end)
--   end)
--
-- A spec sets up its work, then calls run(): the loop runs until nothing
-- referenced is left.  A spec fails, with a message that says where, when
-- the loop is still busy at the timeout, when a callback raises (the
-- failure carries the callback's traceback, not run()'s), or when a
-- must_call function was not called as often as it should have been.
-- Works in stock lua5.4 (require("lnet.busted") loads lnet.so) and in
-- any state lnet_openlibs opened.
local lnet = require("lnet")
local core = require("lnet.core")

local M = { lnet = lnet }

-- must_call records made since the last run() or cleanup().
local records = {}

-- "file:line" of the Lua function `level` levels above the caller of
-- where, skipping C functions (pcall) in between.
local function where(level)
  level = level + 1
  local info = debug.getinfo(level, "Sl")
  while info ~= nil and info.what == "C" do
    level = level + 1
    info = debug.getinfo(level, "Sl")
  end
  if info == nil then return "?" end
  return ("%s:%d"):format(info.short_src, info.currentline or 0)
end

-- Prefixes msg with a location unless it starts with one already (as
-- error("x") messages do), so that busted names the spec's line.
local function located(msg, at)
  if msg:match("^[^\n]-:%d+: ") then return msg end
  return at .. ": " .. msg
end

-- Raises msg as a failure of the running spec: busted.fail when busted is
-- running (an assertion-style failure), a plain error otherwise.
local function fail(msg)
  local busted = package.loaded.busted
  local bfail = type(busted) == "table" and busted.fail
  if type(bfail) == "function" then bfail(msg, 0) end
  error(msg, 0)
end

local function describe(v)
  if type(v) == "string" then return v end
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__tostring then return tostring(v) end
  if type(v) == "table" and type(v.message) == "string" then
    return (v.code and (v.code .. ": ") or "") .. v.message
  end
  return ("(error object is a %s value)"):format(type(v))
end

-- The callback's part of its traceback: without busted's and luassert's
-- frames, and without what is below the callback (libuv, core.run, this
-- file, the spec that called run), which busted shows anyway.
local function trim(tb)
  if type(tb) ~= "string" then return "" end
  local out = {}
  for line in tb:gmatch("[^\n]+") do
    if line:find("lnet/busted.lua:", 1, true) then break end
    if not (line:find("/luassert/", 1, true) or line:find("/busted/", 1, true)
            or line:find("^%s*%[C%]: in function 'error'")) then
      out[#out + 1] = line
    end
  end
  while #out > 0 and out[#out]:find("^%s*%[C%]") do out[#out] = nil end
  return "\n" .. table.concat(out, "\n")
end

-- An error a callback raised: re-raised as this spec's failure, with the
-- traceback of the callback appended.  A busted failure (a failed assert
-- in a callback) stays a failure; anything else is an error, as if raised
-- in the spec itself.  Values other than strings are kept in .value.
local function raise_callback_error(value, tb, at)
  local mt = debug.getmetatable(value)
  if type(value) == "table" and type(mt) == "table" and
     mt.__type == "failure" then
    value.message = tostring(value.message) .. trim(tb)
    error(value, 0)
  elseif type(value) == "table" and type(mt) == "table" and
         mt.__type == "pending" then
    error(value, 0)
  elseif type(value) == "string" then
    error(located(value, at) .. trim(tb), 0)
  end
  local text = located(describe(value), at) .. trim(tb)
  error(setmetatable({ value = value, traceback = tb }, {
    __tostring = function() return text end,
  }), 0)
end

-- Lines about the must_call records whose count is not what was asked.
local function unmet(recs)
  local out = {}
  for _, r in ipairs(recs) do
    if r.calls ~= r.n then
      out[#out + 1] = ("\n\tfunction made by must_call at %s: called %d "
        .. "time%s, expected %d"):format(r.at, r.calls,
        r.calls == 1 and "" or "s", r.n)
    end
  end
  return out
end

--- Returns a function that calls fn (if given) with its arguments and
--- returns what fn returns.  It must be called exactly n times (default 1)
--- by the end of the next run(): a call too many fails at once; too few
--- fails the spec when run() ends.  Failures name the line of must_call.
function M.must_call(fn, n)
  if fn ~= nil and type(fn) ~= "function" then
    error("lnet.busted.must_call: fn must be a function or nil", 2)
  end
  if n == nil then n = 1 end
  if math.type(n) ~= "integer" or n < 0 then
    error("lnet.busted.must_call: n must be an integer >= 0", 2)
  end
  local rec = { n = n, calls = 0, at = where(2) }
  records[#records + 1] = rec
  return function(...)
    rec.calls = rec.calls + 1
    if rec.calls > rec.n then
      fail(("%s: function made by must_call was called %d times, "
        .. "expected %d"):format(rec.at, rec.calls, rec.n))
    end
    if fn then return fn(...) end
  end
end

--- Returns a function that fails the spec if it is ever called.
function M.must_not_call(msg)
  local at = where(2)
  return function()
    fail(("%s: function made by must_not_call was called%s"):format(at,
      msg ~= nil and (": " .. tostring(msg)) or ""))
  end
end

--- Runs the loop until nothing referenced is left (a listening server, a
--- connecting or open socket, a pending timer keep it going), then checks
--- the must_call counts.  Fails the spec if the loop is still busy after
--- timeout_ms (default 5000) or if a callback raised.  Returns true.
--- Call it once per spec, after setting up the work.  After a failure the
--- loop may still hold the spec's handles: cleanup() closes them.
function M.run(timeout_ms)
  if timeout_ms == nil then timeout_ms = 5000 end
  if math.type(timeout_ms) ~= "integer" or timeout_ms < 0 then
    error("lnet.busted.run: timeout_ms must be an integer >= 0", 2)
  end
  local at = where(2)
  -- core.run (what lnet.run wraps) tells a callback's error, with its
  -- traceback, from the timeout, without parsing error messages.
  local status, value, tb = core.run("default", timeout_ms)
  local recs = records
  records = {}
  if status == "error" then
    raise_callback_error(value, tb, at)
  elseif status == "timeout" then
    fail(("%s: lnet.busted: the loop was still busy after %d ms "
      .. "(%d active handle%s)%s"):format(at, timeout_ms, value,
      value == 1 and "" or "s", table.concat(unmet(recs))))
  end
  local bad = unmet(recs)
  if #bad > 0 then
    fail(("%s: lnet.busted: %d must_call function%s not called as "
      .. "expected:%s"):format(at, #bad, #bad == 1 and " was" or "s were",
      table.concat(bad)))
  end
  return true
end

--- Closes every handle still open (servers, sockets, timers: their 'close'
--- events run) and runs the loop until they are closed; forgets pending
--- must_call records.  Meant for after_each, so that one spec's leftovers
--- never reach the next.  Returns how many active handles were left over
--- (0 after a spec that cleaned up after itself).
function M.cleanup()
  records = {}
  local left = core.active_handles()
  -- 'close' listeners may open new handles: a bounded number of rounds.
  for _ = 1, 10 do
    core.close_all()
    local status = core.run("nowait")
    if status == true or (status ~= false and not core.alive()) then break end
  end
  return left
end

return M
