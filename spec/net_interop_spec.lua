-- lnet against real node (issue 4, contract §5.3, §6): a node client
-- against an lnet server and an lnet client against a node server, each
-- moving 8 MiB of random bytes both ways at once, then half-close across
-- the two (one side ends and the other, allowHalfOpen, keeps writing 8 MiB
-- after the FIN), in both directions.  Every byte is verified: both data
-- sets come from /dev/urandom and are handed to node in files, node
-- compares what it received with Buffer.equals and lnet compares with
-- string equality (stronger than a checksum, and no hash needed in Lua).
-- Also the error fields of a connect to a closed port (IPv4, IPv6) and to a
-- missing Unix path, and of a listen on a TCP port or Unix path in use,
-- compared with what node reports for the same step.  The node scripts are
-- spec/node/interop_peer.js, connect_error.js and listen_error.js;
-- every spec is pending when node is not installed.
local h = require("spec.helper")
local core = require("lnet.core")
local net = require("net")

local SIZE = 8 * 1024 * 1024
local CHUNK = 64 * 1024

local function find_node()
  for _, name in ipairs({ "node", "nodejs" }) do
    local code, out = h.sh("command -v " .. name)
    if code == 0 and out:match("%S") then return out:match("[^\n]+") end
  end
end
local NODE = find_node()

local function has_ipv6()
  local t = core.tcp_new(nil)
  local ok = t ~= nil and t:bind("::1", 0) == 0
  if t then t:close() end
  return ok
end

local it_node = NODE and it or function(name)
  pending(name .. " (node not installed)")
end
local it_node6 = (NODE and has_ipv6()) and it or function(name)
  pending(name .. " (needs node and IPv6)")
end

-- spec/node/, found from this file's own path (busted may run from anywhere).
local NODE_DIR = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")
  or "spec") .. "/node/"

-- node under the sanitizer build must not get the sanitizer runtimes that
-- meson preloads into stock lua5.4; `timeout` bounds it whatever happens.
local function node_cmd(script, ...)
  local parts = { "exec env -u LD_PRELOAD timeout -s KILL 20", h.q(NODE),
    h.q(NODE_DIR .. script) }
  for _, a in ipairs({ ... }) do parts[#parts + 1] = h.q(tostring(a)) end
  return table.concat(parts, " ")
end

---------------------------------------------------------------------------
-- A small JSON decoder: node's output is JSON (objects, arrays, strings,
-- numbers, booleans, null -> nil).

local decode

local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b",
  f = "\f", n = "\n", r = "\r", t = "\t" }

local function skip(s, i) return s:find("[^ \t\r\n]", i) or #s + 1 end

local function value(s, i)
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    local t = {}
    i = skip(s, i + 1)
    if s:sub(i, i) == "}" then return t, i + 1 end
    while true do
      local k
      k, i = value(s, i)
      i = skip(s, i)
      assert(s:sub(i, i) == ":", "json: ':' expected at " .. i)
      t[k], i = value(s, i + 1)
      i = skip(s, i)
      c = s:sub(i, i)
      if c == "}" then return t, i + 1 end
      assert(c == ",", "json: ',' expected at " .. i)
      i = i + 1
    end
  elseif c == "[" then
    local t, n = {}, 0
    i = skip(s, i + 1)
    if s:sub(i, i) == "]" then return t, i + 1 end
    while true do
      n = n + 1
      t[n], i = value(s, i)
      i = skip(s, i)
      c = s:sub(i, i)
      if c == "]" then return t, i + 1 end
      assert(c == ",", "json: ',' expected at " .. i)
      i = i + 1
    end
  elseif c == '"' then
    local out, j = {}, i + 1
    while true do
      local a, b, text, esc = s:find('^([^"\\]*)([\\"])', j)
      assert(a, "json: unterminated string at " .. i)
      out[#out + 1] = text
      if esc == '"' then return table.concat(out), b + 1 end
      local e = s:sub(b + 1, b + 1)
      if e == "u" then
        out[#out + 1] = utf8.char(tonumber(s:sub(b + 2, b + 5), 16))
        j = b + 6
      else
        out[#out + 1] = assert(escapes[e], "json: bad escape")
        j = b + 2
      end
    end
  elseif s:find("^true", i) then return true, i + 4
  elseif s:find("^false", i) then return false, i + 5
  elseif s:find("^null", i) then return nil, i + 4
  end
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  assert(num and num ~= "", "json: unexpected text at " .. i .. ": "
    .. s:sub(i, i + 20))
  return math.tointeger(tonumber(num)) or tonumber(num), i + #num
end

function decode(s)
  local v, i = value(s, 1)
  assert(skip(s, i) > #s, "json: trailing text")
  return v
end

---------------------------------------------------------------------------
-- node as a child process, killed if the spec fails.

local function random_bytes(n)
  local f = assert(io.open("/dev/urandom", "rb"))
  local s = f:read(n)
  f:close()
  assert(#s == n)
  return s
end

local function write_file(data)
  local path = h.tmpname(".bin")
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  return path
end

-- Starts a node script with stdout on a pipe and stderr in a file; reads
-- its first line ({"pid": n, ...}).  Registers with busted's finally() a
-- kill of the child and the removal of the files.
local function spawn(files, script, ...)
  local errfile = h.tmpname(".stderr")
  files[#files + 1] = errfile
  local child = { errfile = errfile }
  child.f = assert(io.popen(node_cmd(script, ...) .. " 2>" .. h.q(errfile),
    "r"))
  finally(function()
    if child.pid then os.execute("kill -KILL " .. child.pid .. " 2>/dev/null") end
    if child.f then child.f:close() end
    for _, p in ipairs(files) do os.remove(p) end
  end)
  local line = child.f:read("l")
  if not line then
    error("node did not start: " .. (io.open(errfile):read("a") or ""), 0)
  end
  child.hello = decode(line)
  child.pid = child.hello.pid
  return child
end

-- Waits for node's result line and its exit.
local function result(child)
  local line = child.f:read("l")
  local _, _, code = child.f:close()
  child.f = nil
  child.pid = nil
  local f = io.open(child.errfile)
  local stderr = f and f:read("a") or ""
  if f then f:close() end
  assert(line, "node printed no result (exit " .. tostring(code) .. "): "
    .. stderr)
  assert.equal(0, code, "node exit code; stderr: " .. stderr)
  return decode(line)
end

---------------------------------------------------------------------------
-- The lnet side of a transfer.

-- Writes data in CHUNK pieces, waiting for 'drain' whenever write() says
-- so, then ends.
local function pump(sock, data)
  local pos = 1
  local function more()
    while pos <= #data do
      local piece = data:sub(pos, pos + CHUNK - 1)
      pos = pos + CHUNK
      if not sock:write(piece) then
        sock:once("drain", more)
        return
      end
    end
    sock:done()
  end
  more()
end

-- Drives one lnet socket: `mode` "now" and "duplex" write at once,
-- "after-end" only after the peer's FIN.  Records events; returns the
-- record.
local function drive(sock, mode, send)
  local rec = { events = {}, chunks = {}, bytes = 0 }
  local function ev(name)
    rec.events[#rec.events + 1] = name
  end
  sock:on("data", function(d)
    if rec.bytes == 0 then ev("data") end
    rec.chunks[#rec.chunks + 1] = d
    rec.bytes = rec.bytes + #d
  end)
  sock:on("end", function()
    ev("end")
    rec.bytesAtEnd = rec.bytes
    rec.stateAtEnd = sock.readyState
    rec.writtenAtEnd = sock.bytesWritten
    if mode == "after-end" then pump(sock, send) end
  end)
  sock:on("finish", function() ev("finish") end)
  sock:on("error", function(err) ev("error"); rec.err = err end)
  sock:on("close", function(had)
    ev("close:" .. tostring(had))
    rec.bytesRead = sock.bytesRead
    rec.bytesWritten = sock.bytesWritten
  end)
  if mode ~= "after-end" then pump(sock, send) end
  return rec
end

-- What both sides must agree on after a transfer: every byte, both ways,
-- and a clean close.
local function check(rec, got_by_lua, sent_by_lua, node)
  assert.is_nil(rec.err)
  assert.equal(#got_by_lua, rec.bytes)
  assert.equal(#got_by_lua, rec.bytesRead)
  assert.equal(#sent_by_lua, rec.bytesWritten)
  -- One comparison of 8 MiB strings; on failure, say where they differ.
  local got = table.concat(rec.chunks)
  if got ~= got_by_lua then
    local i = 1
    while got:byte(i) == got_by_lua:byte(i) do i = i + 1 end
    error(("lnet received different bytes from node: first difference at "
      .. "offset %d of %d"):format(i - 1, #got), 0)
  end
  assert.is_nil(node.error)
  assert.is_nil(node.watchdog)
  assert.equal(#sent_by_lua, node.received)
  assert.is_true(node.equal, "node received different bytes from lnet, "
    .. "first difference at offset " .. tostring(node.firstDiff))
  assert.equal("close:false", rec.events[#rec.events])
  assert.equal("close:false", node.events[#node.events])
end

local function index_of(list, v)
  for i, x in ipairs(list) do if x == v then return i end end
end

-- One transfer: lnet as `role` ("server" or "client") in `lua_mode`, node
-- in `node_mode` (modes as in interop_peer.js: "now" with allowHalfOpen
-- false, "duplex" and "after-end" with allowHalfOpen true).  Returns the
-- lnet record and node's result.
local function transfer(role, lua_mode, node_mode)
  local to_node, to_lua = random_bytes(SIZE), random_bytes(SIZE)
  local files = { write_file(to_lua), write_file(to_node) }
  local rec, child
  if role == "server" then
    local srv
    srv = net.createServer({ allowHalfOpen = lua_mode ~= "now" },
      h.must_call(function(c)
        srv:close()
        rec = drive(c, lua_mode, to_node)
      end))
    srv:listen(0, "127.0.0.1", h.must_call(function()
      child = spawn(files, "interop_peer.js", "client", node_mode, files[1],
        files[2], srv:address().port)
    end))
  else
    child = spawn(files, "interop_peer.js", "server", node_mode, files[1],
      files[2])
    local s = net.connect({ port = child.hello.port, host = "127.0.0.1",
      allowHalfOpen = lua_mode ~= "now" })
    rec = drive(s, lua_mode, to_node)
  end
  h.run(10000)
  -- The loop may also stop with the socket still open (nothing left to
  -- read or write): fail now, killing node, rather than wait for it.
  assert(rec and rec.events[#rec.events]:find("^close:"),
    "the lnet socket never closed; its events: "
    .. table.concat(rec and rec.events or {}, ", "))
  local node = result(child)
  check(rec, to_lua, to_node, node)
  return rec, node
end

describe("net interop with node", function()
  after_each(h.cleanup)

  it_node("node client <-> lnet server: 8 MiB each way at once", function()
    local rec, node = transfer("server", "duplex", "duplex")
    assert.is_truthy(index_of(rec.events, "finish"))
    assert.is_truthy(index_of(node.events, "finish"))
  end)

  it_node("lnet client <-> node server: 8 MiB each way at once", function()
    local rec, node = transfer("client", "duplex", "duplex")
    assert.is_truthy(index_of(rec.events, "finish"))
    assert.is_truthy(index_of(node.events, "finish"))
  end)

  -- lnet half-closes first; node (allowHalfOpen) writes its 8 MiB only once
  -- it saw lnet's FIN, and lnet must still read every byte of it.
  it_node("half-close: lnet client ends, node server keeps writing",
  function()
    local rec, node = transfer("client", "now", "after-end")
    assert.is_false(node.wroteBeforeEnd)
    assert.is_true(node.writableAtEnd)
    assert.same({ "data", "end", "finish", "close:false" }, node.events)
    -- All of node's data came after lnet's own FIN went out.
    assert.equal(SIZE, rec.bytesAtEnd)
    assert.equal("close:false", rec.events[#rec.events])
    assert.is_true(index_of(rec.events, "finish") < #rec.events)
  end)

  it_node("half-close: lnet server ends, node client keeps writing",
  function()
    local rec, node = transfer("server", "now", "after-end")
    assert.is_false(node.wroteBeforeEnd)
    assert.is_true(node.writableAtEnd)
    assert.same({ "data", "end", "finish", "close:false" }, node.events)
    assert.equal(SIZE, rec.bytesAtEnd)
  end)

  -- node half-closes first; lnet (allowHalfOpen) writes its 8 MiB after
  -- node's FIN, which node must still read in full.
  it_node("half-close: node client ends, lnet server keeps writing",
  function()
    local rec, node = transfer("server", "after-end", "now")
    assert.same({ "data", "end", "finish", "close:false" }, rec.events)
    assert.equal(SIZE, rec.bytesAtEnd)
    assert.equal(0, rec.writtenAtEnd)
    assert.equal("writeOnly", rec.stateAtEnd)
    assert.is_truthy(index_of(node.events, "finish"))
    assert.equal(SIZE, node.received)
  end)

  it_node("half-close: node server ends, lnet client keeps writing",
  function()
    local rec = transfer("client", "after-end", "now")
    assert.same({ "data", "end", "finish", "close:false" }, rec.events)
    assert.equal(SIZE, rec.bytesAtEnd)
    assert.equal(0, rec.writtenAtEnd)
    assert.equal("writeOnly", rec.stateAtEnd)
  end)
end)

---------------------------------------------------------------------------
-- Errors: the same failed connect in node and in lnet.

-- A port nothing listens on: bound, then closed.
local function closed_port(host)
  local t = core.tcp_new(nil)
  assert.equal(0, t:bind(host, 0))
  local _, port = t:getsockname()
  t:close()
  return port
end

local FIELDS = { "name", "code", "errno", "syscall", "address", "port",
  "message" }

-- Runs connect_error.js with args, then the same connect in lnet (made by
-- connect()), and compares every field, tostring and the event order.
local function compare_error(connect, ...)
  local args = { ... }
  local code, out, err = h.sh(node_cmd("connect_error.js",
    table.unpack(args)))
  assert.equal(0, code, "node failed: " .. err)
  local want = decode(out:match("[^\n]+"))
  assert.is_table(want.error, "node connected: " .. out)
  local got, events = nil, {}
  local s = connect()
  s:on("error", h.must_call(function(e)
    events[#events + 1] = "error"
    got = e
  end))
  s:on("close", h.must_call(function(had)
    events[#events + 1] = "close:" .. tostring(had)
  end))
  h.run()
  assert.same(want.events, events)
  for _, k in ipairs(FIELDS) do
    assert.equal(want.error[k], got[k], "field " .. k)
  end
  assert.equal(want.error.string, tostring(got))
  assert.equal(net.Error, getmetatable(got))
  return want.error, got
end

-- Holds an address with a first lnet server (listen_args), then lets
-- listen_error.js and a second lnet server both try it, and compares.
local function compare_listen_error(listen_args, node_args)
  local first = net.createServer()
  local want, got
  first:listen(table.unpack(listen_args))
  first:on("listening", h.must_call(function()
    local code, out, err = h.sh(node_cmd("listen_error.js",
      table.unpack(node_args)))
    assert.equal(0, code, "node failed: " .. err)
    want = decode(out:match("[^\n]+"))
    local second = net.createServer()
    second:on("listening", h.must_not_call("the address was free"))
    second:on("error", h.must_call(function(e)
      got = e
      first:close()
    end))
    second:listen(table.unpack(listen_args))
  end))
  h.run()
  assert.same({ "error" }, want.events)
  for _, k in ipairs(FIELDS) do
    assert.equal(want.error[k], got[k], "field " .. k)
  end
  assert.equal(want.error.string, tostring(got))
  return want.error, got
end

describe("net errors compared with node", function()
  after_each(h.cleanup)

  it_node("a closed IPv4 port: same fields as node", function()
    local port = closed_port("127.0.0.1")
    local want = compare_error(function()
      return net.connect(port, "127.0.0.1")
    end, "tcp", "127.0.0.1", port)
    assert.equal("ECONNREFUSED", want.code)   -- node really was refused
  end)

  it_node6("a closed IPv6 port: same fields as node", function()
    local port = closed_port("::1")
    local want = compare_error(function()
      return net.connect({ port = port, host = "::1" })
    end, "tcp", "::1", port)
    assert.equal("ECONNREFUSED", want.code)
  end)

  it_node("a missing Unix socket path: same fields as node", function()
    local path = h.tmpname(".nosock")
    local want = compare_error(function()
      return net.connect(path)
    end, "unix", path)
    assert.equal("ENOENT", want.code)
    assert.is_nil(want.port)
  end)

  it_node("listen on a TCP port in use: same fields as node", function()
    local port = closed_port("127.0.0.1")
    local want = compare_listen_error({ port, "127.0.0.1" },
      { "tcp", "127.0.0.1", port })
    assert.equal("EADDRINUSE", want.code)
  end)

  it_node("listen on a Unix path in use: same fields as node", function()
    local path = h.tmpname(".sock")
    finally(function() os.remove(path) end)
    local want = compare_listen_error({ path }, { "unix", path })
    assert.equal("EADDRINUSE", want.code)
    assert.equal(-1, want.port)
  end)
end)
