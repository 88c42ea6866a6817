-- timers (contract §4): ordering as Node, repeat, clear, ref/unref,
-- refresh, immediates after I/O, nextTick before anything else.
local h = require("spec.helper")
local lnet = require("lnet")
local timers = require("timers")
local tick = require("lnet.tick")

describe("timers", function()
  after_each(h.cleanup)

  it("fires timers of equal ms in creation order", function()
    local order = {}
    for i = 1, 5 do
      timers.setTimeout(function() order[#order + 1] = i end, 5)
    end
    h.run()
    assert.same({ 1, 2, 3, 4, 5 }, order)
  end)

  it("fires shorter timers first", function()
    local order = {}
    timers.setTimeout(function() order[#order + 1] = "b" end, 30)
    timers.setTimeout(function() order[#order + 1] = "a" end, 5)
    h.run()
    assert.same({ "a", "b" }, order)
  end)

  it("passes extra arguments, nils included", function()
    timers.setTimeout(h.must_call(function(...)
      assert.equal(3, select("#", ...))
      local a, b, c = ...
      assert.equal("A", a)
      assert.is_nil(b)
      assert.equal(3, c)
    end), 1, "A", nil, 3)
    h.run()
  end)

  it("treats ms < 1 or not a number as 1", function()
    timers.setTimeout(h.must_call(), -5)
    timers.setTimeout(h.must_call(), "soon")
    timers.setTimeout(h.must_call(), 0 / 0)
    h.run()
  end)

  it("raises ERR_INVALID_ARG_TYPE for a callback that is not a function", function()
    local ok, err = pcall(timers.setTimeout, "x", 1)
    assert.is_false(ok)
    assert.equal("ERR_INVALID_ARG_TYPE", err.code)
    assert.equal([[The "callback" argument must be of type function. Received type string ('x')]], err.message)
  end)

  it("clearTimeout cancels, and ignores nil and foreign values", function()
    local t = timers.setTimeout(h.must_not_call("cleared timer"), 5)
    timers.clearTimeout(t)
    timers.clearTimeout(nil)
    timers.clearTimeout({})
    timers.clearTimeout(t)
    h.run()
  end)

  it("setInterval repeats until cleared", function()
    local n = 0
    local iv
    iv = timers.setInterval(function()
      n = n + 1
      if n == 3 then timers.clearInterval(iv) end
    end, 2)
    h.run()
    assert.equal(3, n)
  end)

  it("an unref'd timer does not keep the loop alive", function()
    local t = timers.setTimeout(h.must_not_call("unref'd timer"), 200)
    assert.equal(t, t:unref())
    assert.is_false(t:hasRef())
    h.run()
    assert.equal(t, t:ref())
    assert.is_true(t:hasRef())
    timers.clearTimeout(t)
  end)

  it("an unref'd timer still fires while something else keeps the loop alive", function()
    timers.setTimeout(h.must_call(), 5):unref()
    timers.setTimeout(function() end, 40)
    h.run()
  end)

  it("refresh() restarts the countdown, and re-arms a fired timer", function()
    local fired = {}
    local t0 = lnet.now()
    local t = timers.setTimeout(function() fired[#fired + 1] = lnet.now() - t0 end, 30)
    timers.setTimeout(function() assert.equal(t, t:refresh()) end, 20)
    h.run()
    assert.equal(1, #fired)
    assert.is_true(fired[1] >= 45)
    t:refresh()
    h.run()
    assert.equal(2, #fired)
  end)

  it("refresh() of a cleared timer does nothing", function()
    local t = timers.setTimeout(h.must_not_call("cleared"), 5)
    timers.clearTimeout(t)
    t:refresh()
    h.run()
  end)

  it("runs immediates in order, those queued meanwhile on the next turn", function()
    local order = {}
    timers.setImmediate(function()
      order[#order + 1] = "i1"
      timers.setImmediate(function() order[#order + 1] = "i3" end)
      tick.nextTick(function() order[#order + 1] = "tick" end)
    end)
    timers.setImmediate(function(a) order[#order + 1] = a end, "i2")
    h.run()
    assert.same({ "i1", "tick", "i2", "i3" }, order)
  end)

  it("runs an immediate before a 0 ms timer when both are set from a timer callback", function()
    local order = {}
    timers.setTimeout(function()
      timers.setTimeout(function() order[#order + 1] = "timeout" end, 0)
      timers.setImmediate(function() order[#order + 1] = "immediate" end)
    end, 1)
    h.run()
    assert.same({ "immediate", "timeout" }, order)
  end)

  it("clearImmediate cancels", function()
    local im = timers.setImmediate(h.must_not_call("cleared immediate"))
    timers.setImmediate(h.must_call())
    timers.clearImmediate(im)
    h.run()
  end)

  it("an unref'd immediate does not keep the loop alive", function()
    local im = timers.setImmediate(function() end)
    im:unref()
    assert.is_false(im:hasRef())
    -- The loop has nothing referenced: run returns at once (the immediate
    -- may or may not have run, as in Node); it must not hang.
    h.run(1000)
    timers.clearImmediate(im)
  end)

  it("nextTick runs before timers and immediates", function()
    local order = {}
    timers.setImmediate(function() order[#order + 1] = "immediate" end)
    timers.setTimeout(function() order[#order + 1] = "timeout" end, 0)
    tick.nextTick(function() order[#order + 1] = "tick" end)
    h.run()
    assert.equal("tick", order[1])
    assert.equal(3, #order)
  end)

  it("nextTick callbacks queued by a nextTick run in the same drain", function()
    local order = {}
    timers.setTimeout(function()
      tick.nextTick(function()
        order[#order + 1] = "a"
        tick.nextTick(function() order[#order + 1] = "c" end)
      end)
      tick.nextTick(function() order[#order + 1] = "b" end)
      timers.setImmediate(function() order[#order + 1] = "immediate" end)
    end, 1)
    h.run()
    assert.same({ "a", "b", "c", "immediate" }, order)
  end)

  it("a fired timer nobody refers to is collected", function()
    local weak = setmetatable({}, { __mode = "v" })
    weak[1] = timers.setTimeout(function() end, 1)
    h.run()
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak[1])
  end)

  it("an active timer nobody refers to is kept alive and fires", function()
    timers.setTimeout(h.must_call(), 10)
    collectgarbage()
    collectgarbage()
    h.run()
  end)
end)

describe("timers set outside the loop", function()
  after_each(h.cleanup)

  it("count from the time they are set, not from the last run", function()
    timers.setTimeout(function() end, 1)
    lnet.run()
    -- Synchronous work between runs: libuv's cached loop time goes stale.
    local t0 = os.clock()
    while os.clock() - t0 < 0.15 do end
    local set_at = lnet.hrtime()
    local waited
    timers.setTimeout(h.must_call(function()
      waited = (lnet.hrtime() - set_at) / 1e6
    end), 100)
    h.run()
    assert.is_true(waited >= 95, ("fired after %.1f ms"):format(waited))
  end)
end)
