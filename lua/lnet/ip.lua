-- net.isIP / net.isIPv4 / net.isIPv6 (lnet-api.md §5.1).
--
-- Accepts exactly what Node 20 accepts (learned by running node on many
-- inputs; the expected answers in spec/net_isip_spec.lua come from node):
--   IPv4: four dotted decimal octets 0..255, no leading zeros ("01" is
--         rejected, "0" is fine), nothing before or after, no zone.
--   IPv6: groups of 1-4 hex digits separated by ':'; without '::' exactly
--         8 groups, with one '::' at most 7 explicit groups; a dotted IPv4
--         may stand for the last two groups; optionally followed by a zone
--         '%' plus one or more of [0-9A-Za-z.:-].
-- A non-string input is not an error: it is simply not an address. (Node
-- stringifies objects first, so net.isIP(['1.2.3.4']) is 4 there; Lua
-- tables have no such conversion, and numbers never stringify to an
-- address, so "non-string -> 0" loses nothing real.)
--
-- Called on every connect, so it is a byte scanner: no patterns compiled,
-- no substrings, no tables.

local byte, find, type = string.byte, string.find, type

local DOT, COLON, PERCENT = 46, 58, 37

-- Value of a hex digit byte, or nil.
local HEX = {}
for c = 48, 57 do HEX[c] = c - 48 end
for c = 65, 70 do HEX[c] = c - 55 end
for c = 97, 102 do HEX[c] = c - 87 end

-- Bytes Node allows in a zone id.
local ZONE = {[45] = true, [46] = true, [58] = true}
for c = 48, 57 do ZONE[c] = true end
for c = 65, 90 do ZONE[c] = true end
for c = 97, 122 do ZONE[c] = true end

-- Is s[i..n] exactly a dotted-quad IPv4 address?
local function v4(s, i, n)
  local octets = 0
  while true do
    local c = byte(s, i)
    if i > n or c < 48 or c > 57 then return false end
    local v = c - 48
    i = i + 1
    c = byte(s, i)
    while i <= n and c >= 48 and c <= 57 do
      if v == 0 then return false end -- leading zero
      v = v * 10 + c - 48
      if v > 255 then return false end
      i = i + 1
      c = byte(s, i)
    end
    octets = octets + 1
    if i > n then return octets == 4 end
    if c ~= DOT or octets == 4 then return false end
    i = i + 1
  end
end

-- Is s[1..n] an IPv6 address (without zone)?
local function v6(s, n)
  if n < 2 then return false end
  local i = 1
  local groups = 0
  local compressed = false
  if byte(s, 1) == COLON then
    -- Only "::" may start an address.
    if byte(s, 2) ~= COLON then return false end
    if n == 2 then return true end
    compressed = true
    i = 3
  end
  while true do
    local j = i
    while j <= n and HEX[byte(s, j)] do j = j + 1 end
    local c = byte(s, j)
    if j <= n and c == DOT then
      -- An embedded IPv4 is the last thing and counts as two groups.
      if not v4(s, i, n) then return false end
      groups = groups + 2
      break
    end
    local len = j - i
    if len == 0 or len > 4 then return false end
    groups = groups + 1
    if j > n then break end
    if c ~= COLON then return false end
    if byte(s, j + 1) == COLON and j + 1 <= n then
      if compressed then return false end -- a second "::"
      compressed = true
      i = j + 2
      if i > n then break end -- trailing "::"
    else
      i = j + 1
      if i > n then return false end -- trailing single ':'
    end
  end
  if compressed then return groups <= 7 end
  return groups == 8
end

local M = {}

function M.isIPv4(input)
  if type(input) ~= "string" then return false end
  local n = #input
  -- Shortest "0.0.0.0", longest "255.255.255.255".
  if n < 7 or n > 15 then return false end
  return v4(input, 1, n)
end

function M.isIPv6(input)
  if type(input) ~= "string" then return false end
  local n = #input
  local pct = find(input, "%", 1, true)
  if pct then
    if pct == n then return false end -- a zone needs at least one byte
    for k = pct + 1, n do
      if not ZONE[byte(input, k)] then return false end
    end
    n = pct - 1
  end
  -- Longest zone-less form: 6 groups of 4 plus a 15-byte IPv4 = 45.
  if n > 45 then return false end
  return v6(input, n)
end

function M.isIP(input)
  if M.isIPv4(input) then return 4 end
  if M.isIPv6(input) then return 6 end
  return 0
end

return M
