-- A client for examples/echo-server.lua: sends a few lines, prints what
-- comes back, then ends.  Run: lnet examples/echo-client.lua [port [host]]
local net = require("net")

local port = tonumber(arg[1]) or 8124
local host = arg[2] or "localhost"
local lines = { "one", "two", "three" }

local client
client = net.connect({ port = port, host = host }, function()
  print("connected to server")
  for _, line in ipairs(lines) do
    client:write(line .. "\n")
  end
end)
client:setEncoding("utf8")

local received = ""
client:on("data", function(chunk)
  received = received .. chunk
  io.write(chunk)
  -- The server greets with "hello\r\n", then echoes our lines.
  if received:find("three\n", 1, true) then
    client["end"](client)
  end
end)
client:on("end", function() print("disconnected from server") end)
client:on("error", function(err)
  io.stderr:write("echo-client: ", tostring(err), "\n")
  process.exitCode = 1
end)
