-- What the net specs share (not a spec itself: busted runs *_spec.lua).
local core = require("lnet.core")

local S = {}

-- True when ::1 can be bound here; IPv6 specs are pending otherwise.
function S.has_ipv6()
  local t = core.tcp_new(nil)
  local ok = t ~= nil and t:bind("::1", 0) == 0
  if t then t:close() end
  return ok
end

return S
