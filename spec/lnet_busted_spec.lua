-- Checks lnet.busted, the shipped helper for asynchronous specs: run()
-- drives the loop to the end, fails on a timeout, turns an error raised in
-- a callback into the spec's failure with the callback's traceback, checks
-- must_call counts; cleanup() closes what a spec left open.  Failures are
-- caught with pcall here, so that the spec can look at them.
local async = require("lnet.busted")
local net = require("net")
local timers = require("timers")
local core = require("lnet.core")

describe("lnet.busted", function()
  after_each(function() async.cleanup() end)

  it("is what require('lnet.busted') returns before require('lnet')", function()
    -- This file requires lnet.busted first: the C loader found it.
    assert.is_function(async.run)
    assert.equal(require("lnet"), async.lnet)
  end)

  it("run() returns true once the loop has nothing left", function()
    local fired = false
    timers.setTimeout(function() fired = true end, 5)
    assert.is_true(async.run())
    assert.is_true(fired)
  end)

  it("run() drives a TCP round trip to the end", function()
    local got
    local server = net.createServer(function(s)
      s:on("data", function(d) s:write(d:upper()) end)
      s:on("end", function() s:done() end)
    end)
    server:listen(0, "127.0.0.1", async.must_call(function()
      local c = net.connect(server:address().port, "127.0.0.1")
      c:on("data", async.must_call(function(d)
        got = d
        c:done()
        server:close()
      end))
      c:write("ping")
    end))
    async.run(5000)
    assert.equal("PING", got)
  end)

  it("run() fails on a timeout and names the active handles", function()
    timers.setTimeout(function() end, 60000)
    local ok, err = pcall(async.run, 30)
    assert.is_false(ok)
    local msg = tostring(err)
    assert.matches("still busy after 30 ms", msg, 1, true)
    assert.matches("1 active handle", msg, 1, true)
    assert.matches("lnet_busted_spec.lua:%d+:", msg)
  end)

  it("run() reports a failed assert in a callback as a failure with the "
     .. "callback's traceback", function()
    local function in_callback() assert.equal(1, 2) end
    timers.setTimeout(function() in_callback() end, 1)
    local ok, err = pcall(async.run)
    assert.is_false(ok)
    local mt = debug.getmetatable(err)
    assert.equal("failure", mt and mt.__type)
    assert.matches("Expected objects to be equal", err.message, 1, true)
    assert.matches("stack traceback:", err.message, 1, true)
    assert.matches("in_callback", err.message, 1, true)
  end)

  it("run() reports error(string) in a callback with its position and "
     .. "traceback", function()
    timers.setTimeout(function() error("boom") end, 1)
    local ok, err = pcall(async.run)
    assert.is_false(ok)
    assert.matches("^[^\n]*lnet_busted_spec.lua:%d+: boom\n", tostring(err))
    assert.matches("stack traceback:", tostring(err), 1, true)
  end)

  it("run() keeps a non-string error value in .value", function()
    local e = setmetatable({ code = "EX" }, {
      __tostring = function() return "Error: custom" end })
    timers.setTimeout(function() error(e) end, 1)
    local ok, err = pcall(async.run)
    assert.is_false(ok)
    assert.equal(e, err.value)
    assert.matches("lnet_busted_spec.lua:%d+: Error: custom", tostring(err))
  end)

  it("the loop carries on after a callback error", function()
    local second = false
    timers.setTimeout(function() error("first") end, 1)
    timers.setTimeout(function() second = true end, 20)
    assert.is_false(pcall(async.run))
    async.run()
    assert.is_true(second)
  end)

  it("must_call fails run() when called too few times, naming its line",
     function()
    local f = async.must_call(function() end, 2)
    timers.setTimeout(f, 1)
    local ok, err = pcall(async.run)
    assert.is_false(ok)
    local msg = tostring(err)
    assert.matches("lnet_busted_spec.lua:%d+: called 1 time, expected 2", msg)
  end)

  it("must_call fails at once when called too many times", function()
    local f = async.must_call()
    timers.setTimeout(function() f() f() end, 1)
    local ok, err = pcall(async.run)
    assert.is_false(ok)
    assert.matches("called 2 times, expected 1", tostring(err), 1, true)
  end)

  it("must_call passes arguments and results through", function()
    local f = async.must_call(function(a, b) return a + b end)
    assert.equal(5, f(2, 3))
    async.run()
  end)

  it("must_call rejects bad arguments at once", function()
    assert.has_error(function() async.must_call(42) end)
    assert.has_error(function() async.must_call(nil, -1) end)
    assert.has_error(function() async.must_call(nil, 1.5) end)
  end)

  it("must_not_call fails the spec when called, with the message", function()
    timers.setTimeout(async.must_not_call("no timer please"), 1)
    local ok, err = pcall(async.run)
    assert.is_false(ok)
    assert.matches("must_not_call was called: no timer please",
      tostring(err), 1, true)
  end)

  it("cleanup() closes a server and sockets left open", function()
    local server = net.createServer()
    local connected, closed = false, false
    server:listen(0, "127.0.0.1", function()
      local c = net.connect(server:address().port, "127.0.0.1",
        function() connected = true end)
      c:on("close", function() closed = true end)
    end)
    for _ = 1, 100 do
      if connected then break end
      core.run("once")
    end
    assert.is_true(connected)
    assert.is_true(async.cleanup() >= 1)
    assert.is_true(closed)
    assert.is_false(core.alive())
    assert.equal(0, async.cleanup())
  end)
end)
