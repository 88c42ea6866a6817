-- Reading before anyone asked (contract §5.3 is silent; Node 20 is the
-- oracle): a socket reads from the start, as a Node socket does, and holds
-- what it reads for its first reader, up to readableHighWaterMark.  So a
-- socket nobody reads still gets 'end' (and, allowHalfOpen false, closes)
-- when the peer ends without sending; a write-only server closes its
-- connections; a late 'data' listener gets everything, in order, then
-- 'end' (decoded if setEncoding came meanwhile); closing a socket whose
-- bytes were never read does not reset the peer.  Expected values come
-- from the same steps under node 20.
local h = require("spec.helper")
local net = require("net")
local timers = require("timers")

local function serve(onconn, onlisten)
  local srv = net.createServer(onconn)
  srv:listen(0, "127.0.0.1", function() onlisten(srv:address().port, srv) end)
  return srv
end

-- Calls fn once c has read n bytes (checked every 10 ms: a fixed delay
-- fails on a loaded machine, where the data comes late).
local function once_read(c, n, fn)
  local t
  t = timers.setInterval(function()
    if c.bytesRead < n then return end
    timers.clearInterval(t)
    fn()
  end, 10)
end

describe("a socket nobody reads", function()
  after_each(h.cleanup)

  it("gets 'end', 'finish' and 'close' when the peer ends without sending",
  function()
    local seen = {}
    local srv
    srv = serve(function(c)
      for _, name in ipairs({ "end", "finish", "close" }) do
        c:on(name, function() seen[#seen + 1] = name end)
      end
      c:on("close", h.must_call(function()
        assert.same({ "end", "finish", "close" }, seen)
        srv:close()
      end))
    end, function(port)
      local s
      s = net.connect(port, "127.0.0.1", function() s:done() end)
      s:resume()
    end)
    h.run()
  end)

  it("closes on its own when it only writes and the client ends (no leak)",
  function()
    local srv
    srv = serve(function(c)
      c:done("x")
      c:on("close", h.must_call(function() srv:close() end))
    end, function(port)
      local got = ""
      local s = net.connect(port, "127.0.0.1")
      s:on("data", function(d) got = got .. d end)
      s:on("end", h.must_call(function() assert.equal("x", got) end))
    end)
    h.run()
  end)

  it("gives a late 'data' listener what was held, in order, then 'end'",
  function()
    local srv
    srv = serve(function(c)
      timers.setTimeout(function()
        local got = ""
        c:on("data", function(d) got = got .. d end)
        c:on("end", h.must_call(function()
          assert.equal("abcd", got)
          srv:close()
        end))
      end, 100)
    end, function(port)
      local s
      s = net.connect(port, "127.0.0.1", function()
        s:write("ab")
        timers.setTimeout(function() s:done("cd") end, 20)
      end)
      s:resume()
    end)
    h.run()
  end)

  it("holds no more than about readableHighWaterMark, then stops reading",
  function()
    local size = 1024 * 1024
    local srv
    srv = serve(function(c)
      -- Once reading has stopped (bytesRead > 0 and the same for 50 ms):
      -- a fixed delay fails on a loaded machine, where the data comes late.
      local last, same, t = -1, 0, nil
      t = timers.setInterval(function()
        local n = c.bytesRead
        if n > 0 and n == last then same = same + 1 else same = 0 end
        last = n
        if same < 5 then return end
        timers.clearInterval(t)
        local early = n
        assert.is_true(early < size)
        local got = 0
        c:on("data", function(d) got = got + #d end)
        c:on("end", h.must_call(function()
          assert.equal(size, got)
          assert.equal(size, c.bytesRead)
          srv:close()
        end))
      end, 10)
    end, function(port)
      local s
      s = net.connect(port, "127.0.0.1", function()
        s:done(string.rep("a", size))
      end)
      s:resume()
    end)
    h.run()
  end)

  it("holds decoded text after setEncoding", function()
    local srv
    srv = serve(function(c)
      c:setEncoding("hex")
      timers.setTimeout(function()
        local got = ""
        c:on("data", function(d) got = got .. d end)
        c:on("end", h.must_call(function()
          assert.equal("4142", got)
          srv:close()
        end))
      end, 100)
    end, function(port)
      local s
      s = net.connect(port, "127.0.0.1", function() s:done("AB") end)
      s:resume()
    end)
    h.run()
  end)

  it("decodes what it held when setEncoding comes after the bytes", function()
    local srv
    srv = serve(function(c)
      once_read(c, 2, function()  -- held raw, then the encoding comes
        c:setEncoding("hex")
        local got = ""
        c:on("data", function(d) got = got .. d end)
        c:on("end", h.must_call(function()
          assert.equal("4142", got)
          srv:close()
        end))
      end)
    end, function(port)
      local s
      s = net.connect(port, "127.0.0.1", function() s:done("AB") end)
      s:resume()
    end)
    h.run()
  end)

  it("does not reset the peer when destroyed with bytes it never read",
  function()
    local srv
    srv = serve(function(c)
      once_read(c, 2, function()
        c:destroy()
        srv:close()
      end)
    end, function(port)
      local s
      s = net.connect(port, "127.0.0.1", function() s:write("hi") end)
      s:resume()
      s:on("error", function(err) error("unexpected " .. err.code) end)
      s:on("end", h.must_call())
      s:on("close", h.must_call(function(had_error)
        assert.is_false(had_error)
      end))
    end)
    h.run()
  end)

  it("reads nothing while paused by pauseOnConnect", function()
    local srv
    srv = net.createServer({ pauseOnConnect = true }, function(c)
      timers.setTimeout(function()
        assert.equal(0, c.bytesRead)
        c:destroy()
        srv:close()
      end, 100)
    end)
    srv:listen(0, "127.0.0.1", function()
      local s
      s = net.connect(srv:address().port, "127.0.0.1", function()
        s:write("hi")
      end)
      s:resume()
      s:on("error", function() end)
    end)
    h.run()
  end)
end)
