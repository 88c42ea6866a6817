-- lnet.errors: error values and their Node 20 message texts (contract §6).
-- Every expected string here was produced by node 20 itself: system errors by
-- provoking them (listen on a used port, connect to a closed port or a
-- missing Unix path, bind to 1.2.3.4, resolve no.such.host.invalid), ERR_*
-- texts from node's internal/errors constructors.  The Lua renderings of
-- values ("Received type table", "function", "nan") are lnet's translation
-- (§1) and documented in lua/lnet/errors.lua.

-- Without the C build, stand in for lnet.core with Linux libuv's numbers and
-- texts for the few errnos used here, so the spec runs both ways.
if not pcall(require, "lnet.core") then
  local names = {
    [-98] = {"EADDRINUSE", "address already in use"},
    [-111] = {"ECONNREFUSED", "connection refused"},
    [-2] = {"ENOENT", "no such file or directory"},
    [-32] = {"EPIPE", "broken pipe"},
    [-99] = {"EADDRNOTAVAIL", "address not available"},
    [-13] = {"EACCES", "permission denied"},
    [-104] = {"ECONNRESET", "connection reset by peer"},
    [-110] = {"ETIMEDOUT", "connection timed out"},
    [-3008] = {"EAI_NONAME", "unknown node or service"},
    [-3007] = {"EAI_NODATA", "no address"},
    [-3001] = {"EAI_AGAIN", "temporary failure"},
  }
  local errno = {}
  for n, v in pairs(names) do errno[v[1]] = n end
  package.preload["lnet.core"] = function()
    return {
      errno = errno,
      err_name = function(n)
        return names[n] and names[n][1] or ("Unknown system error " .. n)
      end,
      strerror = function(n)
        return names[n] and names[n][2] or ("Unknown system error " .. n)
      end,
    }
  end
end

local errors = require("lnet.errors")

-- pcall(fn, ...) that must fail; returns the error value.
local function raised(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return err
end

describe("errors.Error and errors.new", function()
  it("builds a table with name, code, message and the Error metatable", function()
    local e = errors.new("TypeError", "ERR_X", "bad", {port = 5})
    assert.are.equal(errors.Error, getmetatable(e))
    assert.are.same({name = "TypeError", code = "ERR_X", message = "bad", port = 5}, e)
  end)

  it("stores no traceback or stack", function()
    local e = errors.new("Error", "EPIPE", "write EPIPE")
    assert.is_nil(e.stack)
    assert.is_nil(e.traceback)
  end)

  it("prints ERR_* codes in brackets after the name", function()
    assert.are.equal("TypeError [ERR_X]: bad", tostring(errors.new("TypeError", "ERR_X", "bad")))
  end)

  it("prints system errors as name: message, without the code", function()
    assert.are.equal("Error: connect ECONNREFUSED 127.0.0.1:1",
      tostring(errors.new("Error", "ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1")))
  end)

  it("prints just the name when the message is empty, as JS does", function()
    assert.are.equal("AggregateError", tostring(errors.new("AggregateError", "ECONNREFUSED", "")))
  end)

  it("is_error tells error values from other tables and strings", function()
    assert.is_true(errors.is_error(errors.ERR_SOCKET_CLOSED()))
    assert.is_false(errors.is_error({}))
    assert.is_false(errors.is_error("Error: x"))
  end)

  it("keeps its fields when raised with error()", function()
    local e = errors.uv(-111, "connect", "127.0.0.1", 1)
    local got = raised(error, e)
    assert.are.equal(e, got)
    assert.are.equal(-111, got.errno)
  end)
end)

describe("errors.uv", function()
  it("listen failures carry libuv's text and address:port", function()
    local e = errors.uv(-98, "listen", "127.0.0.1", 8080)
    assert.are.equal("listen EADDRINUSE: address already in use 127.0.0.1:8080", e.message)
    assert.are.same({name = "Error", code = "EADDRINUSE", errno = -98, syscall = "listen",
      address = "127.0.0.1", port = 8080, message = e.message}, e)
    assert.are.equal("Error: listen EADDRINUSE: address already in use 127.0.0.1:8080", tostring(e))
  end)

  it("listen on :: prints the address as node does", function()
    assert.are.equal("listen EADDRINUSE: address already in use :::37749",
      errors.uv(-98, "listen", "::", 37749).message)
  end)

  it("listen with port 0 leaves the port out of the text and the fields", function()
    local e = errors.uv(-99, "listen", "1.2.3.4", 0)
    assert.are.equal("listen EADDRNOTAVAIL: address not available 1.2.3.4", e.message)
    assert.is_nil(e.port)
    assert.are.equal("1.2.3.4", e.address)
  end)

  it("listen on a Unix path (port -1, as net passes it) prints the path", function()
    local e = errors.uv(-13, "listen", "/nonexistent/dir/x.sock", -1)
    assert.are.equal("listen EACCES: permission denied /nonexistent/dir/x.sock", e.message)
    assert.are.equal(-1, e.port)
  end)

  it("listen with an unknown errno says UNKNOWN: unknown error, as node", function()
    local e = errors.uv(-9999, "listen", "1.2.3.4", 5)
    assert.are.equal("listen UNKNOWN: unknown error 1.2.3.4:5", e.message)
    assert.are.equal("UNKNOWN", e.code)
  end)

  it("connect failures carry only the code and address:port", function()
    local e = errors.uv(-111, "connect", "127.0.0.1", 1)
    assert.are.equal("connect ECONNREFUSED 127.0.0.1:1", e.message)
    assert.are.same({name = "Error", code = "ECONNREFUSED", errno = -111, syscall = "connect",
      address = "127.0.0.1", port = 1, message = e.message}, e)
  end)

  it("connect adds ' - Local (addr:port)' and the fields for a local address and port", function()
    local e = errors.uv(-111, "connect", "127.0.0.1", 1, "127.0.0.1", 40123)
    assert.are.equal("connect ECONNREFUSED 127.0.0.1:1 - Local (127.0.0.1:40123)", e.message)
    assert.are.equal("127.0.0.1", e.localAddress)
    assert.are.equal(40123, e.localPort)
  end)

  it("connect with a local address but no local port adds nothing (as net.js)", function()
    local e = errors.uv(-111, "connect", "127.0.0.1", 1, "127.0.0.1", 0)
    assert.are.equal("connect ECONNREFUSED 127.0.0.1:1", e.message)
    assert.is_nil(e.localAddress)
  end)

  it("connect to a missing Unix path prints the path", function()
    local e = errors.uv(-2, "connect", "/tmp/nonexistent-xyz.sock")
    assert.are.equal("connect ENOENT /tmp/nonexistent-xyz.sock", e.message)
    assert.are.equal("/tmp/nonexistent-xyz.sock", e.address)
    assert.is_nil(e.port)
  end)

  it("bind failures name the local address, with the port when given", function()
    assert.are.equal("bind EADDRNOTAVAIL 1.2.3.4", errors.uv(-99, "bind", "1.2.3.4").message)
    assert.are.equal("bind EADDRNOTAVAIL 1.2.3.4:5555", errors.uv(-99, "bind", "1.2.3.4", 5555).message)
    assert.are.equal("bind EADDRINUSE 127.0.0.1:37749", errors.uv(-98, "bind", "127.0.0.1", 37749).message)
  end)

  it("read/write/shutdown failures are 'syscall CODE' with no address", function()
    local e = errors.uv(-32, "write", "127.0.0.1", 80)
    assert.are.equal("write EPIPE", e.message)
    assert.are.same({name = "Error", code = "EPIPE", errno = -32, syscall = "write",
      message = "write EPIPE"}, e)
    assert.are.equal("read ECONNRESET", errors.uv(-104, "read").message)
    assert.are.equal("shutdown ENOENT", errors.uv(-2, "shutdown").message)
  end)

  it("accepts libuv's name instead of the number", function()
    local e = errors.uv("ECONNREFUSED", "connect", "127.0.0.1", 1)
    assert.are.equal(-111, e.errno)
    assert.are.equal("connect ECONNREFUSED 127.0.0.1:1", e.message)
  end)
end)

describe("errors.dns", function()
  it("maps EAI_NONAME to ENOTFOUND and keeps errno, syscall, hostname", function()
    local e = errors.dns(-3008, "no.such.host.invalid")
    assert.are.same({name = "Error", code = "ENOTFOUND", errno = -3008, syscall = "getaddrinfo",
      hostname = "no.such.host.invalid", message = "getaddrinfo ENOTFOUND no.such.host.invalid"}, e)
    assert.are.equal("Error: getaddrinfo ENOTFOUND no.such.host.invalid", tostring(e))
  end)

  it("maps EAI_NODATA to ENOTFOUND too", function()
    local e = errors.dns(-3007, "h")
    assert.are.equal("ENOTFOUND", e.code)
    assert.are.equal(-3007, e.errno)
  end)

  it("keeps libuv's name for other codes", function()
    assert.are.equal("getaddrinfo EAI_AGAIN h", errors.dns(-3001, "h").message)
  end)

  it("leaves out a missing hostname", function()
    local e = errors.dns(-3008)
    assert.are.equal("getaddrinfo ENOTFOUND", e.message)
    assert.is_nil(e.hostname)
  end)

  it("takes a libuv name as its number", function()
    local e = errors.dns("EAI_NONAME", "h")
    assert.are.equal("ENOTFOUND", e.code)
    assert.are.equal(-3008, e.errno)
  end)

  it("uses another string code as it is, without errno, with the given syscall", function()
    local e = errors.dns("ESERVFAIL", "h", "queryA")
    assert.are.equal("queryA ESERVFAIL h", e.message)
    assert.is_nil(e.errno)
  end)
end)

describe("errors.epipe_ended", function()
  it("is Node's EPIPE for writing after the peer ended", function()
    local e = errors.epipe_ended()
    assert.are.same({name = "Error", code = "EPIPE",
      message = "This socket has been ended by the other party"}, e)
    assert.are.equal("Error: This socket has been ended by the other party", tostring(e))
  end)
end)

describe("errors.aggregate", function()
  it("takes the first error's code and an empty message", function()
    local a, b = errors.uv(-111, "connect", "::1", 1), errors.uv(-111, "connect", "127.0.0.1", 1)
    local e = errors.aggregate({a, b})
    assert.are.equal("AggregateError", e.name)
    assert.are.equal("ECONNREFUSED", e.code)
    assert.are.equal("", e.message)
    assert.are.same({a, b}, e.errors)
    assert.are.equal("AggregateError", tostring(e))
  end)
end)

describe("ERR_INVALID_ARG_TYPE", function()
  local T = errors.ERR_INVALID_ARG_TYPE

  it("is a TypeError with Node's text", function()
    local e = T("listener", "function", 5)
    assert.are.equal("TypeError", e.name)
    assert.are.equal("ERR_INVALID_ARG_TYPE", e.code)
    assert.are.equal('TypeError [ERR_INVALID_ARG_TYPE]: The "listener" argument must be of type function. Received type number (5)',
      tostring(e))
  end)

  it("calls a dotted name a property", function()
    assert.are.equal('The "options.lookup" property must be of type function. Received type number (5)',
      T("options.lookup", "function", 5).message)
  end)

  it("uses a name ending in ' argument' as it is", function()
    assert.are.equal("The first argument must be of type string. Received type number (5)",
      T("first argument", "string", 5).message)
  end)

  it("joins two and three types as Node does", function()
    assert.are.equal('The "a" argument must be one of type string or number. Received nil',
      T("a", {"string", "number"}, nil).message)
    assert.are.equal('The "a.b" property must be one of type string, number, or boolean. Received type number (5)',
      T("a.b", {"string", "number", "boolean"}, 5).message)
  end)

  it("reads capitalised words as classes and other words as free text", function()
    assert.are.equal('The "a" argument must be of type string or an instance of Buffer or TypedArray. Received type number (5)',
      T("a", {"string", "Buffer", "TypedArray"}, 5).message)
    assert.are.equal('The "chunk" argument must be of type string or a sequence of strings. Received type boolean (true)',
      T("chunk", {"string", "a sequence of strings"}, true).message)
  end)

  it("translates Node's Object to table", function()
    assert.are.equal('The "options" argument must be of type table. Received type number (5)',
      T("options", "Object", 5).message)
  end)

  it("describes strings like Node: quoted, cut at 28, double quotes around a '", function()
    assert.are.equal("Received type string ('abc')", T("a", "number", "abc").message:match("Received.*"))
    assert.are.equal("Received type string ('aaaaaaaaaaaaaaaaaaaaaaaaa...')",
      T("a", "number", ("a"):rep(40)).message:match("Received.*"))
    assert.are.equal("Received type string ('abcdefghijklmnopqrstuvwxyz01')",
      T("a", "number", "abcdefghijklmnopqrstuvwxyz01").message:match("Received.*"))
    assert.are.equal([[Received type string ("it's")]], T("a", "number", "it's").message:match("Received.*"))
    assert.are.equal([[Received type string ("x'y\"z")]], T("a", "number", [[x'y"z]]).message:match("Received.*"))
  end)

  it("describes Lua values by the documented rendering", function()
    local function r(v) return T("a", "string", v).message:match("Received (.*)") end
    assert.are.equal("nil", r(nil))
    assert.are.equal("type boolean (false)", r(false))
    assert.are.equal("type number (5.5)", r(5.5))
    assert.are.equal("type number (5.0)", r(5.0))
    assert.are.equal("type number (inf)", r(math.huge))
    assert.are.equal("type number (nan)", r(0 / 0))
    assert.are.equal("function", r(print))
    assert.are.equal("type table", r({}))
    assert.are.equal("an instance of Socket", r(setmetatable({}, {__name = "Socket"})))
    assert.are.equal("an instance of Error", r(errors.ERR_SOCKET_CLOSED()))
    assert.are.equal("an instance of FILE*", r(io.stdout))
    assert.are.equal("type thread", r(coroutine.create(print)))
  end)
end)

describe("ERR_* constructors", function()
  local cases = {
    {"ERR_INVALID_ARG_VALUE", {"foo", 5}, "TypeError",
      "The argument 'foo' is invalid. Received 5"},
    {"ERR_INVALID_ARG_VALUE", {"opts.foo", "x", "must be good"}, "TypeError",
      "The property 'opts.foo' must be good. Received 'x'"},
    {"ERR_INVALID_ARG_VALUE", {"options", {port = true}}, "TypeError",
      "The argument 'options' is invalid. Received { port = true }"},
    {"ERR_OUT_OF_RANGE", {"x", "an integer", 5.5}, "RangeError",
      'The value of "x" is out of range. It must be an integer. Received 5.5'},
    {"ERR_OUT_OF_RANGE", {"x", ">= 0", 4294967297}, "RangeError",
      'The value of "x" is out of range. It must be >= 0. Received 4_294_967_297'},
    {"ERR_OUT_OF_RANGE", {"x", ">= 0", "str"}, "RangeError",
      [[The value of "x" is out of range. It must be >= 0. Received 'str']]},
    {"ERR_SOCKET_BAD_PORT", {"options.port", -1, true}, "RangeError",
      "options.port should be >= 0 and < 65536. Received type number (-1)."},
    {"ERR_SOCKET_BAD_PORT", {"port", -5, false}, "RangeError",
      "port should be > 0 and < 65536. Received type number (-5)."},
    {"ERR_SOCKET_BAD_PORT", {n = 2, nil, ""}, "RangeError",
      "Port should be >= 0 and < 65536. Received type string ('')."},
    {"ERR_SERVER_ALREADY_LISTEN", {}, "Error",
      "Listen method has been called more than once without closing."},
    {"ERR_SERVER_NOT_RUNNING", {}, "Error", "Server is not running."},
    {"ERR_STREAM_WRITE_AFTER_END", {}, "Error", "write after end"},
    {"ERR_STREAM_DESTROYED", {"write"}, "Error", "Cannot call write after a stream was destroyed"},
    {"ERR_STREAM_ALREADY_FINISHED", {"end"}, "Error", "Cannot call end after a stream was finished"},
    {"ERR_UNKNOWN_ENCODING", {"foo"}, "TypeError", "Unknown encoding: foo"},
    {"ERR_MISSING_ARGS", {"a"}, "TypeError", 'The "a" argument must be specified'},
    {"ERR_MISSING_ARGS", {"a", "b"}, "TypeError", 'The "a" and "b" arguments must be specified'},
    {"ERR_MISSING_ARGS", {"a", "b", "c"}, "TypeError", 'The "a", "b", and "c" arguments must be specified'},
    {"ERR_MISSING_ARGS", {{"options", "port", "path"}}, "TypeError",
      'The "options" or "port" or "path" argument must be specified'},
    {"ERR_SOCKET_CLOSED", {}, "Error", "Socket is closed"},
    {"ERR_SOCKET_CLOSED_BEFORE_CONNECTION", {}, "Error",
      "Socket closed before the connection was established"},
    {"ERR_INVALID_IP_ADDRESS", {"1.2.3"}, "TypeError", "Invalid IP address: 1.2.3"},
    {"ERR_SOCKET_CONNECTION_TIMEOUT", {}, "Error", "Socket connection timeout"},
    {"ERR_UNHANDLED_ERROR", {}, "Error", "Unhandled error."},
    {"ERR_UNHANDLED_ERROR", {"boom"}, "Error", "Unhandled error. ('boom')"},
    {"ERR_INVALID_HANDLE_TYPE", {}, "TypeError", "This handle type cannot be sent"},
    {"ERR_INVALID_FD_TYPE", {"UNKNOWN"}, "TypeError", "Unsupported fd type: UNKNOWN"},
    {"ERR_INVALID_ADDRESS_FAMILY", {7, "h", 5}, "RangeError", "Invalid address family: 7 h:5"},
  }
  for _, c in ipairs(cases) do
    local code, args, name, message = c[1], c[2], c[3], c[4]
    it(code .. " says: " .. message, function()
      local e = errors[code](table.unpack(args, 1, args.n or #args))
      assert.are.equal(errors.Error, getmetatable(e))
      assert.are.equal(code, e.code)
      assert.are.equal(name, e.name)
      assert.are.equal(message, e.message)
      assert.are.equal(name .. " [" .. code .. "]: " .. message, tostring(e))
    end)
  end

  it("ERR_UNHANDLED_ERROR keeps the value as context", function()
    local e = errors.ERR_UNHANDLED_ERROR(5)
    assert.are.equal("Unhandled error. (5)", e.message)
    assert.are.equal(5, e.context)
  end)

  it("ERR_INVALID_ARG_VALUE cuts a long rendering at 128 characters", function()
    local e = errors.ERR_INVALID_ARG_VALUE("foo", ("a"):rep(200))
    assert.are.equal("The argument 'foo' is invalid. Received '" .. ("a"):rep(127) .. "...", e.message)
  end)

  it("a % in a pasted value is kept literally", function()
    assert.are.equal("Unknown encoding: %d%", errors.ERR_UNKNOWN_ENCODING("%d%").message)
  end)
end)

describe("validation helpers", function()
  it("check_function passes a function through and rejects others", function()
    assert.are.equal(print, errors.check_function(print, "cb"))
    local e = raised(errors.check_function, 5, "cb")
    assert.are.equal('The "cb" argument must be of type function. Received type number (5)', e.message)
  end)

  it("check_string, check_boolean, check_table name the expected type", function()
    assert.are.equal('The "host" argument must be of type string. Received type number (1)',
      raised(errors.check_string, 1, "host").message)
    assert.are.equal('The "options.noDelay" property must be of type boolean. Received nil',
      raised(errors.check_boolean, nil, "options.noDelay").message)
    assert.are.equal("The \"options\" argument must be of type table. Received type string ('x')",
      raised(errors.check_table, "x", "options").message)
    assert.are.equal("x", errors.check_string("x", "host"))
  end)

  it("check_number checks the type, then the bounds, NaN failing them", function()
    assert.are.equal(1.5, errors.check_number(1.5, "n", 0))
    assert.are.equal("ERR_INVALID_ARG_TYPE", raised(errors.check_number, "1", "n").code)
    assert.are.equal('The value of "n" is out of range. It must be >= 0. Received -1',
      raised(errors.check_number, -1, "n", 0).message)
    assert.are.equal('The value of "n" is out of range. It must be >= 0 && <= 9. Received nan',
      raised(errors.check_number, 0 / 0, "n", 0, 9).message)
  end)

  it("check_integer returns an integer and says 'an integer' for fractions", function()
    assert.are.equal(5, errors.check_integer(5.0, "n"))
    assert.are.equal("integer", math.type(errors.check_integer(5.0, "n")))
    assert.are.equal('The value of "n" is out of range. It must be an integer. Received 5.5',
      raised(errors.check_integer, 5.5, "n").message)
    assert.are.equal('The value of "n" is out of range. It must be >= 0 && <= 10. Received 11',
      raised(errors.check_integer, 11, "n", 0, 10).message)
    assert.are.equal('The "n" argument must be of type number. Received nil',
      raised(errors.check_integer, nil, "n").message)
  end)

  it("check_port accepts integers 0..65535 and numeric strings, returning an integer", function()
    assert.are.equal(0, errors.check_port(0))
    assert.are.equal(65535, errors.check_port(65535))
    assert.are.equal(8080, errors.check_port("8080"))
    assert.are.equal(16, errors.check_port("0x10"))
    assert.are.equal(80, errors.check_port(80.0))
    assert.are.equal("integer", math.type(errors.check_port(80.0)))
  end)

  it("check_port rejects with Node's ERR_SOCKET_BAD_PORT", function()
    local function msg(...) return raised(errors.check_port, ...).message end
    assert.are.equal("options.port should be >= 0 and < 65536. Received type number (-1).",
      msg(-1, "options.port"))
    assert.are.equal("Port should be >= 0 and < 65536. Received type number (65536).", msg(65536))
    assert.are.equal("Port should be >= 0 and < 65536. Received type number (1.5).", msg(1.5))
    assert.are.equal("Port should be >= 0 and < 65536. Received type string ('').", msg(""))
    assert.are.equal("Port should be >= 0 and < 65536. Received type string ('abc').", msg("abc"))
    assert.are.equal("Port should be >= 0 and < 65536. Received type boolean (true).", msg(true))
    assert.are.equal("port should be > 0 and < 65536. Received type number (0).", msg(0, "port", false))
    assert.are.equal("RangeError", raised(errors.check_port, -1).name)
  end)

  it("check_one_of lists the allowed values as Node does", function()
    assert.are.equal(4, errors.check_one_of(4, "options.family", {0, 4, 6}))
    local e = raised(errors.check_one_of, 7, "options.family", {0, 4, 6})
    assert.are.equal("The property 'options.family' must be one of: 0, 4, 6. Received 7", e.message)
    assert.are.equal("The argument 'mode' must be one of: 'a', 'b'. Received 'c'",
      raised(errors.check_one_of, "c", "mode", {"a", "b"}).message)
  end)
end)

describe("errors.inspect", function()
  it("quotes strings like util.inspect", function()
    assert.are.equal([['a\nb']], errors.inspect("a\nb"))
    assert.are.equal([["it's"]], errors.inspect("it's"))
    assert.are.equal([[`x'y"z`]], errors.inspect([[x'y"z]]))
  end)

  it("shows a table one level deep with stable key order", function()
    assert.are.equal("{ 1, 2, a = 'x', b = { ... } }", errors.inspect({1, 2, b = {}, a = "x"}))
    assert.are.equal("{}", errors.inspect({}))
  end)
end)
