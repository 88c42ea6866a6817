-- autoSelectFamily (§5.3): the addresses a lookup returns are tried in
-- turn, each for autoSelectFamilyAttemptTimeout ms, with Node 20's
-- 'connectionAttempt' / 'connectionAttemptTimeout' events.  The first
-- address is a black hole (spec/support/blackhole.py: a listener whose
-- accept queue is full, so SYNs are dropped), the second a real server.
local h = require("spec.helper")
local net = require("net")
local lnet = require("lnet")

local has_python = os.execute("command -v python3 >/dev/null 2>&1")

local timers = require("timers")

-- Starts the black hole; returns its port and a function that ends it.
local function blackhole()
  local p = assert(io.popen("exec env -u LD_PRELOAD python3 spec/support/blackhole.py 20"))
  local port, pid = p:read("n", "n")
  return port, function()
    os.execute("kill " .. tostring(pid) .. " 2>/dev/null")
    p:close()
  end
end

-- A lookup answering two IPv4 addresses on a later turn, as a resolver.
local function two_addresses(_, _, cb)
  timers.setImmediate(cb, nil, { { address = "127.0.0.2", family = 4 },
                                 { address = "127.0.0.1", family = 4 } })
end

describe("autoSelectFamily", function()
  after_each(h.cleanup)

  local pit = has_python and it or pending

  pit("moves on to the next address after the attempt timeout", function()
    local port, stop = blackhole()
    finally(stop)
    assert.is_number(port)
    local server = net.createServer(function(c) c:destroy() end)
    server:listen(port, "127.0.0.1", h.must_call(function()
      local events = {}
      local t0 = lnet.hrtime()
      local s = net.connect({
        port = port, host = "two.example",
        autoSelectFamily = true, autoSelectFamilyAttemptTimeout = 100,
        lookup = two_addresses,
      })
      s:on("connectionAttempt", function(ip) events[#events + 1] = "attempt " .. ip end)
      s:on("connectionAttemptTimeout", function(ip) events[#events + 1] = "timeout " .. ip end)
      s:on("connect", h.must_call(function()
        local ms = (lnet.hrtime() - t0) / 1e6
        assert.same({ "attempt 127.0.0.2", "timeout 127.0.0.2", "attempt 127.0.0.1" }, events)
        assert.equal("127.0.0.1", s.remoteAddress)
        assert.is_true(ms >= 95, ("connected after %.1f ms"):format(ms))
        s:destroy()
        server:close()
      end))
    end))
    h.run(4000)
  end)

  pit("without it, the first address is the only one tried", function()
    local port, stop = blackhole()
    finally(stop)
    local server = net.createServer(function(c) c:destroy() end)
    server:listen(port, "127.0.0.1", h.must_call(function()
      local s = net.connect({
        port = port, host = "two.example", autoSelectFamily = false,
        lookup = two_addresses,
      })
      s:on("connect", h.must_not_call("connected past the black hole"))
      timers.setTimeout(h.must_call(function()
        assert.is_true(s.connecting)
        s:destroy()
        server:close()
      end), 400)
    end))
    h.run(3000)
  end)
end)
