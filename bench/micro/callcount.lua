-- bench/micro/callcount.lua: counts Lua function calls by definition site
-- while a server runs, to see what a connection or a message costs in calls.
--   lnet bench/micro/callcount.lua SERVER.lua PORT SECONDS
-- Prints the counts (descending) after SECONDS and exits.
local script, port, secs = arg[1], arg[2], tonumber(arg[3]) or 5
local counts = {}
local getinfo = debug.getinfo
arg = { [0] = script, port }
setTimeout(function()
  debug.sethook()
  local list = {}
  for k, n in pairs(counts) do list[#list + 1] = { k, n } end
  table.sort(list, function(a, b) return a[2] > b[2] end)
  for i = 1, math.min(#list, 60) do
    io.stderr:write(("%9d  %s\n"):format(list[i][2], list[i][1]))
  end
  os.exit(0)
end, secs * 1000)
debug.sethook(function()
  local info = getinfo(2, "S")
  local k = info.short_src .. ":" .. info.linedefined
  counts[k] = (counts[k] or 0) + 1
end, "c")
dofile(script)
