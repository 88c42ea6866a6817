-- The TCP echo server of Node's `net` documentation: every byte a client
-- sends comes back to it.  Run: lnet examples/echo-server.lua [port]
-- Try it with: lnet examples/echo-client.lua [port]   (or: nc localhost 8124)
local net = require("net")

local port = tonumber(arg[1]) or 8124

local server = net.createServer(function(c)
  print("client connected", c.remoteAddress, c.remotePort)
  c:on("end", function() print("client disconnected") end)
  -- A client that resets instead of ending must not stop the server.
  c:on("error", function(err) print("client error: " .. err.message) end)
  c:write("hello\r\n")
  c:pipe(c)
end)

server:on("error", function(err) error(err) end)

server:listen(port, function()
  local a = server:address()
  print(("echo server listening on [%s]:%d"):format(a.address, a.port))
end)
