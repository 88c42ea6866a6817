-- Connecting when it cannot work (contract §5.3, §6): a closed TCP port
-- over IPv4 and IPv6, a missing Unix path, a name that does not resolve, a
-- local address that is taken; errors carry the fields and messages node
-- gives for the same steps, arrive as 'error' on a later turn and are
-- followed by 'close'(true).  Also name resolution: the 'lookup' event, a
-- custom lookup (both answer shapes), autoSelectFamily trying addresses in
-- turn, destroy during connect, and the argument errors raised at once.
local h = require("spec.helper")
local core = require("lnet.core")
local net = require("net")
local tick = require("lnet.tick")

local v6 = require("spec.net_support").has_ipv6() and it or pending

-- A port nothing listens on: bound, then closed (a free port on loopback).
local function closed_port(host)
  local t = core.tcp_new(nil)
  assert.equal(0, t:bind(host or "127.0.0.1", 0))
  local _, port = t:getsockname()
  t:close()
  return port
end

-- Expects 'error' then 'close'(true) on s, and calls check(err).
local function expect_error(s, check)
  local order = {}
  s:on("connect", h.must_not_call("connect"))
  s:on("error", h.must_call(function(err)
    order[#order + 1] = "error"
    check(err)
  end))
  s:on("close", h.must_call(function(had)
    order[#order + 1] = "close"
    assert.is_true(had)
    assert.same({ "error", "close" }, order)
    assert.is_true(s.destroyed)
  end))
end

describe("net.connect errors", function()
  after_each(h.cleanup)

  it("ECONNREFUSED on a closed IPv4 port, fields as node's", function()
    local port = closed_port()
    local s = net.connect(port, "127.0.0.1")
    expect_error(s, function(err)
      assert.equal("Error", err.name)
      assert.equal("ECONNREFUSED", err.code)
      assert.equal(core.errno.ECONNREFUSED, err.errno)
      assert.equal(-111, err.errno)   -- Linux, as node prints it
      assert.equal("connect", err.syscall)
      assert.equal("127.0.0.1", err.address)
      assert.equal(port, err.port)
      assert.equal("connect ECONNREFUSED 127.0.0.1:" .. port, err.message)
      assert.equal("Error: connect ECONNREFUSED 127.0.0.1:" .. port,
        tostring(err))
      assert.equal(net.Error, getmetatable(err))
    end)
    h.run()
  end)

  v6("ECONNREFUSED on a closed IPv6 port", function()
    local port = closed_port("::1")
    local s = net.connect(port, "::1")
    expect_error(s, function(err)
      assert.equal("ECONNREFUSED", err.code)
      assert.equal("::1", err.address)
      assert.equal(port, err.port)
      assert.equal("connect ECONNREFUSED ::1:" .. port, err.message)
    end)
    h.run()
  end)

  it("ENOENT for a missing Unix socket path, fields as node's", function()
    local path = h.tmpname(".nosock")
    local s = net.connect(path)
    expect_error(s, function(err)
      assert.equal("ENOENT", err.code)
      assert.equal(-2, err.errno)
      assert.equal("connect", err.syscall)
      assert.equal(path, err.address)
      assert.is_nil(err.port)
      assert.equal("connect ENOENT " .. path, err.message)
    end)
    h.run()
  end)

  it("emits the error on a later turn: a listener added after connect() "
    .. "gets it", function()
    local s = net.connect(closed_port(), "127.0.0.1")
    local raised = false
    s:on("error", h.must_call(function() raised = true end))
    assert.is_false(raised)
    h.run()
  end)

  it("ENOTFOUND for a name that does not resolve, after 'lookup'(err)",
  function()
    local s = net.connect(80, "no.such.host.invalid")
    local looked = false
    s:on("lookup", h.must_call(function(err, address, family, host)
      looked = true
      assert.equal("ENOTFOUND", err.code)
      assert.is_nil(address)
      assert.is_nil(family)
      assert.equal("no.such.host.invalid", host)
    end))
    expect_error(s, function(err)
      assert.is_true(looked)
      assert.equal("ENOTFOUND", err.code)
      assert.equal("getaddrinfo", err.syscall)
      assert.equal("no.such.host.invalid", err.hostname)
      assert.equal("getaddrinfo ENOTFOUND no.such.host.invalid", err.message)
    end)
    h.run()
  end)

  it("names the local address in the message when one was bound", function()
    local port, lport = closed_port(), closed_port()
    local s = net.connect({ port = port, host = "127.0.0.1",
      localAddress = "127.0.0.1", localPort = lport })
    expect_error(s, function(err)
      assert.equal("ECONNREFUSED", err.code)
      assert.equal(("connect ECONNREFUSED 127.0.0.1:%d - Local (127.0.0.1:%d)")
        :format(port, lport), err.message)
      assert.equal("127.0.0.1", err.localAddress)
      assert.equal(lport, err.localPort)
    end)
    h.run()
  end)

  it("resolves localhost and emits 'lookup'(nil, address, family, host)",
  function()
    local srv
    srv = net.createServer(function(c) c:destroy() end)
    srv:listen(0, "127.0.0.1", function()
      local s = net.connect(srv:address().port)   -- host: localhost
      s:on("lookup", h.must_call(function(err, address, family, host)
        assert.is_nil(err)
        assert.equal("127.0.0.1", address)
        assert.equal(4, family)
        assert.equal("localhost", host)
      end, nil))
      s:on("connect", h.must_call())
      s:resume()
      s:on("close", function() srv:close() end)
    end)
    h.run()
  end)

  it("uses a custom lookup answering (err, address, family)", function()
    local srv
    srv = net.createServer(function(c) c:destroy() end)
    srv:listen(0, "127.0.0.1", function()
      local s = net.connect({ port = srv:address().port, host = "my.name",
        family = 4,
        lookup = h.must_call(function(host, opts, cb)
          assert.equal("my.name", host)
          assert.equal(4, opts.family)
          assert.is_nil(opts.all)
          -- Answering at once would emit 'lookup' inside connect(), before
          -- the listener below exists (as in node): answer later.
          tick.nextTick(cb, nil, "127.0.0.1", 4)
        end) })
      s:on("lookup", h.must_call(function(err, address, family, host)
        assert.is_nil(err)
        assert.equal("127.0.0.1", address)
        assert.equal(4, family)
        assert.equal("my.name", host)
      end))
      s:on("connect", h.must_call())
      s:resume()
      s:on("close", function() srv:close() end)
    end)
    h.run()
  end)

  it("uses a custom lookup answering a list (autoSelectFamily asks all)",
  function()
    local srv
    srv = net.createServer(function(c) c:destroy() end)
    srv:listen(0, "127.0.0.1", function()
      local s = net.connect({ port = srv:address().port, host = "my.name",
        lookup = h.must_call(function(_, opts, cb)
          assert.is_true(opts.all)
          cb(nil, { { address = "127.0.0.1", family = 4 } })
        end) })
      s:on("connect", h.must_call())
      s:resume()
      s:on("close", function() srv:close() end)
    end)
    h.run()
  end)

  it("passes a custom lookup's error on as 'error'", function()
    local boom = { code = "EBOOM", message = "boom" }
    local s = net.connect({ port = 80, host = "my.name",
      lookup = function(_, _, cb) cb(boom) end })
    expect_error(s, function(err) assert.equal(boom, err) end)
    h.run()
  end)

  v6("autoSelectFamily tries IPv6 and IPv4 in turn and connects", function()
    local srv
    srv = net.createServer(function(c) c:destroy() end)
    -- Listening on 127.0.0.1 only: ::1 on the same port is refused.
    srv:listen(0, "127.0.0.1", function()
      local port = srv:address().port
      local attempts, looked = {}, {}
      local s = net.connect({ port = port, host = "two.families",
        lookup = function(_, _, cb)
          tick.nextTick(cb, nil, { { address = "::1", family = 6 },
                                   { address = "127.0.0.1", family = 4 } })
        end })
      s:on("lookup", function(_, address) looked[#looked + 1] = address end)
      s:on("connectionAttempt", function(address, p, family)
        attempts[#attempts + 1] = { address, p, family }
      end)
      s:on("connectionAttemptFailed", h.must_call())
      s:on("connect", h.must_call(function()
        assert.same({ "::1", "127.0.0.1" }, looked)
        assert.same({ { "::1", port, 6 }, { "127.0.0.1", port, 4 } },
          attempts)
        assert.same({ "::1:" .. port, "127.0.0.1:" .. port },
          s.autoSelectFamilyAttemptedAddresses)
        assert.equal("127.0.0.1", s.remoteAddress)
      end))
      s:resume()
      s:on("close", function() srv:close() end)
    end)
    h.run()
  end)

  v6("autoSelectFamily: every attempt refused gives an AggregateError",
  function()
    local port = closed_port()
    local failed = {}
    local s = net.connect({ port = port, host = "two.families",
      lookup = function(_, _, cb)
        cb(nil, { { address = "::1", family = 6 },
                  { address = "127.0.0.1", family = 4 } })
      end })
    s:on("connectionAttemptFailed", function(address, p, family, err)
      failed[#failed + 1] = address
      assert.equal(port, p)
      assert.is_number(family)
      assert.equal("ECONNREFUSED", err.code)
    end)
    expect_error(s, function(err)
      assert.equal("AggregateError", err.name)
      assert.equal("ECONNREFUSED", err.code)
      assert.equal("", err.message)
      assert.equal(2, #err.errors)
      assert.equal("connect ECONNREFUSED ::1:" .. port, err.errors[1].message)
      assert.equal("connect ECONNREFUSED 127.0.0.1:" .. port,
        err.errors[2].message)
      assert.same({ "::1", "127.0.0.1" }, failed)
    end)
    h.run()
  end)

  it("destroy() while connecting: no 'connect', 'close'(false) once",
  function()
    local srv
    srv = net.createServer(function(c) c:resume() end)
    srv:listen(0, "127.0.0.1", function()
      local s = net.connect(srv:address().port, "127.0.0.1")
      s:on("connect", h.must_not_call("connect after destroy"))
      s:on("close", h.must_call(function(had)
        assert.is_false(had)
        srv:close()
      end))
      s:destroy()
      assert.is_false(s.connecting)
      assert.is_true(s.destroyed)
    end)
    h.run()
  end)

  it("destroy() while resolving: no 'connect', no error", function()
    local s = net.connect(80, "localhost")
    s:on("connect", h.must_not_call("connect after destroy"))
    s:on("error", h.must_not_call("error after destroy"))
    s:on("close", h.must_call(function(had) assert.is_false(had) end))
    s:destroy()
    h.run()
  end)

  it("destroy(err) while connecting: 'error' then 'close'(true)", function()
    local s = net.connect(closed_port(), "127.0.0.1")
    local mine = { code = "MINE" }
    expect_error(s, function(err) assert.equal(mine, err) end)
    s:destroy(mine)
    h.run()
  end)

  it("raises ERR_MISSING_ARGS without port or path", function()
    local ok, err = pcall(net.connect, {})
    assert.is_false(ok)
    assert.equal("ERR_MISSING_ARGS", err.code)
    assert.equal("TypeError", err.name)
  end)

  it("raises ERR_SOCKET_BAD_PORT for a bad port", function()
    for _, port in ipairs({ 65536, -1, 1.5, "" }) do
      local ok, err = pcall(net.connect, port, "127.0.0.1")
      assert.is_false(ok)
      assert.equal("ERR_SOCKET_BAD_PORT", err.code)
      assert.equal("RangeError", err.name)
    end
    h.run()
  end)

  it("raises ERR_INVALID_IP_ADDRESS for a bad localAddress", function()
    local ok, err = pcall(net.connect, { port = 80, host = "127.0.0.1",
      localAddress = "not-an-ip" })
    assert.is_false(ok)
    assert.equal("ERR_INVALID_IP_ADDRESS", err.code)
    h.run()
  end)

  it("raises ERR_INVALID_ARG_TYPE for a lookup that is not a function",
  function()
    local ok, err = pcall(net.connect, { port = 80, host = "x.y",
      lookup = "no" })
    assert.is_false(ok)
    assert.equal("ERR_INVALID_ARG_TYPE", err.code)
    h.run()
  end)
end)
