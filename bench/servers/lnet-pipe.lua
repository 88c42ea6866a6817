-- The echo server of examples/echo-server.lua, minus the per-connection
-- output: c:pipe(c).  Run: lnet lnet-pipe.lua PORT (0: any; printed).
local net = require("net")

local server = net.createServer(function(c)
  -- A load generator may reset; that must not stop the server.
  c:on("error", function() end)
  c:pipe(c)
end)

server:on("error", function(err) error(err) end)
server:listen(tonumber(arg[1]) or 0, "127.0.0.1", function()
  print(server:address().port)
  io.stdout:flush()
end)
