-- A plain luv echo server on Lua 5.4 (Debian's lua-luv): the raw binding,
-- no Node semantics.  Run: lua5.4 luv-echo.lua PORT (0: any; printed).
local uv = require("luv")

local server = uv.new_tcp()
assert(server:bind("127.0.0.1", tonumber(arg[1]) or 0))
assert(server:listen(511, function(err)
  if err then return end
  local c = uv.new_tcp()
  if not server:accept(c) then c:close() return end
  c:read_start(function(rerr, chunk)
    if rerr or not chunk then
      c:close()
      return
    end
    c:write(chunk)
  end)
end))
print(server:getsockname().port)
io.stdout:flush()
uv.run()
