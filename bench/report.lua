-- bench/report.lua: the table of medians from bench/run.sh's results file.
--   lua5.4 bench/report.lua RESULTS
-- Each line of RESULTS is key=value pairs (round, case, server, then what
-- bench/loadgen printed).  Every figure is the median over rounds, taken
-- separately, and is shown as a ratio to Node's (the Node server of the same
-- style: pipe for *-pipe, 'data' -> write for the others) and to the C
-- libuv server's.

local path = assert(arg[1], "usage: report.lua RESULTS")

local runs = {}      -- case -> server -> list of records
local case_order, server_order = {}, {}
local seen_case, seen_server = {}, {}

for line in io.lines(path) do
  local rec = {}
  for k, v in line:gmatch("(%S+)=(%S+)") do rec[k] = tonumber(v) or v end
  local c, s = rec.case, rec.server
  if c and s then
    if not seen_case[c] then seen_case[c] = true; case_order[#case_order + 1] = c end
    if not seen_server[s] then
      seen_server[s] = true
      server_order[#server_order + 1] = s
    end
    runs[c] = runs[c] or {}
    runs[c][s] = runs[c][s] or {}
    if not rec.failed then table.insert(runs[c][s], rec) end
  end
end

local function median(list, key)
  local xs = {}
  for _, r in ipairs(list) do
    if type(r[key]) == "number" then xs[#xs + 1] = r[key] end
  end
  if #xs == 0 then return nil end
  table.sort(xs)
  local m = #xs // 2
  if #xs % 2 == 1 then return xs[m + 1] end
  return (xs[m] + xs[m + 1]) / 2
end

local preferred = { "lnet-pipe", "lnet-data", "node-pipe", "node-data", "luv",
  "uv-c" }
local order = {}
for _, s in ipairs(preferred) do
  if seen_server[s] then order[#order + 1] = s end
end
for _, s in ipairs(server_order) do
  local found = false
  for _, t in ipairs(order) do found = found or t == s end
  if not found then order[#order + 1] = s end
end

local function node_of(s)
  if s:match("pipe$") then return "node-pipe" end
  return "node-data"
end

-- case kind -> throughput key, its unit, whether higher is better
local function kind(c)
  if c:match("^echo") then return "msgs_s", "msg/s" end
  if c:match("^pingpong") then return "msgs_s", "rt/s" end
  if c:match("^connect") then return "conns_s", "conn/s" end
  return "kib_per_conn", "KiB/conn"
end

local function fmt(x, digits)
  if x == nil then return "-" end
  if digits then return ("%." .. digits .. "f"):format(x) end
  if x >= 100 then return ("%.0f"):format(x) end
  if x >= 10 then return ("%.1f"):format(x) end
  return ("%.2f"):format(x)
end

local function ratio(a, b)
  if a == nil or b == nil or b == 0 then return "-" end
  return ("%.2f"):format(a / b)
end

print(("rounds: %d per figure (median); file %s"):format(
  (function()
    local n = 0
    for _, c in pairs(runs) do
      for _, l in pairs(c) do n = math.max(n, #l) end
    end
    return n
  end)(), path))
print()
print("| case | server | throughput | ×node | ×C | MB/s | server CPU ns/unit"
  .. " | ×node | ×C | user ns | sys ns | p99 µs | srv/lg CPU |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for _, c in ipairs(case_order) do
  local key, unit = kind(c)
  local by = runs[c]
  local function med(s, k) return by[s] and median(by[s], k) end
  for _, s in ipairs(order) do
    if by[s] then
      local t = med(s, key)
      local cpu = med(s, "ns_per")
      local node, cs = node_of(s), "uv-c"
      local row = {
        c, s,
        t and (fmt(t) .. " " .. unit) or "FAILED",
        ratio(t, med(node, key)), ratio(t, med(cs, key)),
        fmt(med(s, "mb_s")),
        fmt(cpu, 0), ratio(cpu, med(node, "ns_per")), ratio(cpu, med(cs, "ns_per")),
        fmt(med(s, "usr_ns_per"), 0), fmt(med(s, "sys_ns_per"), 0),
        fmt(med(s, "p99_us")),
        (med(s, "srv_cpu") and (fmt(med(s, "srv_cpu"), 2) .. "/" ..
          fmt(med(s, "lg_cpu"), 2))) or "-",
      }
      print("| " .. table.concat(row, " | ") .. " |")
    end
  end
end
