-- lnet.main: what the `lnet` interpreter does once src/main.c has read its
-- options (contract §9): run the chunks and the script, then the loop until
-- nothing referenced is left, then process 'exit', and return the exit code.
local core = require("lnet.core")
local lnet = require("lnet")
local process = require("lnet.process")

local function describe(e)
  if type(e) == "string" then return e end
  local mt = getmetatable(e)
  if mt and mt.__tostring then return tostring(e) end
  return ("(error object is a %s value)"):format(type(e))
end

local function report(e, tb)
  io.stdout:flush()
  io.stderr:write("lnet: ", describe(e), "\n")
  if tb then io.stderr:write(tb, "\n") end
  io.stderr:flush()
end

local function traceback_handler(e)
  return { value = e, traceback = debug.traceback(nil, 2) }
end

-- Runs fn(...) protected; reports an error and returns false.
local function docall(fn, ...)
  local ok, err = xpcall(fn, traceback_handler, ...)
  if not ok then
    report(err.value, err.traceback)
    return false
  end
  return true
end

local function dochunk(src, chunkname)
  local fn, err = load(src, chunkname)
  if not fn then report(err) return false end
  return docall(fn)
end

local function dofile_(path, args)
  local fn, err = loadfile(path)   -- nil path: stdin
  if not fn then report(err) return false end
  return docall(fn, table.unpack(args, 1, args.n))
end

-- A callback's traceback ends with the frames that called it (libuv's
-- side, lnet.run, this file): only the callback's part is worth reading.
local function callback_traceback(tb)
  if type(tb) ~= "string" then return nil end
  local cut = tb:find("\n[^\n]*%[C%]: in function 'lnet%.core%.run'")
  if cut then
    tb = tb:sub(1, cut - 1):gsub("\n%s*%[C%]: in %?$", "")
  end
  return tb
end

-- Runs the loop; a callback's error is reported with its own traceback.  In
-- the REPL the loop carries on after a report, as Node's REPL does.
local function run_loop(interactive)
  while true do
    local ok, err = pcall(lnet.run)
    if ok then return true end
    report(err, callback_traceback(core.traceback()))
    if not interactive then return false end
  end
end

--- opts: chunks (sequence of -e sources), script (path, "-" for stdin, or
--- nil), args (script arguments, with .n), argv (process.argv), repl.
return function(opts)
  process._install_globals(opts.argv)
  local ok = true
  for _, src in ipairs(opts.chunks) do
    ok = dochunk(src, "=(command line)")
    if not ok then break end
  end
  if ok and opts.script then
    ok = dofile_(opts.script ~= "-" and opts.script or nil, opts.args)
  end
  if ok and opts.repl then
    ok = require("lnet.repl").start()
  end
  if ok then
    ok = run_loop(opts.repl)
  end
  local code = ok and process._exit_code(process.exitCode) or 1
  if not docall(process._emit_exit, code) then
    code = 1
  else
    code = ok and process._exit_code(process.exitCode) or 1
  end
  io.stdout:flush()
  return code
end
