-- net.Server (contract §5.2): every listen form (port/host, path, options,
-- handle, {fd}), 'listening' and listen errors on a later turn with Node's
-- messages, the synchronous argument errors, close() and its 'close' after
-- the last connection, address(), getConnections(), maxConnections and
-- 'drop', ref/unref, and the options passed on to accepted sockets.  Also
-- the size of an idle accepted socket, since every connection pays for it.
local h = require("spec.helper")
local lnet = require("lnet")
local core = require("lnet.core")
local net = require("net")
local timers = require("timers")

local v6 = require("spec.net_support").has_ipv6() and it or pending

-- Mode bits of a file, from stat(1).
local function file_mode(path)
  local p = io.popen("stat -c %a " .. h.q(path))
  local m = p:read("l")
  p:close()
  return m
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

describe("net.Server", function()
  after_each(h.cleanup)

  it("is constructed by createServer, Server.new or calling the class",
  function()
    for _, srv in ipairs({ net.createServer(), net.Server.new(),
      net.Server(), net.createServer({ allowHalfOpen = true }, print) }) do
      assert.is_function(srv.listen)
      assert.is_false(srv.listening)
      assert.is_nil(srv:address())
    end
  end)

  it("emits 'listening' on a later turn; listening is true at once",
  function()
    local srv = net.createServer()
    local called = false
    assert.equal(srv, srv:listen(0, h.must_call(function()
      called = true
      srv:close()
    end)))
    assert.is_true(srv.listening)
    assert.is_false(called)
    h.run()
  end)

  v6("listens on :: (dual stack) when no host is given", function()
    local srv = net.createServer(h.must_call(function(c)
      assert.equal("::ffff:127.0.0.1", c.remoteAddress)
      c:destroy()
    end))
    srv:listen(0, function()
      local a = srv:address()
      assert.equal("::", a.address)
      assert.equal("IPv6", a.family)
      assert.is_true(a.port > 0)
      local s = net.connect(a.port, "127.0.0.1")
      s:resume()
      s:on("close", function() srv:close() end)
    end)
    h.run()
  end)

  it("listens on a given IPv4 host, port as a number or a string", function()
    local n = 0
    for _, port in ipairs({ 0, "0", "0x0" }) do
      local srv = net.createServer()
      srv:listen(port, "127.0.0.1", h.must_call(function()
        local a = srv:address()
        assert.same({ address = "127.0.0.1", family = "IPv4", port = a.port },
          a)
        assert.is_true(a.port > 0)
        n = n + 1
        srv:close()
      end))
    end
    h.run()
    assert.equal(3, n)
  end)

  v6("listens on ::1", function()
    local srv = net.createServer()
    srv:listen(0, "::1", h.must_call(function()
      assert.equal("::1", srv:address().address)
      assert.equal("IPv6", srv:address().family)
      srv:close()
    end))
    h.run()
  end)

  it("resolves a host name before binding (listening is false meanwhile)",
  function()
    local srv = net.createServer()
    srv:listen(0, "localhost", h.must_call(function()
      assert.is_true(srv.listening)
      local a = srv:address()
      assert.is_true(a.address == "127.0.0.1" or a.address == "::1")
      srv:close()
    end))
    assert.is_false(srv.listening)
    h.run()
  end)

  it("takes an options table: port, host, backlog", function()
    local srv = net.createServer()
    srv:listen({ port = 0, host = "127.0.0.1", backlog = 5 },
      h.must_call(function()
        assert.equal("127.0.0.1", srv:address().address)
        srv:close()
      end))
    h.run()
  end)

  it("listens on a Unix socket path; address() is the path; close unlinks",
  function()
    local path = h.tmpname(".sock")
    finally(function() os.remove(path) end)
    local srv = net.createServer()
    srv:listen(path, h.must_call(function()
      assert.equal(path, srv:address())
      assert.equal("755", file_mode(path))
      srv:close(h.must_call(function(err)
        assert.is_nil(err)
        assert.is_false(exists(path))
        assert.equal(path, srv:address())   -- as Node, after close too
      end))
    end))
    h.run()
  end)

  it("honours readableAll and writableAll on a Unix socket", function()
    local path = h.tmpname(".sock")
    finally(function() os.remove(path) end)
    local srv = net.createServer()
    srv:listen({ path = path, readableAll = true, writableAll = true },
      h.must_call(function()
        assert.equal("777", file_mode(path))
        srv:close()
      end))
    h.run()
  end)

  it("listens on the handle of another server", function()
    local first = net.createServer()
    first:listen(0, "127.0.0.1", h.must_call(function()
      local port = first:address().port
      local second
      second = net.createServer(h.must_call(function(c)
        c:destroy()
        second:close()
      end))
      second:listen(first, h.must_call(function()
        assert.equal(port, second:address().port)
        local s = net.connect(port, "127.0.0.1")
        s:resume()
      end))
    end))
    h.run()
  end)

  it("listens on {fd = n}, an already bound socket", function()
    local t = core.tcp_new(nil)
    assert.equal(0, t:bind("127.0.0.1", 0))
    local _, port = t:getsockname()
    local srv
    srv = net.createServer(h.must_call(function(c)
      c:destroy()
      srv:close()
      t:close()
    end))
    srv:listen({ fd = t:fileno() }, h.must_call(function()
      assert.equal(port, srv:address().port)
      net.connect(port, "127.0.0.1"):resume()
    end))
    h.run()
  end)

  it("emits EADDRINUSE as 'error' on a later turn, with Node's fields",
  function()
    local a = net.createServer()
    a:listen(0, "127.0.0.1", function()
      local port = a:address().port
      local b = net.createServer()
      local raised = false
      b:on("error", h.must_call(function(err)
        raised = true
        assert.equal("Error", err.name)
        assert.equal("EADDRINUSE", err.code)
        assert.equal(core.errno.EADDRINUSE, err.errno)
        assert.equal("listen", err.syscall)
        assert.equal("127.0.0.1", err.address)
        assert.equal(port, err.port)
        assert.equal("listen EADDRINUSE: address already in use 127.0.0.1:"
          .. port, err.message)
        assert.is_false(b.listening)
        a:close()
      end))
      b:listen(port, "127.0.0.1")
      assert.is_false(raised)
    end)
    h.run()
  end)

  it("emits EADDRINUSE for a Unix path in use", function()
    local path = h.tmpname(".sock")
    finally(function() os.remove(path) end)
    local a = net.createServer()
    a:listen(path, function()
      local b = net.createServer()
      b:on("error", h.must_call(function(err)
        assert.equal("EADDRINUSE", err.code)
        assert.equal(path, err.address)
        assert.equal("listen EADDRINUSE: address already in use " .. path,
          err.message)
        a:close()
      end))
      b:listen(path)
    end)
    h.run()
  end)

  it("emits ENOTFOUND when the host name does not resolve", function()
    local srv = net.createServer()
    srv:on("error", h.must_call(function(err)
      assert.equal("ENOTFOUND", err.code)
      assert.equal("getaddrinfo", err.syscall)
      assert.equal("no.such.host.invalid", err.hostname)
      assert.equal("getaddrinfo ENOTFOUND no.such.host.invalid", err.message)
    end))
    srv:listen(0, "no.such.host.invalid")
    h.run()
  end)

  it("emits EADDRNOTAVAIL for an address not on this host", function()
    local srv = net.createServer()
    srv:on("error", h.must_call(function(err)
      assert.equal("EADDRNOTAVAIL", err.code)
      assert.equal("listen EADDRNOTAVAIL: address not available 192.0.2.1",
        err.message)
    end))
    srv:listen(0, "192.0.2.1")
    h.run()
  end)

  it("raises ERR_SERVER_ALREADY_LISTEN when listening twice", function()
    local srv = net.createServer()
    srv:listen(0)
    local ok, err = pcall(srv.listen, srv, 0)
    assert.is_false(ok)
    assert.equal("ERR_SERVER_ALREADY_LISTEN", err.code)
    assert.equal("Listen method has been called more than once without "
      .. "closing.", err.message)
    srv:close()
    h.run()
  end)

  it("raises a RangeError ERR_SOCKET_BAD_PORT for a bad port", function()
    for _, port in ipairs({ 70000, -1, 1.5, "" , 65536 }) do
      local srv = net.createServer()
      local ok, err = pcall(srv.listen, srv, port)
      assert.is_false(ok)
      assert.equal("ERR_SOCKET_BAD_PORT", err.code)
      assert.equal("RangeError", err.name)
      assert.is_false(srv.listening)
    end
    local ok, err = pcall(net.createServer().listen, net.createServer(),
      70000)
    assert.is_false(ok)
    assert.equal("options.port should be >= 0 and < 65536. Received type "
      .. "number (70000).", err.message)
  end)

  it("close(cb) when not listening: cb(ERR_SERVER_NOT_RUNNING), 'close' too",
  function()
    local srv = net.createServer()
    srv:on("close", h.must_call())
    srv:close(h.must_call(function(err)
      assert.equal("ERR_SERVER_NOT_RUNNING", err.code)
      assert.equal("Server is not running.", err.message)
    end))
    h.run()
  end)

  it("emits 'close' only after every connection has ended", function()
    local order = {}
    local srv
    srv = net.createServer(function(c)
      srv:close(function(err)
        assert.is_nil(err)
        order[#order + 1] = "server close"
      end)
      assert.is_false(srv.listening)
      timers.setTimeout(function()
        order[#order + 1] = "ending"
        c:done()
      end, 30)
      c:resume()
    end)
    srv:listen(0, "127.0.0.1", function()
      local s = net.connect(srv:address().port, "127.0.0.1")
      s:resume()
      s:on("close", function() order[#order + 1] = "client close" end)
    end)
    h.run()
    assert.equal("ending", order[1])
    assert.equal(3, #order)
  end)

  it("getConnections(cb) answers on a later turn", function()
    local srv
    srv = net.createServer(function(c)
      local called = false
      assert.equal(srv, srv:getConnections(h.must_call(function(err, n)
        called = true
        assert.is_nil(err)
        assert.equal(1, n)
        c:destroy()
        srv:close()
      end)))
      assert.is_false(called)
    end)
    srv:listen(0, "127.0.0.1", function()
      net.connect(srv:address().port, "127.0.0.1"):resume()
    end)
    h.run()
  end)

  it("drops connections over maxConnections and emits 'drop'(info)",
  function()
    local kept
    local srv
    srv = net.createServer(h.must_call(function(c) kept = c end))
    srv.maxConnections = 1
    srv:on("drop", h.must_call(function(info)
      local port = srv:address().port
      assert.equal("127.0.0.1", info.localAddress)
      assert.equal(port, info.localPort)
      assert.equal("IPv4", info.localFamily)
      assert.equal("127.0.0.1", info.remoteAddress)
      assert.is_number(info.remotePort)
      assert.equal("IPv4", info.remoteFamily)
    end))
    srv:listen(0, "127.0.0.1", function()
      local port = srv:address().port
      local a = net.connect(port, "127.0.0.1")
      a:on("connect", function()
        local b = net.connect(port, "127.0.0.1")
        b:resume()
        b:on("error", function() end)  -- ECONNRESET on some kernels
        b:on("close", h.must_call(function()
          kept:destroy()
          a:destroy()
          srv:close()
        end))
      end)
    end)
    h.run()
  end)

  it("an unref'd server lets lnet.run() return", function()
    local srv = net.createServer()
    assert.equal(srv, srv:unref())
    srv:listen(0, "127.0.0.1", h.must_call())
    h.run(2000)
    assert.is_true(srv.listening)
    srv:ref()
    srv:close()
    h.run()
  end)

  it("passes allowHalfOpen, pauseOnConnect and highWaterMark to sockets",
  function()
    local srv
    srv = net.createServer({ allowHalfOpen = true, pauseOnConnect = true,
      highWaterMark = 1024, noDelay = true, keepAlive = true,
      keepAliveInitialDelay = 1000 }, h.must_call(function(c)
        assert.is_true(c.allowHalfOpen)
        assert.is_true(c:isPaused())
        assert.equal(1024, c.writableHighWaterMark)
        local got = 0
        c:on("data", function(d) got = got + #d end)
        timers.setTimeout(function()
          assert.equal(0, got)   -- paused: nothing read until resume()
          c:resume()
        end, 30)
        c:on("end", h.must_call(function()
          assert.equal(5, got)
          c:done()
          srv:close()
        end))
      end))
    srv:listen(0, "127.0.0.1", function()
      local s = net.connect(srv:address().port, "127.0.0.1")
      s:done("hello")
      s:resume()
    end)
    h.run()
  end)

  it("passes options assigned to the server after creation, as Node",
  function()
    local srv
    srv = net.createServer(h.must_call(function(c)
      assert.is_true(c.allowHalfOpen)
      assert.is_true(c:isPaused())
      assert.is_false(c.readableFlowing)
      assert.equal(1024, c.writableHighWaterMark)
      c:destroy()
      srv:close()
    end))
    srv.pauseOnConnect = true
    srv.allowHalfOpen = true
    srv.highWaterMark = 1024
    srv:listen(0, "127.0.0.1", function()
      net.connect(srv:address().port, "127.0.0.1"):on("error", function() end)
    end)
    h.run()
  end)

  it("keeps serving when the connection listener's sockets are gone",
  function()
    local n = 0
    local srv = net.createServer(function(c) c:done("x") end)
    srv:listen(0, "127.0.0.1", function()
      local port = srv:address().port
      for _ = 1, 20 do
        local s = net.connect(port, "127.0.0.1")
        s:resume()
        s:on("close", function()
          n = n + 1
          collectgarbage()
          if n == 20 then srv:close() end
        end)
      end
    end)
    h.run()
    assert.equal(20, n)
  end)

  it("keeps an idle accepted socket under 1 KiB of Lua memory", function()
    local N = 1000
    local accepted, clients = {}, {}
    local before, after
    local srv
    srv = net.createServer(function(c)
      accepted[#accepted + 1] = c
      if #accepted == N then
        collectgarbage()
        collectgarbage()
        after = collectgarbage("count")
        for _, s in ipairs(accepted) do s:destroy() end
        for _, s in ipairs(clients) do s:destroy() end
        srv:close()
      end
    end)
    srv:listen(0, "127.0.0.1", function()
      local port = srv:address().port
      -- The client side is a raw handle: only the accepted side is counted.
      for i = 1, N do
        local t = core.tcp_new(nil)
        t:connect("127.0.0.1", port)
        clients[i] = { destroy = function() t:close() end }
      end
      collectgarbage()
      collectgarbage()
      before = collectgarbage("count")
    end)
    h.run(20000)
    local per = (after - before) * 1024 / N
    assert.is_true(per < 1024, ("%.0f bytes per idle socket"):format(per))
  end)
end)
