-- The examples in examples/ run as documented: each is started with the
-- built interpreter, as `lnet examples/NAME.lua`, and its output checked.
-- Servers are started on port 0 and stopped by the spec.
local h = require("spec.helper")

local LNET = h.lnet_bin()

local start_server = h.start_server

describe("examples", function()
  it("unix-echo.lua echoes over a Unix socket and exits", function()
    local path = h.tmpname(".sock")
    local code, out = h.sh(LNET .. " examples/unix-echo.lua " .. path)
    assert.equal(0, code)
    assert.matches("echoed: hello over a unix socket\nclosed\n", out)
  end)

  it("echo-server.lua and echo-client.lua talk", function()
    local port, stop = start_server("examples/echo-server.lua")
    local code, out = h.sh(("%s examples/echo-client.lua %d"):format(LNET, port))
    local server_out = stop()
    assert.equal(0, code)
    assert.equal("connected to server\nhello\r\none\ntwo\nthree\ndisconnected from server\n", out)
    assert.matches("client connected", server_out)
    assert.matches("client disconnected", server_out)
  end)

  it("chat-server.lua broadcasts a line to the other clients", function()
    local port, stop = start_server("examples/chat-server.lua")
    local code, out = h.sh(LNET .. " -e " .. h.q(([[
      local net = require("net")
      local a, b
      local got = ""
      b = net.connect(%d, function()
        a = net.connect(%d)
        a:on("data", function(d)
          if d:find("welcome") then a:write("hi there\n") end
        end)
      end)
      b:setEncoding("utf8")
      b:on("data", function(d)
        got = got .. d
        if got:find("> hi there\n", 1, true) then
          print("b got the line")
          a:destroy() b:destroy()
        end
      end)]]):format(port, port)))
    stop()
    assert.equal(0, code)
    assert.equal("b got the line\n", out)
  end)

  it("port-scanner.lua finds an open port", function()
    local port, stop = start_server("examples/chat-server.lua")
    local code, out = h.sh(("%s examples/port-scanner.lua 127.0.0.1 %d %d"):format(
      LNET, port - 2, port + 2))
    stop()
    assert.equal(0, code)
    -- Other processes (tests run in parallel) may hold a neighbouring port.
    local list = out:match(("%%d+ open port%%(s%%) in %d%%-%d: ([%%d, ]+)\n"):format(
      port - 2, port + 2))
    assert.is_truthy(list, out)
    assert.matches("%f[%d]" .. port .. "%f[%D]", list)
  end)
end)
