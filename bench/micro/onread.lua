-- bench/micro/onread.lua: the Lua half of one echoed chunk, without the
-- kernel: Socket:onread(chunk) -> emit('data') -> listener -> Socket:write
-- -> h:write, with h a stub that takes everything at once.  Variants show
-- what each proposed change would save (bench/README.md).
--   LUA_CPATH='BUILD/?.so;;' lua5.4 bench/micro/onread.lua [N]
local lnet = require("lnet")
local net = require("net")

local N = tonumber(arg[1]) or 2000000
local only = arg[2]  -- run one variant (for callgrind: Ir per chunk)
local chunk = string.rep("x", 4096)
local stub = setmetatable({}, { __index = {
  write = function() return 0, 0 end,
  write_queue_size = function() return 0 end,
  read_start = function() return 0 end,
  read_stop = function() return 0 end,
} })

local function socket(kind)
  local s = net.Socket.new()
  s._handle, s._wh = stub, stub
  if kind == "pipe" then
    s:pipe(s)
  else
    s:on("data", function(d) s:write(d) end)
  end
  return s
end

local function time(label, s)
  if only and not label:find(only, 1, true) then return end
  local onread = s.onread
  collectgarbage("collect")
  local t = os.clock()
  for _ = 1, N do onread(s, chunk) end
  local ns = (os.clock() - t) / N * 1e9
  print(("%-44s %7.1f ns/chunk"):format(label, ns))
end

time("pipe: as is", socket("pipe"))
time("data: as is", socket("data"))

-- Methods found through a table instead of SocketMT's __index function
-- (what a method lookup costs today: a Lua call per s:write).
local mt = getmetatable(net.Socket.new())
local saved = mt.__index
mt.__index = net.Socket
time("pipe: __index = Socket table", socket("pipe"))
time("data: __index = Socket table", socket("data"))
mt.__index = saved

-- Floor: only the stub's h:write, no emit, no Socket:write.
if not only or only == "floor" then
  local h, w = stub, stub.write
  local t = os.clock()
  for _ = 1, N do w(h, chunk) end
  print(("%-44s %7.1f ns/chunk"):format("floor: h:write only",
    (os.clock() - t) / N * 1e9))
end
