-- Running out of file descriptors (issue 4): with the descriptor limit
-- lower than the connections attempted, accept and connect fail with
-- EMFILE; the server must neither spin the loop (burn CPU while the
-- backlog cannot be accepted) nor crash, and must serve again once
-- descriptors are free.  Run in a child `lnet` under `ulimit -n`.
local h = require("spec.helper")

local SCRIPT = [[
local net = require("net")
local clients = {}
local server = net.createServer(function(c)
  c:on("data", function(d) c:write(d) end)
  c:on("error", function() end)
end)
server:listen(0, "127.0.0.1", function()
  local port = server:address().port
  local failed = 0
  for _ = 1, 80 do
    local c = net.connect(port, "127.0.0.1")
    c:on("error", function() failed = failed + 1 end)
    clients[#clients + 1] = c
  end
  setTimeout(function()
    local c0 = os.clock()
    setTimeout(function()
      -- 500 ms of wall time at the limit: a spinning loop burns it all.
      print("cpu", os.clock() - c0 < 0.2, "failures", failed > 0)
      for _, c in ipairs(clients) do c:destroy() end
      setTimeout(function()
        local c
        c = net.connect(port, "127.0.0.1", function() c:write("ping") end)
        c:on("data", function(d) print("served", d) c:destroy() server:close() end)
      end, 50)
    end, 500)
  end, 200)
end)
]]

describe("net under EMFILE", function()
  it("does not spin or crash, and serves again once descriptors are free", function()
    local path = h.tmpname(".lua")
    local f = assert(io.open(path, "w"))
    f:write(SCRIPT)
    f:close()
    local code, out, err = h.sh("ulimit -n 40 && exec " .. h.lnet_bin() .. " " .. path)
    os.remove(path)
    assert.equal("", err)
    assert.equal(0, code)
    assert.equal("cpu\ttrue\tfailures\ttrue\nserved\tping\n", out)
  end)
end)
