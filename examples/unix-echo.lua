-- An echo server and its client over a Unix domain socket, in one script:
-- the server echoes, the client sends a message, checks the echo, and both
-- close.  Run: lnet examples/unix-echo.lua [path]
local net = require("net")

local path = arg[1] or os.tmpname()
os.remove(path)  -- the socket file must not exist yet

local server = net.createServer(function(c) c:pipe(c) end)

server:listen(path, function()
  print("listening on " .. server:address())
  local msg = "hello over a unix socket"
  local client = net.connect(path)
  local got = ""
  client:on("connect", function() client["end"](client, msg) end)
  client:on("data", function(d) got = got .. d end)
  client:on("end", function()
    print("echoed: " .. got)
    assert(got == msg, "echo mismatch")
    server:close(function() os.remove(path) print("closed") end)
  end)
end)
