-- A chat server: every line a client sends is broadcast to all the other
-- clients, prefixed with the sender's name.  Run:
--   lnet examples/chat-server.lua [port]
-- and connect with several `nc localhost 8125`.
local net = require("net")

local port = tonumber(arg[1]) or 8125
local clients = {}

local function broadcast(from, text)
  for c in pairs(clients) do
    if c ~= from then c:write(text) end
  end
end

local server = net.createServer(function(c)
  local name = ("%s:%d"):format(c.remoteAddress, c.remotePort)
  local partial = ""
  clients[c] = true
  c:setEncoding("utf8")
  c:write("welcome, " .. name .. "\n")
  broadcast(c, name .. " joined\n")

  c:on("data", function(chunk)
    partial = partial .. chunk
    for line in partial:gmatch("([^\n]*)\n") do
      broadcast(c, name .. "> " .. line .. "\n")
    end
    partial = partial:match("([^\n]*)$")
  end)
  c:on("close", function()
    clients[c] = nil
    broadcast(c, name .. " left\n")
  end)
  c:on("error", function() end)  -- a reset peer just leaves
end)

server:listen(port, function()
  print("chat server on port " .. server:address().port)
end)
