-- events: Node 20's EventEmitter semantics (contract §3).
-- Every expectation below was first observed in node 20 with a small script
-- (order of calls, 'newListener'/'removeListener' arguments, which entry
-- off() removes, warning text, error values and messages).

local events = require("events")
local errors = require("lnet.errors")
local EventEmitter = events.EventEmitter

-- Listener factory that records its calls into `log`.
local function recorder(log, tag)
  return function(...)
    local args = {tag}
    for i = 1, select("#", ...) do args[#args + 1] = tostring((select(i, ...))) end
    log[#log + 1] = table.concat(args, " ")
  end
end

-- Runs fn with io.stderr replaced; returns everything written to it.
local function capture_stderr(fn)
  local real, out = io.stderr, {}
  io.stderr = {write = function(self, ...)
    for i = 1, select("#", ...) do out[#out + 1] = tostring((select(i, ...))) end
    return self
  end}
  local ok, err = pcall(fn)
  io.stderr = real
  assert(ok, err)
  return table.concat(out)
end

describe("events module", function()
  it("is the EventEmitter class itself, as in Node", function()
    assert.are.equal(EventEmitter, events)
  end)

  it("constructs with new(), by calling the class and by calling the module", function()
    for _, e in ipairs({EventEmitter.new(), EventEmitter(), events()}) do
      assert.are.equal(EventEmitter, getmetatable(e))
      assert.is_true(e:on("x", function() end):emit("x"))
    end
  end)

  it("gives an instance no storage until a listener is added", function()
    local e = EventEmitter.new()
    assert.are.same({}, e)
    e:emit("x")
    e:listenerCount("x")
    assert.is_nil(next(e))
  end)

  it("gives the storage back when the last listener is removed", function()
    local e, f = EventEmitter.new(), function() end
    e:on("x", f):on("y", f)
    e:off("x", f):off("y", f)
    assert.is_nil(next(e))
  end)
end)

describe("EventEmitter:emit", function()
  it("calls listeners in the order they were added", function()
    local e, log = EventEmitter.new(), {}
    e:on("x", recorder(log, "a")):on("x", recorder(log, "b")):on("x", recorder(log, "c"))
    e:emit("x")
    assert.are.same({"a", "b", "c"}, log)
  end)

  it("passes every argument through, nils included", function()
    local e, got = EventEmitter.new(), nil
    e:on("x", function(...) got = table.pack(...) end)
    e:emit("x", 1, nil, 3, nil)
    assert.are.same({n = 4, 1, nil, 3, nil}, got)
  end)

  it("passes no self/emitter argument to listeners (§1.4)", function()
    local e, n = EventEmitter.new(), nil
    e:on("x", function(...) n = select("#", ...) end)
    e:emit("x", "only")
    assert.are.equal(1, n)
  end)

  it("returns true when there were listeners and false otherwise", function()
    local e = EventEmitter.new():on("x", function() end)
    assert.is_true(e:emit("x"))
    assert.is_false(e:emit("y"))
    assert.is_false(EventEmitter.new():emit("y"))
  end)

  it("still calls a listener removed during the emit (the emit keeps its snapshot)", function()
    local e, log = EventEmitter.new(), {}
    local second = recorder(log, "second")
    e:on("x", function() log[#log + 1] = "first"; e:off("x", second) end)
    e:on("x", second)
    e:emit("x")
    assert.are.same({"first", "second"}, log)
    e:emit("x")
    assert.are.same({"first", "second", "first"}, log)
  end)

  it("does not call a listener added during the emit until the next emit", function()
    local e, log, added = EventEmitter.new(), {}, false
    e:on("x", function()
      log[#log + 1] = "g1"
      if not added then added = true; e:on("x", recorder(log, "g3")) end
    end)
    e:on("x", recorder(log, "g2"))
    e:emit("x")
    assert.are.same({"g1", "g2"}, log)
    e:emit("x")
    assert.are.same({"g1", "g2", "g1", "g2", "g3"}, log)
  end)

  it("keeps the snapshot when a listener prepends another one", function()
    local e, log, done = EventEmitter.new(), {}, false
    e:on("x", function()
      log[#log + 1] = "a"
      if not done then done = true; e:prependListener("x", recorder(log, "c")) end
    end)
    e:on("x", recorder(log, "b"))
    e:emit("x")
    assert.are.same({"a", "b"}, log)
    e:emit("x")
    assert.are.same({"a", "b", "c", "a", "b"}, log)
  end)

  it("keeps the snapshot when a single listener adds another one", function()
    local e, log = EventEmitter.new(), {}
    e:on("x", function() log[#log + 1] = "a"; e:on("x", recorder(log, "b")) end)
    e:emit("x")
    assert.are.same({"a"}, log)
  end)

  it("keeps the snapshot when removeAllListeners is called during the emit", function()
    local e, log = EventEmitter.new(), {}
    e:on("x", function() log[#log + 1] = "a"; e:removeAllListeners() end)
    e:on("x", recorder(log, "b"))
    assert.is_true(e:emit("x"))
    assert.are.same({"a", "b"}, log)
    assert.is_false(e:emit("x"))
  end)

  it("lets a listener error propagate unchanged and keeps the emitter usable", function()
    local e, boom = EventEmitter.new(), {code = "BOOM"}
    e:on("x", function() error(boom) end)
    local ok, err = pcall(e.emit, e, "x")
    assert.is_false(ok)
    assert.are.equal(boom, err)
    assert.are.equal(1, e:listenerCount("x"))
  end)
end)

describe("EventEmitter 'error' event", function()
  it("raises the very error table when nobody listens", function()
    local e = EventEmitter.new()
    local err = errors.new("Error", "ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1",
      {errno = -111, port = 1})
    local ok, got = pcall(e.emit, e, "error", err)
    assert.is_false(ok)
    assert.are.equal(err, got)
    assert.are.equal(-111, got.errno)
  end)

  it("raises a plain table unchanged too (Lua's structured error value)", function()
    local e, t = EventEmitter.new(), {code = "X"}
    local ok, got = pcall(e.emit, e, "error", t)
    assert.is_false(ok)
    assert.are.equal(t, got)
  end)

  it("raises ERR_UNHANDLED_ERROR with the value as context for a string", function()
    local ok, got = pcall(EventEmitter.new().emit, EventEmitter.new(), "error", "boom")
    assert.is_false(ok)
    assert.are.equal(errors.Error, getmetatable(got))
    assert.are.equal("ERR_UNHANDLED_ERROR", got.code)
    assert.are.equal("Unhandled error. ('boom')", got.message)
    assert.are.equal("boom", got.context)
    assert.are.equal("Error [ERR_UNHANDLED_ERROR]: Unhandled error. ('boom')", tostring(got))
  end)

  it("raises ERR_UNHANDLED_ERROR naming nil when emitted without a value", function()
    local e = EventEmitter.new()
    local ok, got = pcall(e.emit, e, "error")
    assert.is_false(ok)
    assert.are.equal("Unhandled error. (nil)", got.message)
  end)

  it("raises ERR_UNHANDLED_ERROR for a number", function()
    local e = EventEmitter.new()
    local ok, got = pcall(e.emit, e, "error", 5)
    assert.is_false(ok)
    assert.are.equal("Unhandled error. (5)", got.message)
    assert.are.equal(5, got.context)
  end)

  it("raises even when the emitter has listeners for other events", function()
    local e = EventEmitter.new():on("data", function() end)
    local err = errors.new("Error", "EPIPE", "write EPIPE")
    local ok, got = pcall(e.emit, e, "error", err)
    assert.is_false(ok)
    assert.are.equal(err, got)
  end)

  it("calls the 'error' listener instead of raising when there is one", function()
    local e, got = EventEmitter.new(), nil
    local err = errors.new("Error", "EPIPE", "write EPIPE")
    e:on("error", function(x) got = x end)
    assert.is_true(e:emit("error", err))
    assert.are.equal(err, got)
  end)
end)

describe("EventEmitter:once", function()
  it("calls the listener once", function()
    local e, n = EventEmitter.new(), 0
    e:once("x", function() n = n + 1 end)
    assert.is_true(e:emit("x"))
    assert.is_false(e:emit("x"))
    assert.are.equal(1, n)
  end)

  it("does not call the listener again when it re-emits its own event", function()
    local e, n = EventEmitter.new(), 0
    e:once("x", function() n = n + 1; e:emit("x") end)
    e:emit("x")
    assert.are.equal(1, n)
  end)

  it("keeps its place among other listeners", function()
    local e, log = EventEmitter.new(), {}
    e:on("x", recorder(log, "a")):once("x", recorder(log, "b")):on("x", recorder(log, "c"))
    e:emit("x", 1)
    e:emit("x", 2)
    assert.are.same({"a 1", "b 1", "c 1", "a 2", "c 2"}, log)
  end)

  it("passes the arguments through", function()
    local e, got = EventEmitter.new(), nil
    e:once("x", function(...) got = table.pack(...) end)
    e:emit("x", "a", nil, "c")
    assert.are.same({n = 3, "a", nil, "c"}, got)
  end)

  it("can be removed with off() by the original function", function()
    local e, n = EventEmitter.new(), 0
    local f = function() n = n + 1 end
    e:once("x", f):off("x", f)
    assert.is_false(e:emit("x"))
    assert.are.equal(0, n)
  end)

  it("is removed by off() among other listeners", function()
    local e, log = EventEmitter.new(), {}
    local f = recorder(log, "once")
    e:once("x", f):on("x", recorder(log, "b")):off("x", f)
    e:emit("x")
    assert.are.same({"b"}, log)
    assert.are.equal(1, e:listenerCount("x"))
  end)
end)

describe("EventEmitter prepend", function()
  it("prependListener puts the listener first", function()
    local e, log = EventEmitter.new(), {}
    e:on("x", recorder(log, "a")):prependListener("x", recorder(log, "b"))
    e:emit("x")
    assert.are.same({"b", "a"}, log)
  end)

  it("prependOnceListener puts a once-listener first", function()
    local e, log = EventEmitter.new(), {}
    e:on("x", recorder(log, "a"))
    e:prependOnceListener("x", recorder(log, "b"))
    e:prependListener("x", recorder(log, "c"))
    e:emit("x")
    e:emit("x")
    assert.are.same({"c", "b", "a", "c", "a"}, log)
  end)

  it("prependListener works on a name with no listeners", function()
    local e, log = EventEmitter.new(), {}
    e:prependListener("x", recorder(log, "a"))
    e:emit("x")
    assert.are.same({"a"}, log)
  end)
end)

describe("EventEmitter:removeListener / off", function()
  it("off is removeListener", function()
    assert.are.equal(EventEmitter.removeListener, EventEmitter.off)
  end)

  it("removes the last matching occurrence, as Node does", function()
    local e, log = EventEmitter.new(), {}
    local f1, f2 = recorder(log, "1"), recorder(log, "2")
    e:on("x", f1):on("x", f2):on("x", f1)
    e:off("x", f1)
    e:emit("x")
    assert.are.same({"1", "2"}, log)
  end)

  it("ignores a function that is not registered", function()
    local e, log = EventEmitter.new(), {}
    e:on("x", recorder(log, "a"))
    e:off("x", function() end):off("nope", function() end)
    e:emit("x")
    assert.are.same({"a"}, log)
  end)

  it("removes a single listener and forgets the name", function()
    local e, f = EventEmitter.new(), function() end
    e:on("x", f):on("y", f)
    e:off("x", f)
    assert.are.same({"y"}, e:eventNames())
    assert.is_false(e:emit("x"))
  end)

  it("accepts the raw once-wrapper as Node accepts the bound wrapper", function()
    local e = EventEmitter.new()
    e:once("x", function() end):on("x", function() end)
    e:off("x", e:rawListeners("x")[1])
    assert.are.equal(1, e:listenerCount("x"))
    assert.are.equal("function", type(e:rawListeners("x")[1]))
  end)
end)

describe("'newListener' and 'removeListener' events", function()
  it("emits 'newListener' before adding, with the name and the function", function()
    local e, seen = EventEmitter.new(), {}
    local f = function() end
    e:on("newListener", function(name, fn)
      seen[#seen + 1] = {name, fn, e:listenerCount(name)}
    end)
    e:on("x", f)
    assert.are.same({{"x", f, 0}}, seen)
  end)

  it("does not emit 'newListener' for the 'newListener' listener itself", function()
    local e, names = EventEmitter.new(), {}
    e:on("newListener", function(name) names[#names + 1] = name end)
    e:on("removeListener", function() end)
    assert.are.same({"removeListener"}, names)
  end)

  it("passes the original function, not the wrapper, for once listeners", function()
    local e, got = EventEmitter.new(), {}
    local f = function() end
    e:on("newListener", function(_, fn) got[#got + 1] = fn end)
    e:once("x", f):prependOnceListener("x", f)
    assert.are.same({f, f}, got)
    assert.are.equal(f, got[1])
  end)

  it("puts a listener added from 'newListener' before the one being added", function()
    local e, log, done = EventEmitter.new(), {}, false
    e:on("newListener", function(name)
      if name == "x" and not done then
        done = true
        e:on("x", recorder(log, "inner"))
      end
    end)
    e:on("x", recorder(log, "outer"))
    e:emit("x")
    assert.are.same({"inner", "outer"}, log)
  end)

  it("emits 'removeListener' after removing, with the name and the function", function()
    local e, seen = EventEmitter.new(), {}
    local f = function() end
    e:on("x", f):on("x", function() end)
    e:on("removeListener", function(name, fn)
      seen[#seen + 1] = {name, fn, e:listenerCount(name)}
    end)
    e:off("x", f)
    assert.are.same({{"x", f, 1}}, seen)
  end)

  it("reports the original function when a once listener is removed by off()", function()
    local e, got = EventEmitter.new(), {}
    local a, b = function() end, function() end
    e:on("removeListener", function(_, fn) got[#got + 1] = fn end)
    e:once("x", a):on("x", b):off("x", a)
    assert.are.equal(a, got[1])
  end)

  it("reports the original function when a lone once listener fires", function()
    local e, got = EventEmitter.new(), {}
    local a = function() end
    e:on("removeListener", function(name, fn) got[#got + 1] = {name, fn} end)
    e:once("y", a):emit("y")
    assert.are.same({{"y", a}}, got)
  end)

  it("reports the wrapper when a once listener fires among others (as Node)", function()
    local e, got = EventEmitter.new(), {}
    local a = function() end
    e:on("removeListener", function(_, fn) got[#got + 1] = fn end)
    e:once("x", a):on("x", function() end)
    local wrapper = e:rawListeners("x")[1]
    e:emit("x")
    assert.are.equal(wrapper, got[1])
    assert.are.equal(a, got[1].listener)
  end)

  it("removeAllListeners(name) reports newest first, wrappers as Node does", function()
    local e, got = EventEmitter.new(), {}
    local a, b, c = function() end, function() end, function() end
    e:on("x", a):once("x", b):on("x", c)
    local wb = e:rawListeners("x")[2]
    e:on("removeListener", function(name, fn) got[#got + 1] = {name, fn} end)
    e:removeAllListeners("x")
    assert.are.same({{"x", c}, {"x", wb}, {"x", a}}, got)
    assert.are.same({"removeListener"}, e:eventNames())
  end)

  it("removeAllListeners() goes through names in order, 'removeListener' last", function()
    local e, got = EventEmitter.new(), {}
    local a, b, c = function() end, function() end, function() end
    local nl = function() end
    e:on("newListener", nl)
    e:on("removeListener", function(name, fn) got[#got + 1] = {name, fn} end)
    e:on("x", a):on("x", b):on("y", c)
    e:removeAllListeners()
    assert.are.same({{"newListener", nl}, {"x", b}, {"x", a}, {"y", c}}, got)
    assert.are.same({}, e:eventNames())
  end)

  it("removeAllListeners() tells remaining 'removeListener' listeners about the others", function()
    local e, got = EventEmitter.new(), {}
    local r1 = function(name) got[#got + 1] = "r1 " .. name end
    local r2 = function(name) got[#got + 1] = "r2 " .. name end
    e:on("removeListener", r1):on("x", function() end):on("removeListener", r2)
    e:removeAllListeners()
    assert.are.same({"r1 x", "r2 x", "r1 removeListener"}, got)
  end)

  it("removeAllListeners('removeListener') does not report its own last listener", function()
    local e, got = EventEmitter.new(), {}
    e:on("removeListener", function(name) got[#got + 1] = name end)
    e:on("x", function() end)
    e:removeAllListeners("removeListener")
    assert.are.same({}, got)
    assert.are.same({"x"}, e:eventNames())
  end)
end)

describe("EventEmitter:removeAllListeners", function()
  it("removes every listener of one name", function()
    local e, f = EventEmitter.new(), function() end
    e:on("x", f):on("x", f):on("y", f)
    e:removeAllListeners("x")
    assert.are.equal(0, e:listenerCount("x"))
    assert.are.equal(1, e:listenerCount("y"))
  end)

  it("removes everything without a name", function()
    local e, f = EventEmitter.new(), function() end
    e:on("x", f):on("y", f)
    e:removeAllListeners()
    assert.are.same({}, e:eventNames())
    assert.is_false(e:emit("x"))
  end)
end)

describe("EventEmitter introspection", function()
  it("listeners() returns a new sequence with once-wrappers unwrapped", function()
    local e = EventEmitter.new()
    local a, b = function() end, function() end
    e:on("x", a):once("x", a):on("x", b)
    local l = e:listeners("x")
    assert.are.same({a, a, b}, l)
    l[1] = nil
    assert.are.equal(3, e:listenerCount("x"))
  end)

  it("listeners() of a single listener is a new one-element sequence", function()
    local e, a = EventEmitter.new(), function() end
    e:on("x", a)
    assert.are.same({a}, e:listeners("x"))
    assert.are.same({}, e:listeners("nope"))
  end)

  it("rawListeners() returns the wrappers, callable, with .listener", function()
    local e, n = EventEmitter.new(), 0
    local a = function() n = n + 1 end
    e:once("x", a)
    local raw = e:rawListeners("x")
    assert.are.equal(1, #raw)
    assert.are_not.equal(a, raw[1])
    assert.are.equal(a, raw[1].listener)
    raw[1]()
    raw[1]()
    assert.are.equal(1, n)
    assert.are.equal(0, e:listenerCount("x"))
  end)

  it("listenerCount counts all, or the given function's entries", function()
    local e = EventEmitter.new()
    local a, b = function() end, function() end
    e:on("x", a):once("x", a):on("x", b)
    assert.are.equal(3, e:listenerCount("x"))
    assert.are.equal(2, e:listenerCount("x", a))
    assert.are.equal(0, e:listenerCount("y"))
  end)

  it("eventNames() lists names in insertion order; a re-added name goes last", function()
    local e, f = EventEmitter.new(), function() end
    e:on("a", f):on("b", f):on("c", f)
    assert.are.same({"a", "b", "c"}, e:eventNames())
    e:off("a", f):on("a", f)
    assert.are.same({"b", "c", "a"}, e:eventNames())
  end)

  it("eventNames() counts 'newListener' and 'removeListener' like any name", function()
    local e, f = EventEmitter.new(), function() end
    e:on("newListener", f):on("removeListener", f):once("x", f):prependListener("y", f)
    assert.are.same({"newListener", "removeListener", "x", "y"}, e:eventNames())
  end)

  it("accepts non-string event names", function()
    local e, key, got = EventEmitter.new(), {}, nil
    e:on(key, function(v) got = v end):on(1, function() end)
    assert.is_true(e:emit(key, "v"))
    assert.are.equal("v", got)
    assert.are.same({key, 1}, e:eventNames())
  end)
end)

describe("EventEmitter listener validation", function()
  local methods = {"on", "addListener", "once", "prependListener",
    "prependOnceListener", "off", "removeListener"}
  for _, m in ipairs(methods) do
    it(m .. " raises ERR_INVALID_ARG_TYPE for a non-function listener", function()
      local e = EventEmitter.new()
      local ok, err = pcall(e[m], e, "x", 5)
      assert.is_false(ok)
      assert.are.equal(errors.Error, getmetatable(err))
      assert.are.equal("TypeError", err.name)
      assert.are.equal("ERR_INVALID_ARG_TYPE", err.code)
      assert.are.equal('The "listener" argument must be of type function. Received type number (5)',
        err.message)
    end)
  end

  it("raises ERR_INVALID_ARG_TYPE for a callable table, as for any table",
  function()
    -- lnet's own modules may store callable tables; users may not add one.
    local callable = setmetatable({}, {__call = function() end})
    for _, m in ipairs(methods) do
      local e = EventEmitter.new()
      local ok, err = pcall(e[m], e, "x", callable)
      assert.is_false(ok, m)
      assert.are.equal("ERR_INVALID_ARG_TYPE", err.code, m)
      assert.are.same({}, e:eventNames(), m)
    end
  end)

  it("names a missing listener as nil", function()
    local e = EventEmitter.new()
    local ok, err = pcall(e.on, e, "x")
    assert.is_false(ok)
    assert.are.equal('TypeError [ERR_INVALID_ARG_TYPE]: The "listener" argument must be of type function. Received nil',
      tostring(err))
  end)

  it("describes a string listener as Node does", function()
    local e = EventEmitter.new()
    local ok, err = pcall(e.on, e, "x", "abc")
    assert.is_false(ok)
    assert.are.equal('The "listener" argument must be of type function. Received type string (\'abc\')',
      err.message)
  end)

  it("adds nothing when the listener is rejected", function()
    local e, seen = EventEmitter.new(), false
    e:on("newListener", function() seen = true end)
    pcall(e.on, e, "x", {})
    assert.is_false(seen)
    assert.are.equal(0, e:listenerCount("x"))
  end)

  it("rejects a nil event name with ERR_INVALID_ARG_VALUE", function()
    local e = EventEmitter.new()
    local ok, err = pcall(e.on, e, nil, function() end)
    assert.is_false(ok)
    assert.are.equal("ERR_INVALID_ARG_VALUE", err.code)
  end)
end)

describe("EventEmitter max listeners", function()
  it("defaults to 10", function()
    assert.are.equal(10, EventEmitter.new():getMaxListeners())
    assert.are.equal(10, EventEmitter.defaultMaxListeners)
  end)

  it("setMaxListeners changes it and returns the emitter", function()
    local e = EventEmitter.new()
    assert.are.equal(e, e:setMaxListeners(3))
    assert.are.equal(3, e:getMaxListeners())
  end)

  it("prints Node's MaxListenersExceededWarning once per event", function()
    local e = EventEmitter.new()
    local out = capture_stderr(function()
      for _ = 1, 12 do e:on("x", function() end) end
    end)
    assert.are.equal("(lnet) MaxListenersExceededWarning: Possible EventEmitter memory leak "
      .. "detected. 11 x listeners added to [EventEmitter]. MaxListeners is 10. "
      .. "Use emitter:setMaxListeners() to increase limit\n", out)
  end)

  it("warns separately for each event name", function()
    local e = EventEmitter.new():setMaxListeners(1)
    local out = capture_stderr(function()
      e:on("a", print):on("a", print):on("b", print):on("b", print):on("b", print)
    end)
    local _, count = out:gsub("MaxListenersExceededWarning", "")
    assert.are.equal(2, count)
    assert.truthy(out:find("2 a listeners", 1, true))
    assert.truthy(out:find("2 b listeners", 1, true))
  end)

  it("never raises, and adds the listener anyway", function()
    local e = EventEmitter.new():setMaxListeners(1)
    capture_stderr(function() e:on("a", print):on("a", print) end)
    assert.are.equal(2, e:listenerCount("a"))
  end)

  it("warns again once the list shrank to one listener and grew again", function()
    local e = EventEmitter.new():setMaxListeners(1)
    local f, g = function() end, function() end
    local out = capture_stderr(function()
      e:on("b", f):on("b", g):off("b", g):on("b", g)
    end)
    local _, count = out:gsub("MaxListenersExceededWarning", "")
    assert.are.equal(2, count)
  end)

  it("does not warn with a limit of 0 (unlimited)", function()
    local e = EventEmitter.new():setMaxListeners(0)
    local out = capture_stderr(function()
      for _ = 1, 20 do e:on("a", print) end
    end)
    assert.are.equal("", out)
  end)

  it("names a subclass by its __name", function()
    local Foo = EventEmitter.extend({__name = "Foo"})
    local e = Foo.new():setMaxListeners(1)
    local out = capture_stderr(function() e:on("z", print):on("z", print) end)
    assert.truthy(out:find("2 z listeners added to [Foo]. MaxListeners is 1.", 1, true))
  end)

  it("setMaxListeners rejects a negative number with ERR_OUT_OF_RANGE", function()
    local e = EventEmitter.new()
    local ok, err = pcall(e.setMaxListeners, e, -1)
    assert.is_false(ok)
    assert.are.equal('RangeError [ERR_OUT_OF_RANGE]: The value of "setMaxListeners" is out of range. It must be >= 0. Received -1',
      tostring(err))
  end)

  it("setMaxListeners rejects a non-number with ERR_INVALID_ARG_TYPE", function()
    local e = EventEmitter.new()
    local ok, err = pcall(e.setMaxListeners, e, "a")
    assert.is_false(ok)
    assert.are.equal('The "setMaxListeners" argument must be of type number. Received type string (\'a\')',
      err.message)
  end)
end)

describe("EventEmitter chaining", function()
  it("returns the emitter from every mutating method", function()
    local e, f = EventEmitter.new(), function() end
    assert.are.equal(e, e:on("x", f))
    assert.are.equal(e, e:addListener("x", f))
    assert.are.equal(e, e:once("x", f))
    assert.are.equal(e, e:prependListener("x", f))
    assert.are.equal(e, e:prependOnceListener("x", f))
    assert.are.equal(e, e:off("x", f))
    assert.are.equal(e, e:removeListener("x", f))
    assert.are.equal(e, e:off("never", f))
    assert.are.equal(e, e:removeAllListeners("x"))
    assert.are.equal(e, e:removeAllListeners())
    assert.are.equal(e, e:setMaxListeners(5))
  end)
end)

describe("EventEmitter.extend", function()
  it("makes a subclass whose instances are emitters", function()
    local Socket = EventEmitter.extend({__name = "Socket"})
    local s, got = Socket.new(), nil
    assert.are.equal(Socket, getmetatable(s))
    s:on("data", function(c) got = c end)
    s:emit("data", "abc")
    assert.are.equal("abc", got)
  end)

  it("calls the subclass's own new() when the class is called", function()
    local Socket = EventEmitter.extend({})
    function Socket.new(opts)
      local self = setmetatable({}, Socket)
      self.opts = opts
      return self
    end
    local s = Socket({x = 1})
    assert.are.same({x = 1}, s.opts)
    assert.is_true(s:on("a", function() end):emit("a"))
  end)

  it("lets subclass methods override the base's", function()
    local Sub = EventEmitter.extend({emit = function() return "mine" end})
    assert.are.equal("mine", Sub.new():emit("x"))
  end)

  it("subclasses a subclass", function()
    local A = EventEmitter.extend({__name = "A", hello = function() return "hi" end})
    local B = A.extend({__name = "B"})
    local b = B()
    assert.are.equal(B, getmetatable(b))
    assert.are.equal("hi", b:hello())
    assert.is_true(b:on("x", print):listenerCount("x") == 1)
  end)

  it("shares no listener storage between instances", function()
    local Sub = EventEmitter.extend({})
    local a, b = Sub(), Sub()
    a:on("x", print)
    assert.are.equal(0, b:listenerCount("x"))
  end)
end)
