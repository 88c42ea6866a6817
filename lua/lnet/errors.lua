-- lnet.errors: the error values of lnet (contract §6).
--
-- Every error is a plain table {name=, code=, message=, ...} whose metatable
-- is errors.Error (exported as lnet.Error and net.Error).  No traceback is
-- captured: building an error costs one table, which matters because I/O
-- errors are created on hot failure paths (refused connections, resets).
--
-- Message texts are Node 20's, checked by provoking each error in node; the
-- strings are recorded in spec/errors_spec.lua.  Where Node's text prints a
-- JavaScript value, the Lua value is rendered by describe()/inspect() below
-- (see the comment there for the rules).

local errors = {}

local type, tostring, tonumber, select = type, tostring, tonumber, select
local getmetatable, setmetatable = getmetatable, setmetatable
local pairs, ipairs, error = pairs, ipairs, error
local sfmt, sfind, ssub, sbyte, sgsub = string.format, string.find,
  string.sub, string.byte, string.gsub
local concat = table.concat
local mtype, tointeger = math.type, math.tointeger

-- {==========================================================================
-- The metatable and the generic constructor.

local Error = {}
Error.__name = "Error"

-- Node's NodeError.toString puts the code in brackets only for its own
-- ERR_* codes; system errors print as "Error: connect ECONNREFUSED ...".
function Error.__tostring(e)
  local name, code, message = e.name or "Error", e.code, e.message
  if type(code) == "string" and ssub(code, 1, 4) == "ERR_" then
    name = name .. " [" .. code .. "]"
  end
  if message == nil or message == "" then
    return tostring(name)
  end
  return tostring(name) .. ": " .. tostring(message)
end

errors.Error = Error

-- new(name, code, message[, fields]) -> error.  `fields` is copied in, so a
-- caller may reuse it.
function errors.new(name, code, message, fields)
  local e = {name = name, code = code, message = message}
  if fields then
    for k, v in pairs(fields) do e[k] = v end
  end
  return setmetatable(e, Error)
end

-- is_error(v) -> true when v was built by this module.
function errors.is_error(v)
  return getmetatable(v) == Error
end

-- }==========================================================================


-- {==========================================================================
-- Rendering Lua values inside messages.
--
-- describe(v) plays the part of Node's determineSpecificType (the text after
-- "Received" in ERR_INVALID_ARG_TYPE and ERR_SOCKET_BAD_PORT):
--   nil                     -> "nil"
--   boolean                 -> "type boolean (true)"
--   number                  -> "type number (5)", "type number (5.5)", Lua's
--                              own spelling (a float 5.0 prints "5.0"), with
--                              "inf", "-inf" and "nan" for the non-finite
--   string                  -> "type string ('abc')", cut to 25 characters
--                              plus "..." when longer than 28; a string
--                              holding ' is shown double-quoted and escaped
--                              as JSON, as Node does
--   function                -> "function" (Lua functions have no name)
--   table/userdata with a
--   string __name metafield -> "an instance of Socket" (Node prints the
--                              constructor's name the same way)
--   other table/userdata    -> "type table", "type userdata"
--   thread                  -> "type thread"
-- inspect(v) plays util.inspect (ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE,
-- ERR_UNHANDLED_ERROR): nil, booleans and numbers as above without the
-- "type ..." wrapper, strings quoted and escaped like Node ('a\nb'), a table
-- as a one-level constructor `{ 1, 2, k = 'v', n = { ... } }` with keys in a
-- stable order, and anything else by its type name.

local function number_text(n)
  if n ~= n then return "nan" end
  if n == 1 / 0 then return "inf" end
  if n == -1 / 0 then return "-inf" end
  return tostring(n)
end

-- Cut long strings by characters when the text is UTF-8, else by bytes, so
-- that a message never ends in half a character.
local function shorten(s, max, keep)
  local len = utf8.len(s)
  if len then
    if len > max then return ssub(s, 1, utf8.offset(s, keep + 1) - 1) .. "..." end
    return s
  end
  if #s > max then return ssub(s, 1, keep) .. "..." end
  return s
end

local json_escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function json_quote(s)
  return '"' .. sgsub(s, '[%c"\\]', function(c)
    return json_escapes[c] or sfmt("\\u%04x", sbyte(c))
  end) .. '"'
end

local function class_name(v)
  local mt = getmetatable(v)
  local n = type(mt) == "table" and mt.__name
  if type(n) == "string" then return n end
  return nil
end

function errors.describe(v)
  local t = type(v)
  if t == "nil" then
    return "nil"
  elseif t == "boolean" or t == "number" then
    return "type " .. t .. " (" .. (t == "number" and number_text(v) or tostring(v)) .. ")"
  elseif t == "string" then
    v = shorten(v, 28, 25)
    if not sfind(v, "'", 1, true) then return "type string ('" .. v .. "')" end
    return "type string (" .. json_quote(v) .. ")"
  elseif t == "function" then
    return "function"
  elseif t == "table" or t == "userdata" then
    local n = class_name(v)
    if n then return "an instance of " .. n end
  end
  return "type " .. t
end

local inspect_escapes = {
  ["'"] = "\\'", ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ["\v"] = "\\v",
}

-- Node's util.inspect quoting: single quotes unless the text holds one and
-- no double quote, then double quotes; backquotes when it holds both.
local function quote(s)
  local q = "'"
  if sfind(s, "'", 1, true) then
    if not sfind(s, '"', 1, true) then q = '"'
    elseif not sfind(s, "`", 1, true) then q = "`" end
  end
  return q .. sgsub(s, "[%c'\\]", function(c)
    if c == "'" and q ~= "'" then return c end
    return inspect_escapes[c] or sfmt("\\x%02X", sbyte(c))
  end) .. q
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local inspect

local function inspect_table(t, depth)
  local n = class_name(t)
  if depth > 0 then return n and "[" .. n .. "]" or "{ ... }" end
  local parts, seen = {}, {}
  for i = 1, #t do
    parts[#parts + 1] = inspect(t[i], depth + 1)
    seen[i] = true
  end
  local keys = {}
  for k in pairs(t) do
    if not seen[k] then keys[#keys + 1] = k end
  end
  table.sort(keys, key_order)
  for _, k in ipairs(keys) do
    local ks
    if type(k) == "string" and sfind(k, "^[%a_][%w_]*$") then ks = k
    else ks = "[" .. inspect(k, depth + 1) .. "]" end
    parts[#parts + 1] = ks .. " = " .. inspect(t[k], depth + 1)
  end
  local body = #parts == 0 and "{}" or "{ " .. concat(parts, ", ") .. " }"
  return n and n .. " " .. body or body
end

function inspect(v, depth)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then return number_text(v) end
  if t == "nil" or t == "boolean" then return tostring(v) end
  if t == "table" then
    if getmetatable(v) == Error then return tostring(v) end
    return inspect_table(v, depth or 0)
  end
  return class_name(v) or t
end

errors.inspect = function(v) return inspect(v, 0) end

-- }==========================================================================


-- {==========================================================================
-- Node's ERR_* codes.

local function arg_label(argname)
  -- "first argument" style names are used as they are; a dotted name is an
  -- options field, which Node calls a property.
  if sfind(argname, " argument$") then return argname end
  local kind = sfind(argname, ".", 1, true) and "property" or "argument"
  return '"' .. argname .. '" ' .. kind
end

local lua_types = {
  string = true, ["function"] = true, number = true, boolean = true,
  table = true, userdata = true, thread = true, ["nil"] = true,
}

-- Node's own type words, as other modules may pass them through: a JS
-- object is a Lua table (§1.6).
local type_alias = {
  Object = "table", object = "table", Function = "function",
}

local function join_list(words, last_sep)
  local n = #words
  if n == 1 then return words[1] end
  if n == 2 then return words[1] .. " or " .. words[2] end
  return concat(words, ", ", 1, n - 1) .. ", " .. last_sep .. words[n]
end

-- `expected` is one word or a sequence of them: Lua type names ("string",
-- "table"), class names starting with a capital ("Socket", which reads "an
-- instance of Socket") or free text ("a sequence of strings"), grouped and
-- joined the way Node's ERR_INVALID_ARG_TYPE joins its list.
function errors.ERR_INVALID_ARG_TYPE(argname, expected, actual)
  if type(expected) ~= "table" then expected = {expected} end
  local types, instances, other = {}, {}, {}
  for _, w in ipairs(expected) do
    w = type_alias[w] or w
    if lua_types[w] then types[#types + 1] = w
    elseif sfind(w, "^%u[%w_]*$") then instances[#instances + 1] = w
    else other[#other + 1] = w end
  end
  local msg = "The " .. arg_label(argname) .. " must be "
  if #types > 0 then
    if #types > 2 then msg = msg .. "one of type " .. join_list(types, "or ")
    elseif #types == 2 then msg = msg .. "one of type " .. join_list(types)
    else msg = msg .. "of type " .. types[1] end
    if #instances > 0 or #other > 0 then msg = msg .. " or " end
  end
  if #instances > 0 then
    msg = msg .. "an instance of " .. join_list(instances, "or ")
    if #other > 0 then msg = msg .. " or " end
  end
  if #other > 0 then
    if #other > 1 then msg = msg .. "one of " .. join_list(other, "or ")
    else
      if other[1]:lower() ~= other[1] then msg = msg .. "an " end
      msg = msg .. other[1]
    end
  end
  msg = msg .. ". Received " .. errors.describe(actual)
  return errors.new("TypeError", "ERR_INVALID_ARG_TYPE", msg)
end

function errors.ERR_INVALID_ARG_VALUE(argname, value, reason)
  local kind = sfind(argname, ".", 1, true) and "property" or "argument"
  local shown = inspect(value, 0)
  if #shown > 128 then shown = ssub(shown, 1, 128) .. "..." end
  return errors.new("TypeError", "ERR_INVALID_ARG_VALUE",
    "The " .. kind .. " '" .. argname .. "' " .. (reason or "is invalid") ..
    ". Received " .. shown)
end

-- Node groups the digits of integers beyond 2^32 with underscores.
local function grouped(n)
  local s = tostring(n)
  local sign, digits = s:match("^(-?)(%d+)$")
  local out = digits:reverse():gsub("(%d%d%d)", "%1_"):reverse()
  if ssub(out, 1, 1) == "_" then out = ssub(out, 2) end
  return sign .. out
end

function errors.ERR_OUT_OF_RANGE(argname, range, value)
  local received
  if mtype(value) == "integer" and (value > 2 ^ 32 or value < -2 ^ 32) then
    received = grouped(value)
  else
    received = inspect(value, 0)
  end
  return errors.new("RangeError", "ERR_OUT_OF_RANGE",
    'The value of "' .. argname .. '" is out of range. It must be ' .. range ..
    ". Received " .. received)
end

function errors.ERR_SOCKET_BAD_PORT(argname, value, allow_zero)
  if allow_zero == nil then allow_zero = true end
  return errors.new("RangeError", "ERR_SOCKET_BAD_PORT",
    (argname or "Port") .. " should be " .. (allow_zero and ">= 0" or "> 0") ..
    " and < 65536. Received " .. errors.describe(value) .. ".")
end

-- Codes whose message is fixed, or one value pasted into a fixed text.
local fixed = {
  ERR_SERVER_ALREADY_LISTEN = {"Error",
    "Listen method has been called more than once without closing."},
  ERR_SERVER_NOT_RUNNING = {"Error", "Server is not running."},
  ERR_STREAM_WRITE_AFTER_END = {"Error", "write after end"},
  ERR_SOCKET_CLOSED = {"Error", "Socket is closed"},
  ERR_SOCKET_CLOSED_BEFORE_CONNECTION = {"Error",
    "Socket closed before the connection was established"},
  ERR_SOCKET_CONNECTION_TIMEOUT = {"Error", "Socket connection timeout"},
  ERR_INVALID_HANDLE_TYPE = {"TypeError", "This handle type cannot be sent"},
  ERR_STREAM_DESTROYED = {"Error", "Cannot call %s after a stream was destroyed"},
  ERR_UNKNOWN_ENCODING = {"TypeError", "Unknown encoding: %s"},
  ERR_INVALID_IP_ADDRESS = {"TypeError", "Invalid IP address: %s"},
  ERR_STREAM_ALREADY_FINISHED = {"Error",
    "Cannot call %s after a stream was finished"},
  ERR_INVALID_FD_TYPE = {"TypeError", "Unsupported fd type: %s"},
}

-- ERR_INVALID_ADDRESS_FAMILY(family, host, port): a lookup answered with a
-- family other than 4 or 6.
function errors.ERR_INVALID_ADDRESS_FAMILY(family, host, port)
  return errors.new("RangeError", "ERR_INVALID_ADDRESS_FAMILY",
    "Invalid address family: " .. tostring(family) .. " " .. tostring(host) ..
    ":" .. tostring(port))
end

for code, def in pairs(fixed) do
  local name, text = def[1], def[2]
  if sfind(text, "%s", 1, true) then
    errors[code] = function(v)
      return errors.new(name, code, (sgsub(text, "%%s", (sgsub(tostring(v), "%%", "%%%%")))))
    end
  else
    errors[code] = function()
      return errors.new(name, code, text)
    end
  end
end

-- ERR_MISSING_ARGS("a", {"b", "c"}) -> The "a" and "b" or "c" arguments ...
function errors.ERR_MISSING_ARGS(...)
  local args = {}
  for i = 1, select("#", ...) do
    local a = select(i, ...)
    if type(a) == "table" then
      local alts = {}
      for j, s in ipairs(a) do alts[j] = '"' .. tostring(s) .. '"' end
      args[i] = concat(alts, " or ")
    else
      args[i] = '"' .. tostring(a) .. '"'
    end
  end
  local n, msg = #args, "The "
  if n == 1 then msg = msg .. args[1] .. " argument"
  elseif n == 2 then msg = msg .. args[1] .. " and " .. args[2] .. " arguments"
  else msg = msg .. concat(args, ", ", 1, n - 1) .. ", and " .. args[n] .. " arguments" end
  return errors.new("TypeError", "ERR_MISSING_ARGS", msg .. " must be specified")
end

-- ERR_UNHANDLED_ERROR([v]): what emit('error', v) raises when v is not an
-- error value.  v is rendered by inspect() and kept as err.context, as Node
-- does; with no argument at all the message is just "Unhandled error.".
function errors.ERR_UNHANDLED_ERROR(...)
  if select("#", ...) == 0 then
    return errors.new("Error", "ERR_UNHANDLED_ERROR", "Unhandled error.")
  end
  local v = ...
  return errors.new("Error", "ERR_UNHANDLED_ERROR",
    "Unhandled error. (" .. inspect(v, 0) .. ")", {context = v})
end

-- }==========================================================================


-- {==========================================================================
-- System errors from libuv.  The C core is required on first use, so this
-- module loads (and its ERR_* part works) without the C build.

local core

local function get_core()
  if not core then core = require("lnet.core") end
  return core
end

-- Accept libuv's negative number or its name ("ECONNREFUSED").
local function to_errno(v)
  if type(v) == "string" then
    local n = get_core().errno[v]
    if n == nil then error("unknown errno name " .. v, 3) end
    return n
  end
  return v
end

-- Syscalls Node reports through errnoException: the code only, never an
-- address (read/write/shutdown/accept act on a connected handle).
local errno_only = {read = true, write = true, shutdown = true, accept = true}

local function host_port(address, port)
  if port and port ~= 0 and (type(port) ~= "number" or port > 0) then
    return " " .. tostring(address) .. ":" .. tostring(port)
  elseif address then
    return " " .. tostring(address)
  end
  return ""
end

-- uv(errno, syscall[, address[, port[, localAddress[, localPort]]]])
--   listen:  "listen EADDRINUSE: address already in use 127.0.0.1:8080"
--   connect: "connect ECONNREFUSED 127.0.0.1:1"
--            "connect ECONNREFUSED 127.0.0.1:1 - Local (127.0.0.1:40000)"
--            "connect ENOENT /tmp/x.sock"
--   bind:    "bind EADDRNOTAVAIL 1.2.3.4:5555"
--   read/write/shutdown/accept: "write EPIPE"
-- A port of 0 is left out of the text and the fields, as Node leaves it out.
-- The " - Local (...)" part needs both localAddress and a non-zero
-- localPort, as in net.js; the error then carries both as fields.
function errors.uv(errno, syscall, address, port, local_address, local_port)
  local c = get_core()
  errno = to_errno(errno)
  local code = c.err_name(errno)
  local fields = {errno = errno, syscall = syscall}
  local msg
  if errno_only[syscall] then
    msg = syscall .. " " .. code
  elseif syscall == "listen" then
    -- Node takes the listen text from libuv's map and falls back to
    -- UNKNOWN / "unknown error" for a number libuv does not know.
    local text
    if sfind(code, "^Unknown system error") then
      code, text = "UNKNOWN", "unknown error"
    else
      text = c.strerror(errno)
    end
    msg = "listen " .. code .. ": " .. text .. host_port(address, port)
  else
    msg = syscall .. " " .. code .. host_port(address, port)
    if local_address and local_port and local_port ~= 0 then
      msg = msg .. " - Local (" .. tostring(local_address) .. ":" ..
        tostring(local_port) .. ")"
      fields.localAddress, fields.localPort = local_address, local_port
    end
  end
  if not errno_only[syscall] then
    fields.address = address
    if port ~= 0 then fields.port = port end
  end
  return errors.new("Error", code, msg, fields)
end

-- dns(errno_or_code, hostname[, syscall]) -> "getaddrinfo ENOTFOUND host".
-- libuv's EAI_NONAME and EAI_NODATA become Node's ENOTFOUND (errno keeps the
-- real number); other codes keep libuv's name (EAI_AGAIN, ...).  A name that
-- libuv knows is taken as its number; any other string is used as the code
-- with no errno, as Node does for c-ares codes.
function errors.dns(code, hostname, syscall)
  syscall = syscall or "getaddrinfo"
  local errno
  if type(code) == "string" then
    errno = get_core().errno[code]
  else
    errno = code
  end
  if errno then
    code = get_core().err_name(errno)
    if code == "EAI_NONAME" or code == "EAI_NODATA" then code = "ENOTFOUND" end
  end
  local msg = syscall .. " " .. tostring(code)
  if hostname and hostname ~= "" then
    msg = msg .. " " .. tostring(hostname)
  else
    hostname = nil
  end
  return errors.new("Error", code, msg,
    {errno = errno, syscall = syscall, hostname = hostname})
end

-- aggregate(list): Node's AggregateError for an autoSelectFamily connect
-- whose every attempt failed: the first error's code, an empty message (so
-- tostring gives just "AggregateError"), and the attempts in `errors`.
function errors.aggregate(list)
  return errors.new("AggregateError", list[1] and list[1].code, "",
    {errors = list})
end

-- A write on a socket whose peer ended while allowHalfOpen is false.  Node
-- builds it without errno or syscall: just code EPIPE.
function errors.epipe_ended()
  return errors.new("Error", "EPIPE",
    "This socket has been ended by the other party")
end

-- }==========================================================================


-- {==========================================================================
-- Validation helpers.  Each raises the Node error for a bad value and
-- returns the (possibly normalised) value.  Error tables carry no position,
-- so the level only matters to debuggers; it names the caller's caller.

local function raise(e)
  error(e, 3)
end

local function check_type(t)
  return function(v, name)
    if type(v) ~= t then raise(errors.ERR_INVALID_ARG_TYPE(name, t, v)) end
    return v
  end
end

errors.check_function = check_type("function")
errors.check_string = check_type("string")
errors.check_boolean = check_type("boolean")
errors.check_table = check_type("table")

-- Node's range wording for numbers: ">= 0 && <= 65535", ">= 0", "<= 9".
local function range_text(min, max)
  if min and max then return ">= " .. number_text(min) .. " && <= " .. number_text(max) end
  if min then return ">= " .. number_text(min) end
  return "<= " .. number_text(max)
end

-- check_number(v, name[, min[, max]]): NaN fails once a bound is given.
function errors.check_number(v, name, min, max)
  if type(v) ~= "number" then raise(errors.ERR_INVALID_ARG_TYPE(name, "number", v)) end
  if (min or max) and (v ~= v or (min and v < min) or (max and v > max)) then
    raise(errors.ERR_OUT_OF_RANGE(name, range_text(min, max), v))
  end
  return v
end

-- check_integer(v, name[, min[, max]]) -> integer (a float such as 5.0 is
-- converted).  Like Node's validateInteger: "an integer" first, then range.
function errors.check_integer(v, name, min, max)
  if type(v) ~= "number" then raise(errors.ERR_INVALID_ARG_TYPE(name, "number", v)) end
  local i = tointeger(v)
  if not i then raise(errors.ERR_OUT_OF_RANGE(name, "an integer", v)) end
  if (min and i < min) or (max and i > max) then
    raise(errors.ERR_OUT_OF_RANGE(name, range_text(min, max), v))
  end
  return i
end

-- check_port(v[, name="Port"[, allow_zero=true]]) -> integer port.  A number,
-- or a string that tonumber reads as one ("8080", "0x10", " 80 "); "" and
-- blank strings are bad.  Port 0 is refused when allow_zero is false, for
-- strings too (Node only refuses the number 0 there, which looks unintended).
function errors.check_port(v, name, allow_zero)
  if allow_zero == nil then allow_zero = true end
  local n
  if type(v) == "number" then
    n = v
  elseif type(v) == "string" and sfind(v, "%S") then
    n = tonumber(v)
  end
  n = n and tointeger(n)
  if not n or n < 0 or n > 65535 or (n == 0 and not allow_zero) then
    raise(errors.ERR_SOCKET_BAD_PORT(name or "Port", v, allow_zero))
  end
  return n
end

-- check_one_of(v, name, list): Node's validateOneOf wording.
function errors.check_one_of(v, name, list)
  for _, x in ipairs(list) do
    if x == v then return v end
  end
  local shown = {}
  for i, x in ipairs(list) do
    shown[i] = type(x) == "string" and "'" .. x .. "'" or tostring(x)
  end
  raise(errors.ERR_INVALID_ARG_VALUE(name, v, "must be one of: " .. concat(shown, ", ")))
end

-- }==========================================================================

return errors
