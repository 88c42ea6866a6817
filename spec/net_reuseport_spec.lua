-- listen's reusePort option (§5.2): with SO_REUSEPORT on both, two servers
-- bind the same port; without it on the second, EADDRINUSE as usual.
local h = require("spec.helper")
local net = require("net")

describe("server:listen({reusePort = true})", function()
  after_each(h.cleanup)

  it("lets two servers listen on the same port", function()
    local a = net.createServer()
    a:listen({ port = 0, host = "127.0.0.1", reusePort = true }, h.must_call(function()
      local port = a:address().port
      local b = net.createServer()
      b:on("error", h.must_not_call("second bind failed"))
      b:listen({ port = port, host = "127.0.0.1", reusePort = true }, h.must_call(function()
        assert.equal(port, b:address().port)
        a:close()
        b:close()
      end))
    end))
    h.run()
  end)

  it("without it the second server gets EADDRINUSE", function()
    local a = net.createServer()
    a:listen({ port = 0, host = "127.0.0.1", reusePort = true }, h.must_call(function()
      local port = a:address().port
      local b = net.createServer()
      b:on("error", h.must_call(function(err)
        assert.equal("EADDRINUSE", err.code)
        a:close()
      end))
      b:listen({ port = port, host = "127.0.0.1" })
    end))
    h.run()
  end)
end)
