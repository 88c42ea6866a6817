-- The net module's own table (contract §5.1, §6): the names it exports and
-- that they are the same objects as their other spellings (createConnection
-- is connect, net.Error is lnet.Error, isIP* are lnet.ip's), and the
-- autoSelectFamily defaults Node 20 has.
local h = require("spec.helper")
local lnet = require("lnet")
local net = require("net")
local ip = require("lnet.ip")
local events = require("events")

describe("net module", function()
  after_each(h.cleanup)

  it("exports createConnection as connect, Stream as Socket", function()
    assert.equal(net.connect, net.createConnection)
    assert.equal(net.Socket, net.Stream)
    assert.is_function(net.createServer)
  end)

  it("exports lnet.Error as net.Error", function()
    assert.is_table(net.Error)
    assert.equal(lnet.Error, net.Error)
  end)

  it("exports isIP, isIPv4, isIPv6 from lnet.ip", function()
    assert.equal(ip.isIP, net.isIP)
    assert.equal(6, net.isIP("::1"))
    assert.is_true(net.isIPv4("127.0.0.1"))
    assert.is_false(net.isIPv6("127.0.0.1"))
  end)

  it("makes Sockets and Servers EventEmitters", function()
    for _, o in ipairs({ net.Socket(), net.createServer() }) do
      for _, m in ipairs({ "on", "once", "off", "emit", "removeListener",
        "listenerCount" }) do
        assert.equal(events.EventEmitter[m] ~= nil, o[m] ~= nil, m)
      end
      local got
      o:on("custom", function(v) got = v end)
      assert.is_true(o:emit("custom", 42))
      assert.equal(42, got)
    end
  end)

  it("has Node 20's autoSelectFamily defaults, settable", function()
    assert.is_true(net.getDefaultAutoSelectFamily())
    assert.equal(250, net.getDefaultAutoSelectFamilyAttemptTimeout())
    net.setDefaultAutoSelectFamilyAttemptTimeout(5)
    assert.equal(10, net.getDefaultAutoSelectFamilyAttemptTimeout())
    net.setDefaultAutoSelectFamilyAttemptTimeout(250)
    net.setDefaultAutoSelectFamily(false)
    assert.is_false(net.getDefaultAutoSelectFamily())
    net.setDefaultAutoSelectFamily(true)
  end)
end)
