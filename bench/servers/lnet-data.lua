-- The 'data' -> write echo server: every chunk read is written back, with
-- no backpressure (the common hand-written form).
-- Run: lnet lnet-data.lua PORT (0: any; printed).
local net = require("net")

local server = net.createServer(function(c)
  c:on("error", function() end)
  c:on("data", function(chunk) c:write(chunk) end)
end)

server:on("error", function(err) error(err) end)
server:listen(tonumber(arg[1]) or 0, "127.0.0.1", function()
  print(server:address().port)
  io.stdout:flush()
end)
