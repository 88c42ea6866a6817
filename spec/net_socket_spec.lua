-- net.Socket (contract §5.3): connecting in every form, over IPv4, IPv6 and
-- Unix sockets; event order as Node 20 ('connect' then 'ready', 'close'
-- once and last); live fields; writes (queued before connect, callbacks,
-- highWaterMark and 'drain', gather writes, encodings); pause/resume as real
-- backpressure; timeouts; destroy, destroySoon, resetAndDestroy; pipe;
-- sockets that live with no Lua reference.  Expected values come from
-- running the same steps under node.
local h = require("spec.helper")
local lnet = require("lnet")
local net = require("net")
local timers = require("timers")

local v6 = require("spec.net_support").has_ipv6() and it or pending

-- A server on 127.0.0.1 (or host) calling onconn for each connection; the
-- listening callback gets the port.
local function serve(onconn, onlisten, host, options)
  local srv = net.createServer(options or {}, onconn)
  srv:listen(0, host or "127.0.0.1", function()
    onlisten(srv:address().port, srv)
  end)
  return srv
end

-- A server that echoes what it reads and ends when the client ends.
local function echo_server(onlisten, host)
  return serve(function(c)
    c:pipe(c)
  end, onlisten, host)
end

-- Calls fn once the loop has gone round a few times (data in flight lands).
local function later(ms, fn)
  timers.setTimeout(fn, ms)
end

describe("net.Socket", function()
  after_each(h.cleanup)

  it("is constructed by Socket.new() or by calling the class", function()
    local a, b = net.Socket.new(), net.Socket()
    assert.is_function(a.on)
    assert.is_function(b.emit)
    assert.is_true(a.pending)
    assert.is_false(b.connecting)
    assert.equal(getmetatable(a), getmetatable(b))
  end)

  it("reports readableFlowing nil until asked, then false paused and true flowing", function()
    local s = net.Socket()
    assert.is_nil(s.readableFlowing)
    assert.is_false(s:isPaused())
    s:pause()
    assert.is_false(s.readableFlowing)
    assert.is_true(s:isPaused())
    s:resume()
    assert.is_true(s.readableFlowing)
    assert.is_false(s:isPaused())
    local t = net.Socket()
    t:on("data", function() end)
    assert.is_true(t.readableFlowing)
  end)

  it("reports the fields of a new socket as Node does", function()
    local s = net.Socket()
    assert.equal("open", s.readyState)
    assert.is_true(s.pending)
    assert.is_false(s.connecting)
    assert.is_false(s.destroyed)
    assert.is_nil(s.bufferSize)
    assert.is_nil(s.timeout)
    assert.is_false(s.allowHalfOpen)
    assert.equal(0, s.bytesRead)
    assert.equal(0, s.bytesWritten)
    assert.same({}, s:address())
    assert.is_false(s:isPaused())
    assert.is_nil(s.remoteAddress)
  end)

  it("emits the connect callback, 'connect' then 'ready', on a later turn",
  function()
    local order = {}
    local srv
    srv = serve(function(c) c:done() end, function(port)
      local s = net.connect(port, "127.0.0.1", function()
        order[#order + 1] = "cb"
      end)
      s:on("connect", function() order[#order + 1] = "connect" end)
      s:on("ready", function() order[#order + 1] = "ready" end)
      s:on("close", function() srv:close() end)
      s:resume()
      assert.same({}, order)
    end)
    h.run()
    assert.same({ "cb", "connect", "ready" }, order)
  end)

  it("goes opening -> open -> closed with pending and connecting", function()
    local srv
    srv = serve(function(c) c:resume() end, function(port)
      local s = net.connect(port, "127.0.0.1")
      assert.equal("opening", s.readyState)
      assert.is_true(s.pending)
      assert.is_true(s.connecting)
      s:on("connect", h.must_call(function()
        assert.equal("open", s.readyState)
        assert.is_false(s.pending)
        assert.is_false(s.connecting)
        s:destroy()
        assert.equal("closed", s.readyState)
        assert.is_true(s.destroyed)
      end))
      s:on("close", function() srv:close() end)
    end)
    h.run()
  end)

  it("echoes data, then 'end', then 'close'(false) exactly once, last",
  function()
    local events, got = {}, {}
    local srv
    srv = echo_server(function(port)
      local s = net.connect({ port = port, host = "127.0.0.1" })
      for _, ev in ipairs({ "connect", "end", "finish", "close" }) do
        s:on(ev, function(...)
          events[#events + 1] = ev
          if ev == "close" then
            assert.is_false((...))
            srv:close()
          end
        end)
      end
      s:on("data", function(d) got[#got + 1] = d end)
      s:write("hello ")
      s:done("world")
    end)
    h.run()
    assert.equal("hello world", table.concat(got))
    assert.equal("connect", events[1])
    assert.equal("close", events[#events])
    local n = 0
    for _, ev in ipairs(events) do if ev == "close" then n = n + 1 end end
    assert.equal(1, n)
    table.sort(events)
    assert.same({ "close", "connect", "end", "finish" }, events)
  end)

  it("counts bytesRead and bytesWritten in bytes", function()
    local srv
    srv = echo_server(function(port)
      local s = net.connect(port, "127.0.0.1")
      s:write("h\u{e9}llo")          -- 6 bytes
      s:write({ "ab", "", "cd" })    -- 4 bytes, one gather write
      assert.equal(10, s.bytesWritten)
      s:done()
      s:resume()
      s:on("close", h.must_call(function()
        assert.equal(10, s.bytesRead)
        assert.equal(10, s.bytesWritten)
        srv:close()
      end))
    end)
    h.run()
  end)

  it("counts an accepted socket's bytes, also once it is closed", function()
    local srv
    srv = net.createServer(function(c)
      c:on("data", function(d) c:write(d .. d) end)
      c:on("close", h.must_call(function()
        assert.equal(5, c.bytesRead)
        assert.equal(10, c.bytesWritten)
        srv:close()
      end))
    end)
    srv:listen(0, "127.0.0.1", function()
      local s = net.connect(srv:address().port, "127.0.0.1")
      s:done("hello")
      s:resume()
    end)
    h.run()
  end)

  it("queues writes made before 'connect'; bufferSize counts them", function()
    local srv
    srv = echo_server(function(port)
      local s = net.connect(port, "127.0.0.1")
      assert.is_true(s:write("abc"))
      assert.equal(3, s.bufferSize)
      assert.equal(3, s.writableLength)
      local got = {}
      s:on("data", function(d) got[#got + 1] = d end)
      s:on("end", h.must_call(function()
        assert.equal("abcdef", table.concat(got))
      end))
      s:on("close", function() srv:close() end)
      s:done("def")
    end)
    h.run()
  end)

  it("calls write callbacks on a later turn, in order, with no error",
  function()
    local srv
    local order = {}
    srv = echo_server(function(port)
      local s = net.connect(port, "127.0.0.1")
      local big = string.rep("x", 1 << 20)
      for i = 1, 3 do
        s:write(i == 2 and big or "y", function(err)
          assert.is_nil(err)
          order[#order + 1] = i
        end)
      end
      assert.same({}, order)
      s:on("connect", function()
        for i = 4, 5 do
          s:write("z", function(err)
            assert.is_nil(err)
            order[#order + 1] = i
          end)
        end
        assert.same({}, order)
        s:done()
      end)
      s:resume()
      s:on("close", function() srv:close() end)
    end)
    h.run()
    assert.same({ 1, 2, 3, 4, 5 }, order)
  end)

  it("returns false at highWaterMark, then emits 'drain'", function()
    local srv, peer
    srv = serve(function(c)
      peer = c
      c:pause()
    end, function(port)
      local s = net.connect(port, "127.0.0.1")
      s:on("connect", function()
        local chunk = string.rep("x", 64 * 1024)
        local n = 0
        repeat
          n = n + 1
          local ok = s:write(chunk)
        until not ok or n > 1000
        assert.is_true(n <= 1000)
        assert.is_true(s.bufferSize >= s.writableHighWaterMark)
        s:on("drain", h.must_call(function()
          assert.equal(0, s.bufferSize)
          s:destroy()
          peer:destroy()
          srv:close()
        end))
        later(20, function() peer:resume() end)
      end)
    end)
    h.run()
  end)

  it("honours the highWaterMark option while connecting", function()
    local srv
    srv = serve(function(c) c:resume() end, function(port)
      local s = net.Socket({ highWaterMark = 4 })
      assert.equal(4, s.writableHighWaterMark)
      s:connect(port, "127.0.0.1")
      assert.is_true(s:write("abc"))
      assert.is_false(s:write("d"))
      s:on("drain", h.must_call(function()
        s:destroy()
        srv:close()
      end))
    end)
    h.run()
  end)

  it("a socket never connected: write gives ERR_SOCKET_CLOSED, then close",
  function()
    local s = net.Socket()
    local order = {}
    assert.is_false(s:write("x", function(err)
      order[#order + 1] = "cb"
      assert.equal("ERR_SOCKET_CLOSED", err.code)
    end))
    s:on("error", function(err)
      order[#order + 1] = "error"
      assert.equal("ERR_SOCKET_CLOSED", err.code)
      assert.equal("Socket is closed", err.message)
    end)
    s:on("close", function() order[#order + 1] = "close" end)
    h.run()
    assert.same({ "cb", "error", "close" }, order)
  end)

  it("writes with an encoding: hex, base64, latin1", function()
    local srv
    srv = serve(function(c)
      local got = {}
      c:on("data", function(d) got[#got + 1] = d end)
      c:on("end", h.must_call(function()
        assert.equal("\1\2\255" .. "hi" .. "h\xe9", table.concat(got))
        srv:close()
      end))
    end, function(port)
      local s = net.connect(port, "127.0.0.1")
      s:write("0102ff", "hex")
      s:write("aGk=", "base64", h.must_call())
      s:done("h\u{e9}", "latin1")
    end)
    h.run()
  end)

  it("raises ERR_INVALID_ARG_TYPE for data that is not a string", function()
    local s = net.Socket()
    for _, bad in ipairs({ 42, true, { "a", 1 } }) do
      local ok, err = pcall(s.write, s, bad)
      assert.is_false(ok)
      assert.equal("ERR_INVALID_ARG_TYPE", err.code)
      assert.equal("TypeError", err.name)
    end
    s:destroy()
    h.run()
  end)

  it("raises ERR_INVALID_ARG_TYPE for a number written to a connected socket",
  function()
    local srv = serve(function(c) c:resume() end, function(port, srv)
      local s
      s = net.connect(port, "127.0.0.1", h.must_call(function()
        local ok, err = pcall(s.write, s, 42)
        assert.is_false(ok)
        assert.equal("ERR_INVALID_ARG_TYPE", err.code)
        assert.equal(0, s.bytesWritten)
        s:destroy()
        srv:close()
      end))
    end)
    h.run()
    assert.is_false(srv.listening)
  end)

  it("fails writes queued before a connection that never came, just before 'close'",
  function()
    -- node 20: each callback gets ERR_SOCKET_CLOSED_BEFORE_CONNECTION,
    -- after 'error' and before the 'close' listeners; the bytes count.
    local seen = {}
    local function note(what) seen[#seen + 1] = what end
    local srv = serve(function(c) c:resume() end, function(port, srv)
      local s = net.connect(port, "127.0.0.1")
      s:write("abc", function(err) note("cb1 " .. err.code) end)
      s:write("d", function(err) note("cb2 " .. err.code) end)
      s:on("close", h.must_call(function(had_error)
        note("close")
        assert.is_false(had_error)
        assert.equal(4, s.bytesWritten)
        assert.same({ "cb1 ERR_SOCKET_CLOSED_BEFORE_CONNECTION",
          "cb2 ERR_SOCKET_CLOSED_BEFORE_CONNECTION", "close" }, seen)
        srv:close()
      end))
      s:destroy()
    end)
    h.run()
    local refused = net.connect(1, "127.0.0.1")  -- nothing listens on 1
    seen = {}
    refused:write("a", function(err) note("cb " .. err.code) end)
    refused:on("error", function(err) note("error " .. err.code) end)
    refused:on("close", h.must_call(function()
      assert.same({ "error ECONNREFUSED",
        "cb ERR_SOCKET_CLOSED_BEFORE_CONNECTION" }, seen)
    end))
    h.run()
  end)

  it("raises ERR_UNKNOWN_ENCODING for a write with an unknown encoding",
  function()
    local s = net.Socket()
    local ok, err = pcall(s.write, s, "x", "klingon")
    assert.is_false(ok)
    assert.equal("ERR_UNKNOWN_ENCODING", err.code)
    s:destroy()
    h.run()
  end)

  it("pause() stops bytes arriving; resume() lets them in", function()
    local srv, client
    srv = serve(function(c)
      c:done(string.rep("p", 1000))
    end, function(port)
      client = net.connect(port, "127.0.0.1")
      client:pause()
      assert.is_true(client:isPaused())
      local got = 0
      client:on("data", function(d) got = got + #d end)
      client:on("connect", function()
        later(50, function()
          assert.equal(0, got)
          assert.equal(0, client.bytesRead)
          client:resume()
          assert.is_false(client:isPaused())
        end)
      end)
      client:on("end", h.must_call(function()
        assert.equal(1000, got)
        srv:close()
      end))
    end)
    h.run()
  end)

  it("pause() in a 'data' listener holds the rest until resume()", function()
    local srv
    srv = serve(function(c)
      c:write("first")
      -- "second" leaves only once the client, already paused, asks for it.
      c:on("data", function() c:done("second") end)
    end, function(port)
      local s = net.connect(port, "127.0.0.1")
      local got = {}
      s:on("data", function(d)
        got[#got + 1] = d
        if #got == 1 then
          s:pause()
          s:write("more")
          later(100, function()
            assert.same({ "first" }, got)
            s:resume()
          end)
        end
      end)
      s:on("end", h.must_call(function()
        assert.equal("firstsecond", table.concat(got))
        srv:close()
      end))
    end)
    h.run()
  end)

  it("emits 'timeout' after inactivity; the timeout field reads back",
  function()
    local srv
    srv = serve(function(c) c:resume() end, function(port)
      local s = net.connect(port, "127.0.0.1")
      s:setTimeout(30, h.must_call())
      assert.equal(30, s.timeout)
      s:on("timeout", h.must_call(function()
        assert.is_false(s.destroyed)   -- nothing is closed
        s:setTimeout(0)
        assert.equal(0, s.timeout)
        s:destroy()
        srv:close()
      end))
    end)
    h.run()
  end)

  it("takes options.timeout in net.connect", function()
    local srv
    srv = serve(function(c) c:resume() end, function(port)
      local s = net.connect({ port = port, host = "127.0.0.1", timeout = 20 })
      assert.equal(20, s.timeout)
      s:on("timeout", h.must_call(function()
        s:destroy()
        srv:close()
      end))
    end)
    h.run()
  end)

  it("resets the timeout on activity", function()
    local srv
    srv = serve(function(c)
      local n = 0
      local t
      t = timers.setInterval(function()
        n = n + 1
        c:write("x")
        if n == 10 then timers.clearInterval(t) end
      end, 10)
    end, function(port)
      local s = net.connect(port, "127.0.0.1")
      s:resume()
      local start = lnet.now()
      s:setTimeout(150)
      s:on("timeout", h.must_call(function()
        -- 100 ms of writes, then 150 ms of silence: not before 200 ms.
        assert.is_true(lnet.now() - start >= 200)
        s:destroy()
        srv:close()
      end))
    end)
    h.run()
  end)

  it("destroy(err) emits 'error'(err) then 'close'(true)", function()
    local srv
    local order = {}
    srv = serve(function(c) c:resume() end, function(port)
      local s = net.connect(port, "127.0.0.1")
      local boom = { code = "BOOM" }
      s:on("connect", function() s:destroy(boom) end)
      s:on("error", function(e)
        assert.equal(boom, e)
        order[#order + 1] = "error"
      end)
      s:on("close", function(had)
        order[#order + 1] = had
        srv:close()
      end)
      s:on("end", h.must_not_call("end after destroy"))
    end)
    h.run()
    assert.same({ "error", true }, order)
  end)

  it("destroy() twice closes once, with hadError false", function()
    local srv
    srv = serve(function(c) c:resume() end, function(port)
      local s = net.connect(port, "127.0.0.1")
      s:on("connect", function()
        s:destroy()
        s:destroy()
      end)
      s:on("close", h.must_call(function(had)
        assert.is_false(had)
        srv:close()
      end))
    end)
    h.run()
  end)

  it("destroySoon() flushes, ends, then closes", function()
    local srv
    srv = serve(function(c)
      local got = {}
      c:on("data", function(d) got[#got + 1] = d end)
      c:on("end", h.must_call(function()
        assert.equal("bye", table.concat(got))
        srv:close()
      end))
    end, function(port)
      local s = net.connect(port, "127.0.0.1")
      s:write("bye")
      s:on("finish", h.must_call())
      s:on("close", h.must_call(function(had) assert.is_false(had) end))
      s:destroySoon()
    end)
    h.run()
  end)

  it("resetAndDestroy() sends RST: the peer reads ECONNRESET", function()
    local srv
    srv = serve(function(c)
      c:resume()
      c:on("error", h.must_call(function(err)
        assert.equal("ECONNRESET", err.code)
        assert.equal("read", err.syscall)
        assert.equal("read ECONNRESET", err.message)
      end))
      c:on("close", h.must_call(function(had)
        assert.is_true(had)
        srv:close()
      end))
    end, function(port)
      local s = net.connect(port, "127.0.0.1")
      s:on("close", h.must_call(function(had) assert.is_false(had) end))
      s:resetAndDestroy()
    end)
    h.run()
  end)

  it("has live address fields matching the other side", function()
    local srv, server_side
    srv = serve(function(c)
      server_side = c
      c:resume()
    end, function(port)
      local s = net.connect(port, "127.0.0.1")
      s:on("connect", function()
        later(10, function()
          local a = s:address()
          assert.equal("127.0.0.1", a.address)
          assert.equal("IPv4", a.family)
          assert.equal(s.localPort, a.port)
          assert.equal("127.0.0.1", s.remoteAddress)
          assert.equal(port, s.remotePort)
          assert.equal("IPv4", s.remoteFamily)
          assert.equal("127.0.0.1", s.localAddress)
          assert.equal("IPv4", s.localFamily)
          assert.equal(s.localPort, server_side.remotePort)
          assert.equal(port, server_side.localPort)
          assert.equal(srv, server_side.server)
          s:destroy()
          -- The peer is remembered after destroy, as Node does.
          assert.equal("127.0.0.1", s.remoteAddress)
          assert.is_nil(s.localAddress)
          server_side:destroy()
          assert.equal(srv, server_side.server)  -- still, once closed
          srv:close()
        end)
      end)
    end)
    h.run()
  end)

  v6("connects over IPv6 (::1)", function()
    local srv
    srv = echo_server(function(port)
      local s = net.connect(port, "::1")
      s:on("connect", h.must_call(function()
        assert.equal("::1", s.remoteAddress)
        assert.equal("IPv6", s.remoteFamily)
        assert.equal("IPv6", s:address().family)
      end))
      s:on("data", h.must_call(function(d) assert.equal("six", d) end))
      s:on("close", function() srv:close() end)
      s:done("six")
    end, "::1")
    h.run()
  end)

  it("connects over a Unix socket by path and by {path = }", function()
    local path = h.tmpname(".sock")
    finally(function() os.remove(path) end)
    local srv = net.createServer(function(c) c:pipe(c) end)
    srv:listen(path, h.must_call(function()
      local n = 0
      local function one(s)
        s:on("connect", h.must_call(function()
          assert.same({}, s:address())   -- Node: no names for Unix sockets
          assert.is_nil(s.remoteAddress)
        end))
        s:on("data", h.must_call(function(d) assert.equal("unix", d) end))
        s:on("close", function()
          n = n + 1
          if n == 2 then srv:close() end
        end)
        s:done("unix")
      end
      one(net.connect(path))
      one(net.createConnection({ path = path }))
    end))
    h.run()
  end)

  it("connects with Socket():connect(port, host, cb)", function()
    local srv
    srv = echo_server(function(port)
      local s = net.Socket()
      assert.equal(s, s:connect(port, "127.0.0.1", h.must_call()))
      s:on("close", function() srv:close() end)
      s:resume()
      s:done()
    end)
    h.run()
  end)

  it("takes setNoDelay/setKeepAlive before and after connecting", function()
    local srv
    srv = echo_server(function(port)
      local s = net.Socket()
      assert.equal(s, s:setNoDelay())
      assert.equal(s, s:setKeepAlive(true, 1000))
      s:connect(port, "127.0.0.1", h.must_call(function()
        assert.equal(s, s:setNoDelay(false))
        assert.equal(s, s:setKeepAlive(false))
        s:done()
      end))
      s:resume()
      s:on("close", function() srv:close() end)
    end)
    h.run()
  end)

  it("an unref'd socket does not keep the loop alive", function()
    local srv
    srv = serve(function(c)
      c:unref()   -- the accepted side too: it would keep the loop alive
      srv:close()
    end, function(port)
      local s = net.Socket()
      s:unref()   -- before the handle exists: remembered
      s:connect(port, "127.0.0.1", h.must_call(function()
        s:resume()  -- reading, yet unref'd
      end))
    end)
    local t0 = lnet.now()
    h.run(2000)
    assert.is_true(lnet.now() - t0 < 1000)
  end)

  it("pipe() copies with backpressure and ends the destination", function()
    local total = 256 * 1024
    local sink_srv, src_srv
    local received = 0
    -- sink: reads slowly (pauses) so the pipe must wait for 'drain'
    sink_srv = serve(function(c)
      c:on("data", function(d)
        received = received + #d
        c:pause()
        later(1, function() c:resume() end)
      end)
      c:on("end", h.must_call(function()
        assert.equal(total, received)
        sink_srv:close()
        src_srv:close()
      end))
    end, function(sink_port)
      src_srv = serve(function(c)
        c:done(string.rep("s", total))
      end, function(src_port)
        local from = net.connect(src_port, "127.0.0.1")
        local to = net.connect(sink_port, "127.0.0.1")
        local paused = false
        local orig = from.pause
        from.pause = function(self)
          paused = true
          return orig(self)
        end
        assert.equal(to, from:pipe(to))
        to:resume()
        to:on("close", h.must_call(function()
          assert.is_true(paused)
        end))
      end)
    end)
    h.run(10000)
  end)

  it("pipe() with {['end'] = false} leaves the destination open; unpipe()",
  function()
    local srv
    local a, b = net.Socket(), {}
    local written = {}
    b.write = function(_, d) written[#written + 1] = d return true end
    b.done = h.must_not_call("done with end = false")
    srv = serve(function(c) c:done("piped") end, function(port)
      a:connect(port, "127.0.0.1")
      a:pipe(b, { ["end"] = false })
      a:on("end", h.must_call(function()
        assert.same({ "piped" }, written)
        a:unpipe(b)
        assert.is_true(a:isPaused())
        srv:close()
      end))
    end)
    h.run()
  end)

  it("stays alive and delivers events with no Lua reference held",
  function()
    local got
    do
      local srv = net.createServer(function(c) c:pipe(c) end)
      srv:listen(0, "127.0.0.1", function()
        local port = srv:address().port
        collectgarbage()
        local s = net.connect(port, "127.0.0.1")
        s:on("data", function(d) got = d end)
        s:on("close", function() srv:close() end)
        s:on("connect", function()
          collectgarbage()
          later(10, function()
            collectgarbage()
            s:done("anchored")
          end)
        end)
      end)
    end
    collectgarbage()
    h.run()
    assert.equal("anchored", got)
  end)

  it("a closed socket is collected once nothing refers to it", function()
    local weak = setmetatable({}, { __mode = "k" })
    local srv
    srv = echo_server(function(port)
      local s = net.connect(port, "127.0.0.1")
      weak[s] = true
      s:resume()
      s:on("close", function() srv:close() end)
      s:done()
    end)
    h.run()
    for _ = 1, 3 do collectgarbage() end
    assert.is_nil(next(weak))
  end)
end)
