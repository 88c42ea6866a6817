-- lnet.repl: the interpreter's read-eval-print loop on a terminal.  Lines
-- arrive as 'data' from a libuv TTY handle, so the event loop keeps running
-- between lines: a server started at the prompt answers while you type.
local core = require("lnet.core")

local repl = {}

local PROMPT, PROMPT2 = "> ", ">> "

local function prompt(p)
  io.stdout:write(p)
  io.stdout:flush()
end

-- Compiles line as an expression first (so `1 + 1` prints 2), then as a
-- statement, like lua.c.  Returns the function, or nil, message, incomplete.
local function compile(src)
  local fn = load("return " .. src, "=stdin")
  if fn then return fn end
  local err
  fn, err = load(src, "=stdin")
  if fn then return fn end
  return nil, err, err:sub(-5) == "<eof>"
end

local function report(...)
  local n = select("#", ...)
  if n > 0 then
    local out = {}
    for i = 1, n do out[i] = tostring((select(i, ...))) end
    print(table.concat(out, "\t"))
  end
end

local function msghandler(e)
  if type(e) ~= "string" then
    local mt = getmetatable(e)
    if not (mt and mt.__tostring) then
      return ("(error object is a %s value)"):format(type(e))
    end
    e = tostring(e)
  end
  return debug.traceback(e, 2)
end

--- Starts the REPL on fd 0 (a terminal); returns false if it cannot.
function repl.start()
  local pending = ""     -- an incomplete chunk spanning several lines
  local partial = ""     -- bytes of a line not yet ended
  local owner = {}
  local tty = core.tty_new(owner, 0)
  if not tty then return false end

  local function eval(line)
    local src = pending == "" and line or (pending .. "\n" .. line)
    local fn, err, incomplete = compile(src)
    if not fn then
      if incomplete then
        pending = src
        return PROMPT2
      end
      pending = ""
      io.stderr:write("lnet: ", err, "\n")
      return PROMPT
    end
    pending = ""
    local res = table.pack(xpcall(fn, msghandler))
    if res[1] then
      report(table.unpack(res, 2, res.n))
    else
      io.stderr:write("lnet: ", tostring(res[2]), "\n")
    end
    return PROMPT
  end

  function owner.onread(_, chunk)
    if chunk == nil then   -- end of input (Ctrl-D)
      io.stdout:write("\n")
      tty:close()
      return
    end
    local buf = partial .. chunk
    local p, start = nil, 1
    while true do
      local nl = buf:find("\n", start, true)
      if not nl then break end
      p = eval(buf:sub(start, nl - 1))
      start = nl + 1
    end
    partial = buf:sub(start)
    if p then prompt(p) end
  end

  print(("lnet %s (%s, libuv %s)"):format(core.version, _VERSION,
                                           core.uv_version))
  prompt(PROMPT)
  tty:read_start()
  return true
end

return repl
