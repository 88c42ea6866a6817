-- Half-open TCP and the end of a socket's life (contract §5.3): with
-- allowHalfOpen false a socket whose peer ended ends its own side once its
-- writes are flushed; with allowHalfOpen true it may keep writing; done()
-- callbacks and 'finish'; writes after done() (ERR_STREAM_WRITE_AFTER_END,
-- 'error', 'close'(true), no 'finish'), after destroy() (only the callback
-- gets ERR_STREAM_DESTROYED) and after the peer ended (EPIPE).  Orders and
-- messages were taken from node 20 running the same steps.
local h = require("spec.helper")
local net = require("net")
local timers = require("timers")
local tick = require("lnet.tick")

-- Runs fn after two nextTick turns (the auto-end is one tick after 'end').
local function tick_twice(fn)
  tick.nextTick(function() tick.nextTick(fn) end)
end

-- A server on 127.0.0.1 with options, calling onconn per connection and
-- onlisten(port, srv) once listening.
local function serve(options, onconn, onlisten)
  local srv = net.createServer(options, onconn)
  srv:listen(0, "127.0.0.1", function() onlisten(srv:address().port, srv) end)
  return srv
end

local function collect(s)
  local got = {}
  s:on("data", function(d) got[#got + 1] = d end)
  return function() return table.concat(got) end
end

describe("half-open sockets", function()
  after_each(h.cleanup)

  it("allowHalfOpen false: the side that got 'end' ends after flushing",
  function()
    local srv
    srv = serve({}, function(c)
      local text = collect(c)
      c:on("end", h.must_call(function()
        assert.equal("ping", text())
        -- Still writable in the 'end' listener: flushed before our FIN.
        assert.is_true(c:write("pong"))
      end))
      c:on("finish", h.must_call())
      c:on("close", h.must_call(function(had)
        assert.is_false(had)
        srv:close()
      end))
    end, function(port)
      local s = net.connect(port, "127.0.0.1")
      local text = collect(s)
      s:on("end", h.must_call(function() assert.equal("pong", text()) end))
      s:on("close", h.must_call(function(had) assert.is_false(had) end))
      s:done("ping")
    end)
    h.run()
  end)

  it("allowHalfOpen true on the server: it writes after the client ended",
  function()
    local srv
    srv = serve({ allowHalfOpen = true }, function(c)
      c:resume()
      c:on("end", h.must_call(function()
        assert.equal("writeOnly", c.readyState)
        timers.setTimeout(function()
          c:write("late ")
          c:done("reply", h.must_call(function(err) assert.is_nil(err) end))
        end, 20)
      end))
      c:on("close", h.must_call(function() srv:close() end))
    end, function(port)
      local s = net.connect(port, "127.0.0.1")
      local text = collect(s)
      s:on("finish", h.must_call(function()
        assert.equal("readOnly", s.readyState)
      end))
      s:on("end", h.must_call(function()
        assert.equal("late reply", text())
      end))
      s:on("close", h.must_call(function(had) assert.is_false(had) end))
      s:done()
    end)
    h.run()
  end)

  it("allowHalfOpen true on the client: it writes after the server ended",
  function()
    local srv
    srv = serve({}, function(c)
      local text = collect(c)
      c:on("end", h.must_call(function()
        assert.equal("still writing", text())
      end))
      c:on("close", h.must_call(function() srv:close() end))
      c:done("from server")
    end, function(port)
      local s = net.connect({ port = port, host = "127.0.0.1",
        allowHalfOpen = true })
      local text = collect(s)
      local order = {}
      s:on("end", h.must_call(function()
        assert.equal("from server", text())
        assert.equal("writeOnly", s.readyState)
        assert.is_true(s.writable)
        timers.setTimeout(function()
          s:write("still ")
          s:done("writing", function() order[#order + 1] = "cb" end)
        end, 20)
      end))
      s:on("finish", function() order[#order + 1] = "finish" end)
      s:on("close", h.must_call(function(had)
        assert.is_false(had)
        assert.same({ "cb", "finish" }, order)   -- node's order
      end))
    end)
    h.run()
  end)

  it("write after done(): cb and 'error' get ERR_STREAM_WRITE_AFTER_END, "
    .. "then 'close'(true), no 'finish'", function()
    local srv
    srv = serve({}, function(c) c:resume() end, function(port)
      local s = net.connect(port, "127.0.0.1")
      local order = {}
      s:on("connect", function()
        s:done()
        local called = false
        assert.is_false(s:write("late", function(err)
          called = true
          order[#order + 1] = "cb"
          assert.equal("ERR_STREAM_WRITE_AFTER_END", err.code)
          assert.equal("write after end", err.message)
        end))
        assert.is_false(called)
      end)
      s:on("error", function(err)
        order[#order + 1] = "error"
        assert.equal("ERR_STREAM_WRITE_AFTER_END", err.code)
        assert.equal("Error", err.name)
      end)
      s:on("finish", h.must_not_call("finish"))
      s:on("close", h.must_call(function(had)
        assert.is_true(had)
        assert.same({ "cb", "error" }, order)
        srv:close()
      end))
    end)
    h.run()
  end)

  it("write after destroy(): only the callback gets ERR_STREAM_DESTROYED",
  function()
    local srv
    srv = serve({}, function(c) c:resume() end, function(port)
      local s = net.connect(port, "127.0.0.1")
      s:on("connect", function()
        s:destroy()
        assert.is_false(s:write("x", h.must_call(function(err)
          assert.equal("ERR_STREAM_DESTROYED", err.code)
          assert.equal("Cannot call write after a stream was destroyed",
            err.message)
        end)))
        assert.is_false(s:write("no callback: nothing happens"))
      end)
      s:on("error", h.must_not_call("error"))
      s:on("close", h.must_call(function(had)
        assert.is_false(had)
        srv:close()
      end))
    end)
    h.run()
  end)

  it("write after the peer ended and we ended: EPIPE, 'ended by the other "
    .. "party'", function()
    local srv
    srv = serve({}, function(c)
      c:resume()
      c:on("end", function()
        -- Two turns later our own side has ended (allowHalfOpen false).
        tick_twice(function()
          assert.is_true(c.writableEnded)
          assert.is_false(c:write("y", h.must_call(function(err)
            assert.equal("EPIPE", err.code)
            assert.equal("This socket has been ended by the other party",
              err.message)
          end)))
        end)
      end)
      c:on("error", h.must_call(function(err)
        assert.equal("EPIPE", err.code)
      end))
      c:on("close", h.must_call(function(had)
        assert.is_true(had)
        srv:close()
      end))
    end, function(port)
      local s = net.connect(port, "127.0.0.1")
      s:resume()
      s:done()
    end)
    h.run()
  end)

  it("done() callback runs at 'finish'; after finish it gets an error",
  function()
    local srv
    srv = serve({}, function(c) c:resume() end, function(port)
      local s = net.connect(port, "127.0.0.1")
      s:resume()
      s:done(h.must_call(function(err)
        assert.is_nil(err)
        assert.is_true(s.writableFinished)
        s:done(h.must_call(function(err2)
          assert.is_not_nil(err2)
        end))
      end))
      s:on("close", function() srv:close() end)
    end)
    h.run()
  end)

  it("a pending done() callback gets the error when destroyed first",
  function()
    local s = net.Socket()
    s:done(h.must_call(function(err)
      assert.equal("ERR_STREAM_DESTROYED", err.code)
    end))
    s:destroy()
    h.run()
  end)

  it("done() while connecting sends the FIN after connecting", function()
    local srv
    srv = serve({}, function(c)
      local text = collect(c)
      c:on("end", h.must_call(function() assert.equal("queued", text()) end))
      c:on("close", function() srv:close() end)
    end, function(port)
      local s = net.connect(port, "127.0.0.1")
      s:done("queued")
      assert.is_true(s.connecting)
      s:on("finish", h.must_call())
      s:resume()
    end)
    h.run()
  end)
end)

