-- net.Socket({fd = n}) (§5.3): a socket adopts a descriptor that is already
-- connected.  The descriptor comes from bash (`exec 3<>/dev/tcp/...`,
-- connected to examples/echo-server.lua) and is inherited by a child lnet.
local h = require("spec.helper")

local has_bash = os.execute("command -v bash >/dev/null 2>&1")

local CHILD = [[
local net = require("net")
local s = net.Socket({ fd = 3 })
local got = ""
s:on("data", function(d)
  got = got .. d
  if got:find("ping\n", 1, true) then
    print(got == "hello\r\nping\n", s.remotePort == tonumber(arg[1]), s.readyState)
    s:destroy()
  end
end)
s:write("ping\n")
]]

describe("net.Socket({fd = n})", function()
  local pit = has_bash and it or pending

  pit("adopts a connected descriptor and talks through it", function()
    local port, stop = h.start_server("examples/echo-server.lua")
    local path = h.tmpname(".lua")
    -- busted keeps one finaliser per spec: both clean-ups in it.
    finally(function() stop() os.remove(path) end)
    local f = assert(io.open(path, "w"))
    f:write(CHILD)
    f:close()
    local code, out, err = h.sh(("bash -c %s"):format(h.q(
      ("exec 3<>/dev/tcp/127.0.0.1/%d && exec %s %s %d"):format(
        port, h.lnet_bin(), path, port))))
    assert.equal("", err)
    assert.equal(0, code)
    assert.equal("true\ttrue\topen\n", out)
  end)

  pit("rejects a descriptor that is not a socket, as Node", function()
    local code, out = h.sh(("bash -c %s"):format(h.q(
      ("exec 3<spec/net_fd_spec.lua && exec %s -e %s"):format(h.lnet_bin(), h.q(
        'local ok, e = pcall(require("net").Socket, { fd = 3 }) ' ..
        'print(ok, e.code, e.name, e.message)')))))
    assert.equal(0, code)
    assert.equal("false\tERR_INVALID_FD_TYPE\tTypeError\tUnsupported fd type: FILE\n", out)
  end)
end)
