-- A TCP port scanner: tries to connect to each port of a range at once and
-- reports which are open.  Run:
--   lnet examples/port-scanner.lua [host [first [last]]]
local net = require("net")

local host = arg[1] or "127.0.0.1"
local first = tonumber(arg[2]) or 1
local last = tonumber(arg[3]) or 1024
local open, pending = {}, 0

for port = first, last do
  pending = pending + 1
  local s = net.connect({ port = port, host = host, timeout = 2000 })
  s:on("connect", function()
    open[#open + 1] = port
    s:destroy()
  end)
  s:on("timeout", function() s:destroy() end)
  s:on("error", function() end)  -- closed or filtered
  s:on("close", function()
    pending = pending - 1
    if pending == 0 then
      table.sort(open)
      print(("%s: %d open port(s) in %d-%d%s"):format(host, #open, first, last,
        #open > 0 and (": " .. table.concat(open, ", ")) or ""))
    end
  end)
end
