-- The runtime (contract §2): lnet.run and its modes and timeout, the error
-- path (an error in a callback comes back out of lnet.run unchanged and the
-- loop stays usable), stop, now, hrtime, versions, and that stock lua5.4
-- can require the modules after require("lnet").
local h = require("spec.helper")
local lnet = require("lnet")
local timers = require("timers")

describe("lnet runtime", function()
  after_each(h.cleanup)

  it("makes net, events and timers requirable", function()
    assert.is_table(require("net"))
    assert.is_table(require("events"))
    assert.is_function(require("timers").setTimeout)
  end)

  it("has version strings", function()
    assert.matches("^%d+%.%d+%.%d+", lnet.version)
    assert.matches("^1%.%d+%.%d+", lnet.uv_version)
  end)

  it("run() drives timers and returns true when nothing is left", function()
    local fired = false
    timers.setTimeout(function() fired = true end, 1)
    assert.is_true(lnet.run())
    assert.is_true(fired)
  end)

  it("run() with nothing to do returns true at once", function()
    assert.is_true(lnet.run())
  end)

  it("re-raises the very value a callback raised, and can run again", function()
    local e = setmetatable({ code = "EBOOM" }, { __tostring = function() return "boom" end })
    local after = false
    timers.setTimeout(function() error(e) end, 1)
    timers.setTimeout(function() after = true end, 30)
    local ok, err = pcall(lnet.run)
    assert.is_false(ok)
    assert.equal(e, err)
    assert.equal("EBOOM", err.code)
    assert.is_false(after)
    assert.is_true(lnet.run())
    assert.is_true(after)
  end)

  it("runs fully after re-raising an error from a nextTick queued before it",
  function()
    local process = require("lnet.process")
    local fired = false
    process.nextTick(function() error("early", 0) end)
    local ok, err = pcall(lnet.run)
    assert.is_false(ok)
    assert.equal("early", err)
    timers.setTimeout(function() fired = true end, 1)
    assert.is_true(lnet.run())
    assert.is_true(fired)
  end)

  it("re-raises a string error unchanged (no position added)", function()
    timers.setTimeout(function() error("plain", 0) end, 1)
    local ok, err = pcall(lnet.run)
    assert.is_false(ok)
    assert.equal("plain", err)
  end)

  it("keeps a traceback of the original error", function()
    timers.setTimeout(function() error("deep") end, 1)
    pcall(lnet.run)
    assert.matches("stack traceback", lnet.traceback())
    assert.matches("runtime_spec", lnet.traceback())
  end)

  it("mode 'nowait' returns false while work remains", function()
    local t = timers.setTimeout(function() end, 1000)
    assert.is_false(lnet.run("nowait"))
    timers.clearTimeout(t)
    assert.is_true(lnet.run())
  end)

  it("mode 'once' runs one iteration", function()
    -- Timers count from the loop's time, which only a run updates (as in
    -- Node): after a long spec before this one, both would be due at once.
    lnet.run("nowait")
    local n = 0
    timers.setTimeout(function() n = n + 1 end, 1)
    -- Far off: a loaded machine may stall this process for seconds.
    local t = timers.setTimeout(function() n = n + 100 end, 60000)
    while n == 0 do lnet.run("once") end
    assert.equal(1, n)
    timers.clearTimeout(t)
    lnet.run()
  end)

  it("accepts {mode = ..., timeout = ms} and raises ETIMEDOUT naming the handles", function()
    local t = timers.setTimeout(function() end, 10000)
    local ok, err = pcall(lnet.run, { timeout = 20 })
    assert.is_false(ok)
    assert.equal("ETIMEDOUT", err.code)
    assert.matches("1 active handle", err.message)
    assert.equal(lnet.Error, getmetatable(err))
    timers.clearTimeout(t)
    assert.is_true(lnet.run({ timeout = 1000 }))
  end)

  it("rejects an unknown mode", function()
    local ok, err = pcall(lnet.run, "sometimes")
    assert.is_false(ok)
    assert.equal("ERR_INVALID_ARG_VALUE", err.code)
  end)

  it("refuses to run from inside a callback", function()
    local inner
    timers.setTimeout(function() inner = { pcall(lnet.run) } end, 1)
    lnet.run()
    assert.is_false(inner[1])
    assert.matches("already running", inner[2])
  end)

  it("stop() makes run return false with work remaining", function()
    local t = timers.setInterval(function() lnet.stop() end, 1)
    assert.is_false(lnet.run())
    timers.clearInterval(t)
    assert.is_true(lnet.run())
  end)

  it("now() is the loop time in ms and advances", function()
    local t0 = lnet.now()
    assert.is_number(t0)
    timers.setTimeout(function() end, 20)
    lnet.run()
    assert.is_true(lnet.now() >= t0 + 15)
  end)

  it("hrtime() is an integer in nanoseconds", function()
    local a = lnet.hrtime()
    local b = lnet.hrtime()
    assert.equal("integer", math.type(a))
    assert.is_true(b >= a)
  end)
end)
