-- spec/helper.lua: what every spec uses.  The loop-driving part is the
-- shipped lnet.busted (the same helper users get): run() runs the loop
-- until nothing is left and fails the spec on a timeout or on an error
-- raised in a callback; must_call counts calls.  The rest runs processes
-- (the built interpreter, node) for the specs that need them.
local async = require("lnet.busted")
local core = require("lnet.core")

local H = {
  lnet = async.lnet,
  run = async.run,
  must_call = async.must_call,
  must_not_call = async.must_not_call,
  cleanup = async.cleanup,
}

--- Runs `lnet` (the built interpreter) with a shell command line; returns
--- exit code, stdout, stderr.
function H.lnet_bin()
  return os.getenv("LNET_BIN") or "build/lnet"
end

local tmpn = 0
function H.tmpname(suffix)
  tmpn = tmpn + 1
  return ("%s/lnet-spec-%d-%d%s"):format(os.getenv("TMPDIR") or "/tmp",
    core.getpid(), tmpn, suffix or "")
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  os.remove(path)
  return s
end

--- Runs a shell command; returns exit code, stdout, stderr.
function H.sh(cmd, stdin)
  local out, err = H.tmpname(".out"), H.tmpname(".err")
  local full = ("( %s ) >%s 2>%s"):format(cmd, out, err)
  if stdin then
    local inp = H.tmpname(".in")
    local f = assert(io.open(inp, "wb"))
    f:write(stdin)
    f:close()
    full = full .. " <" .. inp
    local _, _, code = os.execute(full)
    os.remove(inp)
    return code, slurp(out), slurp(err)
  end
  local _, _, code = os.execute(full .. " </dev/null")
  return code, slurp(out), slurp(err)
end

--- Starts `lnet SCRIPT 0` in the background (a server example that prints
--- its port); returns the port and a function that stops it and returns
--- what it printed.
function H.start_server(script)
  local out = H.tmpname(".srv")
  local p = assert(io.popen(("exec sh -c %s"):format(H.q(
    ("echo $$; exec %s %s 0 >%s 2>&1"):format(H.lnet_bin(), script, out)))))
  local pid = assert(tonumber(p:read("l")))
  local function output()
    local f = io.open(out)
    local text = f and f:read("a") or ""
    if f then f:close() end
    return text
  end
  local function stop()
    os.execute("kill " .. pid .. " 2>/dev/null")
    p:close()
    local text = output()
    os.remove(out)
    return text
  end
  local port
  for _ = 1, 100 do
    local text = output()
    port = tonumber(text:match(":(%d+)\n") or text:match("port (%d+)"))
    if port then break end
    os.execute("sleep 0.05")
  end
  if not port then
    error("server did not report its port: " .. stop())
  end
  return port, stop
end

--- Quotes s for the shell.
function H.q(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

return H
