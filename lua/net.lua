-- net: Node's net module (lnet-api.md §5) -- Server, Socket, createServer,
-- connect -- layered on the stream handles of lnet.core the way Node's
-- lib/net.js layers on tcp_wrap and pipe_wrap.
--
-- The C core calls methods of a handle's owner by name (onread, onwrite,
-- onconnect, onshutdown, onconnection, ontimeout, onclose; docs/internals.md)
-- and anchors the handle, so an open Server or Socket lives with no Lua
-- reference (§7).  Everything Node-shaped lives here: events and their
-- order, half-open, writes queued before connect, name resolution.
--
-- Speed and size, since every connection pays for them:
-- - a socket is one table: its state flags are bits of one integer (_f),
--   its options fields that exist only once they differ from the class
--   default, and state tables (write queue, pending writes, decoder) are
--   made only when needed; what C knows (byte counts, an accepted
--   socket's server) is asked of the handle, not copied into the table:
--   an echoed 'data' socket keeps 3 fields (a 4-slot hash) all its life;
-- - computed fields (remoteAddress, readyState, bufferSize, ...) are read
--   live through an __index function, after the method table;
-- - data in: C onread -> Socket:onread -> emit('data', chunk);
--   data out: Socket:write -> one h:write; state (callback queue) is kept
--   only for a write libuv could not finish at once or that has a callback.

local core = require("lnet.core")
local events = require("events")
local errors = require("lnet.errors")
local ip = require("lnet.ip")
local tick = require("lnet.tick")

local EventEmitter = events.EventEmitter
local emit = EventEmitter.emit
local nextTick = tick.nextTick
local defer = tick.defer  -- nextTick(fn, a), one non-nil argument
local isIP = ip.isIP
local type, select, setmetatable, getmetatable, tonumber, tostring, error,
  ipairs, rawget, rawset = type, select, setmetatable, getmetatable,
  tonumber, tostring, error, ipairs, rawget, rawset
local floor, huge = math.floor, math.huge

local EOF = core.errno.EOF
local ENOTCONN = core.errno.ENOTCONN
local ECANCELED = core.errno.ECANCELED
local EINVAL = core.errno.EINVAL

local DEFAULT_HWM = 16384

-- Loaded on first use: most sockets never decode and never race families.
local encoding, timers
local function enc_module()
  encoding = encoding or require("lnet.encoding")
  return encoding
end
local function timers_module()
  timers = timers or require("timers")
  return timers
end

local net = {}

local auto_select_family = true
local auto_select_timeout = 250

local function emit_error(self, err)
  emit(self, "error", err)
end

-- emit() for a socket with pipes: src's 'end' and dest's drain, finish,
-- close and error run the pipes' part among the listeners, where Node's
-- pipe() has its listener (defined with pipe() below).
local pipes_emit
local close_if_drained  -- a server with no connection left: 'close' if closed

local function emit_drain(self)
  if rawget(self, "_pipes") then pipes_emit(self, "drain")
  else emit(self, "drain") end
end

-- Node's isPipeName: a string that does not read as a number >= 0.  "" and
-- blanks read as 0 in JavaScript, so they are (bad) ports, not paths.
local function is_pipe_name(s)
  if type(s) ~= "string" or s:find("^%s*$") then return false end
  local n = tonumber(s)
  return not (n and n >= 0)
end

-- Node's toNumber for backlog arguments: a number >= 0, else nil.
local function to_backlog(x)
  local n = tonumber(x)
  if n and n >= 0 and n == n then return floor(n) end
  return nil
end

local function check_boolean(v, name)
  if v ~= nil and type(v) ~= "boolean" then
    error(errors.ERR_INVALID_ARG_TYPE(name, "boolean", v), 4)
  end
end

-- Canonical encoding name, raising ERR_UNKNOWN_ENCODING (level: caller's).
local function check_encoding(name, level)
  local canon = enc_module().normalize(name)
  if not canon then
    error(errors.ERR_UNKNOWN_ENCODING(name), level + 1)
  end
  return canon
end


---------------------------------------------------------------------------
-- Socket
---------------------------------------------------------------------------

-- The emitter's methods are copied in (extend), so that a method call
-- finds them in one lookup; Socket's own definitions below replace some.
local Socket = EventEmitter.extend({})

-- A socket's state, as bits of one integer field _f that every socket has
-- from its constructor: a test is a field read and a bitwise and.  As
-- separate fields, absent until set, each read of an unset one was a
-- rawget call (~300 instructions; a plain read would run SocketMT's
-- __index function) and each first set a new hash slot, often a rehash.
-- `destroyed` and `connecting` are read by users through getters below.
local DESTROYED <const> = 1 << 0
local CONNECTING <const> = 1 << 1
local EOF_READ <const> = 1 << 2     -- the peer's FIN was read
local END_EMITTED <const> = 1 << 3  -- 'end' was emitted (readableEnded)
local ENDING <const> = 1 << 4       -- done() was called (writableEnded)
local FINISHED <const> = 1 << 5     -- the FIN went out: 'finish'
local NO_READ <const> = 1 << 6      -- options.readable == false
local NO_WRITE <const> = 1 << 7     -- options.writable == false
local FLOWING <const> = 1 << 8      -- Node's readableFlowing: true,
local PAUSED <const> = 1 << 9       -- false, or neither bit: null
local UNIX <const> = 1 << 10        -- a pipe handle, not TCP
local HAD_ERROR <const> = 1 << 11   -- destroyed with an error
local RESET <const> = 1 << 12       -- close with a TCP RST
local NEED_DRAIN <const> = 1 << 13  -- a write returned false
local HELD <const> = 1 << 14        -- chunks wait in _held for a reader
-- Set once a socket may have one of the rarely made fields (_pq, _onfinish,
-- _attempt, _decoder, a _gone from before connect()): the close path of
-- every other socket skips looking for them.
local EXTRAS <const> = 1 << 15
-- Writes go straight to the handle unless one of these holds.
local WRITE_BLOCKED <const> = CONNECTING | ENDING | NO_WRITE | DESTROYED

-- Defaults, read through the metatable until a socket sets its own.
Socket.allowHalfOpen = false
Socket.writableHighWaterMark = DEFAULT_HWM
Socket.readableHighWaterMark = DEFAULT_HWM

-- "No address": read by the getters below, never handed out.
local EMPTY = {}

-- Remote address, cached once read while connected (Node keeps it after
-- destroy); Unix sockets have none, as in Node.
local function peername(s)
  local p = s._peer
  if p then return p end
  local h = s._handle
  if not h or s._f & (CONNECTING | UNIX) ~= 0 then return EMPTY end
  local a, port, fam = h:getpeername()
  if not a then return EMPTY end
  p = { address = a, port = port, family = fam }
  s._peer = p
  return p
end

local function sockname(s)
  local h = s._handle
  if not h or s._f & UNIX ~= 0 then return EMPTY end
  local a, port, fam = h:getsockname()
  if not a then return EMPTY end
  return { address = a, port = port, family = fam }
end

local function writable_length(s)
  local n = s._pqBytes or 0
  local h = s._handle
  if h then n = n + h:write_queue_size() end
  return n
end

local function is_readable(s)
  return s._f & (DESTROYED | END_EMITTED | NO_READ) == 0
end

local function is_writable(s)
  return s._f & (DESTROYED | ENDING | NO_WRITE) == 0
end

-- Byte counts, counted by C: the current handle's, the last closed one's
-- (_gone: destroy keeps the handle, which still answers once closed), and
-- those of handles closed before that (_br, _bw: a socket connected again
-- after destroy), plus the writes queued before connect.
local function bytes_read(s)
  local n = rawget(s, "_br") or 0
  local h = rawget(s, "_handle")
  if h then n = n + h:bytes() end
  h = rawget(s, "_gone")
  if h then n = n + h:bytes() end
  return n
end

local function bytes_written(s)
  local n = (rawget(s, "_bw") or 0) + (rawget(s, "_pqBytes") or 0)
  local h = rawget(s, "_handle")
  if h then
    local _, w = h:bytes()
    n = n + w
  end
  h = rawget(s, "_gone")
  if h then
    local _, w = h:bytes()
    n = n + w
  end
  return n
end

-- Computed fields (§5.3): read live on every access.
local getters = {
  bytesRead = bytes_read,
  bytesWritten = bytes_written,
  -- The Server that accepted the socket (kept by its handle).
  server = function(s)
    local h = rawget(s, "_handle") or rawget(s, "_gone")
    if h then return h:server() end
  end,
  pending = function(s) return s._handle == nil or s._f & CONNECTING ~= 0 end,
  readable = is_readable,
  writable = is_writable,
  readyState = function(s)
    if s._f & CONNECTING ~= 0 then return "opening" end
    local r, w = is_readable(s), is_writable(s)
    if r and w then return "open"
    elseif r then return "readOnly"
    elseif w then return "writeOnly" end
    return "closed"
  end,
  bufferSize = function(s)
    if s._handle then return writable_length(s) end
  end,
  writableLength = writable_length,
  writableEnded = function(s) return s._f & ENDING ~= 0 end,
  writableFinished = function(s) return s._f & FINISHED ~= 0 end,
  readableEnded = function(s) return s._f & END_EMITTED ~= 0 end,
  readableFlowing = function(s)
    local f = s._f
    if f & FLOWING ~= 0 then return true end
    if f & PAUSED ~= 0 then return false end
    return nil
  end,
  destroyed = function(s) return s._f & DESTROYED ~= 0 end,
  connecting = function(s) return s._f & CONNECTING ~= 0 end,
  remoteAddress = function(s) return peername(s).address end,
  remotePort = function(s) return peername(s).port end,
  remoteFamily = function(s) return peername(s).family end,
  localAddress = function(s) return sockname(s).address end,
  localPort = function(s) return sockname(s).port end,
  localFamily = function(s) return sockname(s).family end,
}

-- Methods and defaults first (the common case), then computed fields.
local SocketMT = {
  __name = "Socket",  -- "an instance of Socket" in error messages
  __index = function(s, k)
    local v = Socket[k]
    if v ~= nil then return v end
    local g = getters[k]
    if g then return g(s) end
    return nil
  end,
}

-- obj[name] without SocketMT's __index function when obj is an lnet
-- Socket (same answer: the instance's own field, else the class's; methods
-- are never computed fields), for an obj that may be something else (a
-- pipe's dest).  Where obj is known to be a Socket, the code writes
-- `rawget(s, name) or Socket.name` itself: one C call instead of a Lua
-- call and two C calls (rawget and type cost ~300 instructions a call,
-- a Lua __index function ~500, a field read ~20).
local function method(obj, name)
  if getmetatable(obj) == SocketMT then
    return rawget(obj, name) or Socket[name]
  end
  return obj[name]
end

-- Private fields (_x) other than _f have no class default and no getter:
-- where one is often unset, it is read with rawget (same answer, without
-- a call of the __index function).

-- The handle's timer takes whole milliseconds; a fraction still counts.
local function timer_ms(ms)
  if ms > 0 and ms < 1 then return 1 end
  return floor(ms)
end

-- A fresh handle for a socket about to connect, with what was asked of
-- the socket before the handle existed (unref, timeout).
local function new_handle(self, pipe)
  local h, err
  if pipe then
    h = core.pipe_new(self)
    self._f = self._f | UNIX
  else
    h, err = core.tcp_new(self)
    if not h then error(errors.uv(err, "socket"), 4) end
    self._f = self._f & ~UNIX
  end
  if self._unref then h:unref() end
  local t = self.timeout
  if t and t > 0 then h:set_timeout(timer_ms(t)) end
  self._handle = h
  return h
end

local function adopt_fd(self, fd)
  if type(fd) ~= "number" or fd < 0 or fd ~= floor(fd) then
    error(errors.ERR_INVALID_ARG_TYPE("options.fd", "number", fd), 4)
  end
  local kind = core.guess_handle(fd)
  local h
  if kind == "tcp" then
    h = new_handle(self, false)
  elseif kind == "pipe" then
    h = new_handle(self, true)
  else
    error(errors.ERR_INVALID_FD_TYPE(kind:upper()), 4)
  end
  local r = h:open(fd)
  if r ~= 0 then
    self._handle = nil
    h:set_owner(nil)
    h:close()
    error(errors.uv(r, "open"), 4)
  end
end

--- net.Socket.new([options]): options fd, allowHalfOpen, readable,
--- writable, highWaterMark, noDelay, keepAlive, keepAliveInitialDelay.
function Socket.new(options)
  local self = setmetatable({ _f = 0 }, SocketMT)
  if type(options) == "number" then options = { fd = options } end
  if options == nil then return self end
  if type(options) ~= "table" then
    error(errors.ERR_INVALID_ARG_TYPE("options", "Object", options), 2)
  end
  if options.allowHalfOpen then self.allowHalfOpen = true end
  local hwm = options.highWaterMark
  if hwm ~= nil then
    hwm = errors.check_integer(hwm, "options.highWaterMark", 0)
    self.writableHighWaterMark = hwm
    self.readableHighWaterMark = hwm
  end
  if options.readable == false then self._f = self._f | NO_READ end
  if options.writable == false then self._f = self._f | NO_WRITE end
  if options.noDelay then self._noDelay = true end
  if options.keepAlive then
    self._keepAlive = true
    self._keepAliveDelay = floor((options.keepAliveInitialDelay or 0) / 1000)
  end
  if options.fd ~= nil then
    adopt_fd(self, options.fd)
  end
  return self
end


---------------------------------------------------------------------------
-- Reading

-- The stream flows (Node's readableFlowing): nil until a 'data' listener,
-- resume() or pipe() asks for data, false once paused.  A paused socket
-- reads nothing from the kernel, so pause() is real backpressure.  Before
-- anyone asked (nil), the socket reads anyway, as a Node socket does from
-- the start: chunks are held (_held) up to readableHighWaterMark, then
-- reading stops, and the first reader gets them first.  So a socket nobody
-- reads still sees the peer's FIN when nothing was sent ('end', then the
-- automatic end and 'close', as in Node: a write-only server closes its
-- connections), and closing it does not reset a connection whose few
-- bytes were never read.

local function read_start(self)
  local h = self._handle
  if h and self._f & (CONNECTING | EOF_READ | NO_READ) == 0 then
    local r = h:read_start()
    if r ~= 0 then self:destroy(errors.uv(r, "read")) end
  end
end

local function auto_end(self)
  if self._f & (ENDING | DESTROYED) == 0 then self:done() end
end

local function emit_end(self)
  -- Held chunks first: the reader who takes them gets 'end' after them.
  if self._f & (DESTROYED | END_EMITTED | HELD) ~= 0 then return end
  local d = self._f & EXTRAS ~= 0 and rawget(self, "_decoder")
  if d then
    local rest = d:finish()
    if rest ~= "" then emit(self, "data", rest) end
  end
  self._f = self._f | END_EMITTED
  if rawget(self, "_pipes") then pipes_emit(self, "end")
  else emit(self, "end") end
  if self._f & DESTROYED ~= 0 then return end
  local f = self._f
  if not rawget(self, "allowHalfOpen") and f & (NO_WRITE | ENDING) == 0 then
    -- Our side follows once writes queued until now are flushed.
    defer(auto_end, self)
  elseif f & (FINISHED | NO_WRITE) ~= 0 then
    local destroy = rawget(self, "destroy") or Socket.destroy
    destroy(self)
  end
end

local function read_done(self, err)
  if self._f & DESTROYED ~= 0 then return end
  if err ~= EOF then
    return self:destroy(errors.uv(err, "read"))
  end
  self._f = self._f | EOF_READ
  defer(emit_end, self)
end

-- Called by C for every chunk read: the hot path.  nil, errno at the end.
-- emit(self, "data", chunk) is inlined: a vararg call to emit costs more
-- than the listener call itself.  It reads the stored listeners exactly as
-- emit does (events.lua's storage: one function, or a sequence never
-- modified once stored), so the snapshot semantics are the same.
local hold

function Socket:onread(chunk, err)
  if chunk then
    local ev = self._events
    local l = ev and ev.data
    if l ~= nil then
      return l(chunk)  -- a function or a callable sequence (events.lua)
    end
    -- No reader yet: held.  Flowing without listeners: gone, as in Node.
    if self._f & FLOWING == 0 then return hold(self, chunk) end
    return
  end
  return read_done(self, err)
end

-- onread of a socket after setEncoding (set on the socket itself): the
-- decoded text goes where Socket:onread sends a chunk.
local function onread_decoding(self, chunk, err)
  if chunk then
    chunk = self._decoder:write(chunk)
    if chunk == "" then return end
  end
  return Socket.onread(self, chunk, err)
end

-- A chunk read before anyone asked for data.
function hold(self, chunk)
  local held = rawget(self, "_held")
  if not held then
    held = { n = 0, i = 1 }
    self._held = held
    self._f = self._f | HELD
  end
  held[#held + 1] = chunk
  held.n = held.n + #chunk
  if held.n >= self.readableHighWaterMark then
    self._handle:read_stop()  -- resume() starts it again
  end
end

-- The stream flows now: the held chunks go first (on a later turn, as
-- Node's resume(), so that listeners added in the same turn get them),
-- then 'end' if the peer ended meanwhile.
local function flush_held(self)
  local held = rawget(self, "_held")
  if not held then return end
  local i = held.i
  while held[i] ~= nil and self._f & (FLOWING | DESTROYED) == FLOWING do
    local chunk = held[i]
    held[i], i = nil, i + 1
    held.n = held.n - #chunk
    emit(self, "data", chunk)
  end
  held.i = i
  if held[i] ~= nil or rawget(self, "_held") ~= held then return end
  self._held = nil
  self._f = self._f & ~HELD
  if self._f & EOF_READ ~= 0 then defer(emit_end, self) end
end

function Socket:resume()
  local f = self._f
  self._f = f & ~PAUSED | FLOWING
  if f & HELD ~= 0 then defer(flush_held, self) end
  read_start(self)
  return self
end

function Socket:pause()
  self._f = self._f & ~FLOWING | PAUSED
  local h = self._handle
  if h and self._f & CONNECTING == 0 then h:read_stop() end
  return self
end

function Socket:isPaused()
  return self._f & PAUSED ~= 0
end

-- A 'data' listener starts the flow unless the socket was paused, as a
-- Node Readable does.
local function on_data_listener(self, name)
  if name == "data" and self._f & (FLOWING | PAUSED) == 0 then
    local resume = rawget(self, "resume") or Socket.resume
    resume(self)
  end
end

function Socket:on(name, fn)
  EventEmitter.on(self, name, fn)
  on_data_listener(self, name)
  return self
end
Socket.addListener = Socket.on

function Socket:once(name, fn)
  EventEmitter.once(self, name, fn)
  on_data_listener(self, name)
  return self
end

function Socket:setEncoding(name)
  local canon = check_encoding(name, 2)
  local d = enc_module().decoder(canon)
  -- Chunks held as read, before any decoder: decoded now, as Node decodes
  -- what its buffer holds when the encoding is set.
  local held = rawget(self, "_decoder") == nil and rawget(self, "_held")
  if held then
    local text = { n = 0, i = 1 }
    for i = held.i, #held do
      local t = d:write(held[i])
      if t ~= "" then
        text[#text + 1] = t
        text.n = text.n + #t
      end
    end
    self._held = text
  end
  self._decoder = d
  self._f = self._f | EXTRAS
  self.onread = onread_decoding
  return self
end

---------------------------------------------------------------------------
-- Writing

-- Writes in libuv's hands (queued > 0) complete in order, each with one
-- onwrite.  _wq is their callback queue, made on the first such write and
-- then kept: pairs (cb or false, waiting) from index wq.h to wq.t - 1.  A
-- write the kernel took at once while older ones are still waiting is put
-- in the queue as already done (waiting false), so that callbacks keep
-- the order of the writes.
local function wq_push(self, cb, waiting)
  local wq = self._wq
  if not wq then
    wq = { h = 1, t = 1 }
    self._wq = wq
  end
  local t = wq.t
  wq[t], wq[t + 1], wq.t = cb, waiting, t + 2
end

local function fail_write(self, err, cb)
  if cb then nextTick(cb, err) end
  self:destroy(err)
  return false
end

-- What follows h:write(data) -> st, q when the kernel did not simply take
-- everything: an error, a callback to run, or bytes left with libuv.
local function dispatched(self, h, st, q, cb)
  if st ~= 0 then return fail_write(self, errors.uv(st, "write"), cb) end
  if q == 0 then
    if cb then
      local wq = self._wq
      if wq and wq.h < wq.t then wq_push(self, cb, false)
      else nextTick(cb) end
    end
    return true
  end
  wq_push(self, cb or false, true)
  if h:write_queue_size() >= self.writableHighWaterMark then
    self._f = self._f | NEED_DRAIN
    return false
  end
  return true
end

function Socket:onwrite(status)
  local wq = self._wq
  if not wq then return end  -- a handle from before connect() after destroy
  local first = wq.h
  local cb = wq[first]
  wq[first], wq[first + 1] = nil, nil
  -- Writes the kernel took at once behind this one are done now too.
  local i = first + 2
  while i < wq.t and not wq[i + 1] do i = i + 2 end
  wq.h = i
  if status < 0 and self._f & DESTROYED == 0 then
    local err = errors.uv(status, "write")
    if cb then cb(err) end
    self:destroy(err)
  else
    -- Node emits 'drain' before the callbacks of the writes that emptied
    -- the queue; after destroy a callback gets no error (the write was
    -- handed over).
    if i == wq.t
       and self._f & (NEED_DRAIN | DESTROYED | ENDING) == NEED_DRAIN then
      self._f = self._f & ~NEED_DRAIN
      emit_drain(self)
    end
    if cb then cb() end
  end
  for k = first + 2, i - 2, 2 do
    local c = wq[k]
    wq[k], wq[k + 1] = nil, nil
    if c then c() end
  end
  if wq.h == wq.t then wq.h, wq.t = 1, 1 end
end

-- Writes before the socket is connected: kept in _pq (data, cb) pairs.
local function queue_pending(self, data, n, cb)
  local pq = self._pq
  if not pq then
    pq = {}
    self._pq = pq
    self._f = self._f | EXTRAS
  end
  pq[#pq + 1] = data
  pq[#pq + 1] = cb or false
  local total = (self._pqBytes or 0) + n
  self._pqBytes = total
  if total >= self.writableHighWaterMark then
    self._f = self._f | NEED_DRAIN
    return false
  end
  return true
end

local write_slow

--- socket:write(data[, encoding][, cb]) -> boolean (§5.3).
function Socket:write(data, enc, cb)
  local h = self._handle
  if h and self._f & WRITE_BLOCKED == 0 and enc == nil and cb == nil then
    local st, q = h:write_str(data)  -- nil: not a string
    if st == 0 and q == 0 then return true end
    if st ~= nil then return dispatched(self, h, st, q, nil) end
  end
  return write_slow(self, data, enc, cb)
end

local function encode_data(data, enc)
  local E = enc_module()
  if type(data) == "string" then return E.encode(data, enc) end
  local out = {}
  for i = 1, #data do out[i] = E.encode(data[i], enc) end
  return out
end

function write_slow(self, data, enc, cb)
  if type(enc) == "function" then enc, cb = nil, enc end
  if cb ~= nil then errors.check_function(cb, "cb") end
  local n
  if type(data) == "string" then
    n = #data
  elseif type(data) == "table" then
    n = 0
    for i = 1, #data do
      local part = data[i]
      if type(part) ~= "string" then
        error(errors.ERR_INVALID_ARG_TYPE("chunk",
          { "string", "a sequence of strings" }, part), 3)
      end
      n = n + #part
    end
  else
    error(errors.ERR_INVALID_ARG_TYPE("chunk",
      { "string", "a sequence of strings" }, data), 3)
  end
  if self._f & ENDING ~= 0 then
    -- After the peer ended (allowHalfOpen false) Node answers EPIPE.
    if self._f & END_EMITTED ~= 0 and not self.allowHalfOpen then
      return fail_write(self, errors.epipe_ended(), cb)
    end
    return fail_write(self, errors.ERR_STREAM_WRITE_AFTER_END(), cb)
  end
  if self._f & DESTROYED ~= 0 then
    if cb then nextTick(cb, errors.ERR_STREAM_DESTROYED("write")) end
    return false
  end
  if enc ~= nil then
    local canon = check_encoding(enc, 3)
    if canon ~= "utf8" then
      data = encode_data(data, canon)
      n = 0
      if type(data) == "string" then n = #data
      else for i = 1, #data do n = n + #data[i] end end
    end
  end
  local h = self._handle
  if not h or self._f & (CONNECTING | NO_WRITE) ~= 0 then
    -- Queued while connecting; a socket never connected has nowhere to
    -- write to (Node: ERR_SOCKET_CLOSED, then destroyed).
    if self._f & CONNECTING == 0 then
      return fail_write(self, errors.ERR_SOCKET_CLOSED(), cb)
    end
    return queue_pending(self, data, n, cb)
  end
  local st, q = h:write(data)
  if st == 0 and q == 0 and cb == nil then return true end
  return dispatched(self, h, st, q, cb)
end

-- The half-close: libuv sends the FIN once queued writes are done.
local function shutdown(self, h)
  local r = h:shutdown()
  if r ~= 0 then
    if r == ENOTCONN then
      nextTick(Socket.onshutdown, self, 0)
    else
      self:destroy(errors.uv(r, "shutdown"))
    end
  end
end

-- Flushes writes made before the connection existed, in order.
local function flush_pending(self, h)
  local pq = self._pq
  if not pq then return end
  self._pq, self._pqBytes = nil, nil
  for i = 1, #pq, 2 do
    local st, q = h:write(pq[i])
    local cb = pq[i + 1] or nil
    if st ~= 0 or q ~= 0 or cb then dispatched(self, h, st, q, cb) end
    if self._f & DESTROYED ~= 0 then return end
  end
  if self._f & (NEED_DRAIN | ENDING) == NEED_DRAIN
     and h:write_queue_size() < self.writableHighWaterMark then
    self._f = self._f & ~NEED_DRAIN
    nextTick(function()
      if self._f & DESTROYED == 0 then emit_drain(self) end
    end)
  end
end

-- done() callbacks: at 'finish' (just before it, as Node), or with the
-- error on destroy (on a later turn).
-- destroyed: with err, or ERR_STREAM_DESTROYED, on a later turn.
local function call_finish_callbacks(self, destroyed, err)
  if self._f & EXTRAS == 0 then return end
  local list = rawget(self, "_onfinish")
  if not list then return end
  self._onfinish = nil
  if destroyed then err = err or errors.ERR_STREAM_DESTROYED("end") end
  for i = 1, #list do
    if err then nextTick(list[i], err) else list[i]() end
  end
end

function Socket:onshutdown()
  if self._f & (DESTROYED | FINISHED) ~= 0 then return end
  self._f = self._f | FINISHED
  call_finish_callbacks(self)
  if rawget(self, "_pipes") then pipes_emit(self, "finish")
  else emit(self, "finish") end
  if self._f & DESTROYED ~= 0 then return end
  if self._f & (END_EMITTED | NO_READ) ~= 0 then
    local destroy = rawget(self, "destroy") or Socket.destroy
    destroy(self)
  end
end

--- socket:done([data][, encoding][, cb]) -- Node's end (§5.3).
function Socket:done(data, enc, cb)
  -- (type() only for arguments given: done() itself is the common call.)
  if data ~= nil and type(data) == "function" then
    data, enc, cb = nil, nil, data
  elseif enc ~= nil and type(enc) == "function" then
    enc, cb = nil, enc
  end
  if cb ~= nil then errors.check_function(cb, "cb") end
  if data ~= nil then self:write(data, enc) end
  if self._f & (ENDING | DESTROYED) ~= 0 then
    if cb then
      if self._f & FINISHED ~= 0 then
        nextTick(cb, errors.ERR_STREAM_ALREADY_FINISHED("end"))
      elseif self._f & DESTROYED ~= 0 then
        nextTick(cb, errors.ERR_STREAM_DESTROYED("end"))
      else
        local list = self._onfinish or {}
        list[#list + 1] = cb
        self._onfinish = list
        self._f = self._f | EXTRAS
      end
    end
    return self
  end
  if cb then
    self._onfinish = { cb }
    self._f = self._f | EXTRAS
  end
  self._f = self._f | ENDING
  local h = self._handle
  if h and self._f & CONNECTING == 0 then shutdown(self, h) end
  -- Else the FIN follows the connection (connected()).
  return self
end
Socket["end"] = Socket.done

function Socket:destroySoon()
  if is_writable(self) then self:done() end
  if self._f & FINISHED ~= 0 then
    self:destroy()
  else
    self:once("finish", function() self:destroy() end)
  end
  return self
end

---------------------------------------------------------------------------
-- Closing

local function emit_close(self, had_error)
  -- Callbacks of writes queued before a connection that never came: just
  -- before 'close', as Node's (they wait on 'close' there).
  local cbs = self._f & EXTRAS ~= 0 and rawget(self, "_pqcbs")
  if cbs then
    self._pqcbs = nil
    for i = 1, #cbs do cbs[i](errors.ERR_SOCKET_CLOSED_BEFORE_CONNECTION()) end
  end
  if rawget(self, "_pipes") then pipes_emit(self, "close", had_error)
  else emit(self, "close", had_error) end
end

-- With no 'error' listener of the user's, emit raises err (after the
-- unpipe of a pipe into this socket: Node prepends that listener).
local function emit_socket_error(self, err)
  if rawget(self, "_pipes") then pipes_emit(self, "error", err)
  else emit(self, "error", err) end
end

-- On destroy: a done() callback gets the error (as Node's errorBuffer);
-- those of writes queued before a connection that never came get
-- ERR_SOCKET_CLOSED_BEFORE_CONNECTION just before 'close' (emit_close).
local function fail_pending(self, err)
  if self._f & EXTRAS == 0 then return end
  local pq = rawget(self, "_pq")
  if pq then
    -- Never sent, yet counted by bytesWritten as Node does.
    self._bw = (rawget(self, "_bw") or 0) + (self._pqBytes or 0)
    self._pq, self._pqBytes = nil, nil
    local cbs
    for i = 2, #pq, 2 do
      if pq[i] then
        cbs = cbs or {}
        cbs[#cbs + 1] = pq[i]
      end
    end
    self._pqcbs = cbs
  end
  call_finish_callbacks(self, true, err)
end

--- socket:destroy([err]): close now; 'error'(err) if given, then
--- 'close'(hadError).
function Socket:destroy(err)
  if self._f & DESTROYED ~= 0 then return self end
  self._f = self._f & ~CONNECTING | DESTROYED
  local extras = self._f & EXTRAS ~= 0
  local a = extras and rawget(self, "_attempt")
  if a then
    self._attempt = nil
    if a.timer then timers_module().clearTimeout(a.timer) end
  end
  fail_pending(self, err)
  if err ~= nil then nextTick(emit_socket_error, self, err) end
  local h = self._handle
  local srv
  if h then
    -- What the handle knew (byte counts, server) stays readable: the
    -- closed handle is kept, in the slot of a 4-slot hash that an echoed
    -- socket still has free (copies of its answers would take 3 fields
    -- and a rehash per connection).
    srv = h:server()
    local old = extras and rawget(self, "_gone")
    if old then
      local r, w = old:bytes()
      self._br = (rawget(self, "_br") or 0) + r
      self._bw = (rawget(self, "_bw") or 0) + w
    end
    self._handle = nil
    self._gone = h
    if err ~= nil then self._f = self._f | HAD_ERROR end
    if self._f & RESET ~= 0 then h:close_reset() else h:close() end
    -- onclose emits 'close', from libuv's close callback.
  else
    nextTick(emit_close, self, err ~= nil)
  end
  if srv then
    local n = srv._connections - 1
    srv._connections = n
    if n == 0 then close_if_drained(srv) end
  end
  return self
end

function Socket:onclose()
  return emit_close(self, self._f & HAD_ERROR ~= 0)
end

--- socket:resetAndDestroy(): close with a TCP RST.
function Socket:resetAndDestroy()
  local h = self._handle
  if h then
    if self._f & UNIX ~= 0 then
      error(errors.ERR_INVALID_HANDLE_TYPE(), 2)
    end
    if self._f & CONNECTING ~= 0 then
      self:once("connect", function()
        self._f = self._f | RESET
        self:destroy()
      end)
    else
      self._f = self._f | RESET
      self:destroy()
    end
  else
    self:destroy(errors.ERR_SOCKET_CLOSED())
  end
  return self
end

---------------------------------------------------------------------------
-- Connecting

-- The connection is up: apply what was asked before it existed, flush the
-- queued writes (and the FIN), then 'connect', 'ready' and reading.
local function connected(self)
  local h = self._handle
  self._f = self._f & ~CONNECTING
  self._conn = nil
  if self._f & UNIX == 0 then
    if self._noDelay then h:nodelay(true) end
    if self._keepAlive then h:keepalive(true, self._keepAliveDelay or 0) end
  end
  flush_pending(self, h)
  if self._f & DESTROYED ~= 0 then return end
  if self._f & ENDING ~= 0 then shutdown(self, h) end
  emit(self, "connect")
  if self._f & DESTROYED ~= 0 then return end
  emit(self, "ready")
  -- Reading starts unless paused: held until someone reads.
  if self._f & PAUSED == 0 then read_start(self) end
end

-- Binds the local side of a connect -> 0 or errno, and the address used.
local function bind_local(h, fam, address, port)
  address = address or (fam == 6 and "::" or "0.0.0.0")
  local r = h:bind(address, port or 0)
  if r == 0 and port and port > 0 then
    -- libuv reports EADDRINUSE only at connect; Node checks here.
    local _, got = h:getsockname()
    if got and got ~= port then r = core.errno.EADDRINUSE end
  end
  return r, address
end

local function internal_connect(self, address, port, fam, laddr, lport)
  local h = self._handle
  if fam == nil then  -- a Unix socket path
    self._conn = { address = address }
    h:connect(address)
    return
  end
  if laddr or (lport and lport ~= 0) then
    local r
    r, laddr = bind_local(h, fam, laddr, lport)
    if r ~= 0 then
      return self:destroy(errors.uv(r, "bind", laddr, lport))
    end
  end
  emit(self, "connectionAttempt", address, port, fam)
  self._conn = { address = address, port = port, family = fam,
    localAddress = laddr, localPort = lport }
  local r = h:connect(address, port)
  if r ~= 0 then
    return self:destroy(errors.uv(r, "connect", address, port))
  end
end

-- autoSelectFamily (Node 20's internalConnectMultiple): try each address
-- in turn, each for ctx.timeout ms, on a fresh handle.
local attempt_next

local function attempt_timeout(self, ctx)
  if self._attempt ~= ctx or self._f & DESTROYED ~= 0 then return end
  ctx.timer = nil
  local a = ctx.addresses[ctx.current - 1]
  emit(self, "connectionAttemptTimeout", a.address, ctx.port, a.family)
  if self._attempt == ctx and self._f & CONNECTING ~= 0 then
    attempt_next(self, ctx)
  end
end

function attempt_next(self, ctx, canceled)
  if ctx.timer then
    timers_module().clearTimeout(ctx.timer)
    ctx.timer = nil
  end
  if canceled or ctx.current > #ctx.addresses then
    self._attempt = nil
    if #ctx.errors == 0 then
      return self:destroy(errors.ERR_SOCKET_CONNECTION_TIMEOUT())
    end
    return self:destroy(errors.aggregate(ctx.errors))
  end
  local i = ctx.current
  ctx.current = i + 1
  local h = self._handle
  if i > 1 then  -- the previous attempt's handle is dropped, quietly
    h:set_owner(nil)
    h:close()
    h = new_handle(self, false)
  end
  local a = ctx.addresses[i]
  local address, port, fam = a.address, ctx.port, a.family
  local laddr
  if ctx.localPort and ctx.localPort ~= 0 then
    local r
    r, laddr = bind_local(h, fam, nil, ctx.localPort)
    if r ~= 0 then
      ctx.errors[#ctx.errors + 1] =
        errors.uv(r, "bind", laddr, ctx.localPort)
      return attempt_next(self, ctx)
    end
  end
  emit(self, "connectionAttempt", address, port, fam)
  if self._attempt ~= ctx then return end
  local tried = self.autoSelectFamilyAttemptedAddresses
  tried[#tried + 1] = address .. ":" .. port
  ctx.cur = a
  local r = h:connect(address, port)
  if r ~= 0 then
    local err = errors.uv(r, "connect", address, port)
    ctx.errors[#ctx.errors + 1] = err
    emit(self, "connectionAttemptFailed", address, port, fam, err)
    if self._attempt == ctx then return attempt_next(self, ctx) end
    return
  end
  if i < #ctx.addresses then
    ctx.timer = timers_module().setTimeout(attempt_timeout, ctx.timeout,
      self, ctx)
  end
end

function Socket:onconnect(status)
  if self._f & DESTROYED ~= 0 then return end
  local ctx = self._attempt
  if ctx then
    local a = ctx.cur
    if status ~= 0 then
      local err = errors.uv(status, "connect", a.address, ctx.port)
      ctx.errors[#ctx.errors + 1] = err
      emit(self, "connectionAttemptFailed", a.address, ctx.port, a.family,
        err)
      if self._attempt == ctx and self._f & CONNECTING ~= 0 then
        attempt_next(self, ctx, status == ECANCELED)
      end
      return
    end
    if ctx.timer then timers_module().clearTimeout(ctx.timer) end
    self._attempt = nil
    return connected(self)
  end
  if status ~= 0 then
    local c = self._conn or EMPTY
    local err
    if c.localAddress and c.localPort and c.localPort ~= 0 then
      err = errors.uv(status, "connect", c.address, c.port, c.localAddress,
        c.localPort)
    else
      err = errors.uv(status, "connect", c.address, c.port)
    end
    if c.family then
      emit(self, "connectionAttemptFailed", c.address, c.port, c.family, err)
    end
    return self:destroy(err)
  end
  return connected(self)
end

-- The resolver: options.lookup when given (either answer shape, §5.3),
-- else getaddrinfo.  cb(err, list) with list {{address, family}, ...}.
local function resolve(self, lookup, host, family, hints, all, cb)
  if lookup then
    local opts = { family = family, hints = hints }
    if all then opts.all = true end
    lookup(host, opts, function(err, a, f)
      if err then return cb(err) end
      if type(a) == "table" then return cb(nil, a) end
      return cb(nil, { { address = a, family = f or isIP(a) } })
    end)
    return
  end
  local r = core.getaddrinfo(host, family, hints, function(e, list)
    if e then return cb(errors.dns(e, host)) end
    if #list == 0 then return cb(errors.dns(core.errno.EAI_NONAME, host)) end
    cb(nil, list)
  end)
  if r ~= 0 then
    nextTick(cb, errors.dns(r, host))
  end
end

local function invalid_address(self, a, family, o)
  local err
  if type(a) ~= "string" or isIP(a) == 0 then
    err = errors.ERR_INVALID_IP_ADDRESS(a)
  elseif family ~= 4 and family ~= 6 then
    err = errors.ERR_INVALID_ADDRESS_FAMILY(family, o.host, o.port)
  end
  if err then nextTick(Socket.destroy, self, err) end
  return err
end

local function lookup_multiple(self, o, host, port, lport, timeout, list)
  -- Keep each valid address once, the first one's family first, then
  -- interleave the families.
  local groups, seen, first = { {}, {} }, {}, nil
  for i = 1, #list do
    local a = list[i]
    emit(self, "lookup", nil, a.address, a.family, host)
    if self._f & CONNECTING == 0 then return end
    if type(a.address) == "string" and isIP(a.address) ~= 0
       and (a.family == 4 or a.family == 6) then
      first = first or a.family
      local g = groups[a.family == first and 1 or 2]
      if not seen[a.address] then
        seen[a.address] = true
        g[#g + 1] = a
      end
    end
  end
  if not first then
    invalid_address(self, list[1].address, list[1].family, o)
    return
  end
  local order = {}
  for i = 1, math.max(#groups[1], #groups[2]) do
    order[#order + 1] = groups[1][i]
    order[#order + 1] = groups[2][i]
  end
  if #order == 1 then
    return internal_connect(self, order[1].address, port, order[1].family,
      nil, lport)
  end
  self.autoSelectFamilyAttemptedAddresses = {}
  local ctx = { addresses = order, current = 1, port = port,
    localPort = lport, timeout = timeout, errors = {} }
  self._attempt = ctx
  self._f = self._f | EXTRAS
  attempt_next(self, ctx)
end

local function lookup_and_connect(self, o)
  local host = o.host
  if host == nil or host == "" then host = "localhost" end
  local laddr, lport = o.localAddress, o.localPort
  if laddr ~= nil and (type(laddr) ~= "string" or isIP(laddr) == 0) then
    if laddr ~= "" then
      error(errors.ERR_INVALID_IP_ADDRESS(laddr), 4)
    end
    laddr = nil
  end
  if lport ~= nil and type(lport) ~= "number" then
    error(errors.ERR_INVALID_ARG_TYPE("options.localPort", "number", lport),
      4)
  end
  local port = o.port
  if port ~= nil then
    if type(port) ~= "number" and type(port) ~= "string" then
      error(errors.ERR_INVALID_ARG_TYPE("options.port",
        { "number", "string" }, port), 4)
    end
    port = errors.check_port(port, "Port", true)
  else
    port = 0
  end
  local auto = o.autoSelectFamily
  check_boolean(auto, "options.autoSelectFamily")
  if auto == nil then auto = auto_select_family end
  local timeout = o.autoSelectFamilyAttemptTimeout
  if timeout ~= nil then
    timeout = errors.check_integer(timeout,
      "options.autoSelectFamilyAttemptTimeout", 1)
    if timeout < 10 then timeout = 10 end
  else
    timeout = auto_select_timeout
  end
  local fam = isIP(host)
  if fam ~= 0 then
    nextTick(function()
      if self._f & CONNECTING ~= 0 then
        internal_connect(self, host, port, fam, laddr, lport)
      end
    end)
    return
  end
  local lookup = o.lookup
  if lookup ~= nil then errors.check_function(lookup, "options.lookup") end
  local family = o.family
  if family == "IPv4" then family = 4
  elseif family == "IPv6" then family = 6
  elseif family ~= 4 and family ~= 6 then family = 0 end
  local hints = o.hints or 0
  if family == 0 and hints == 0 then hints = core.AI_ADDRCONFIG or 0 end
  if family == 0 and not laddr and auto then
    resolve(self, lookup, host, family, hints, true, function(err, list)
      if self._f & CONNECTING == 0 then return end
      if err then
        emit(self, "lookup", err, nil, nil, host)
        nextTick(Socket.destroy, self, err)
        return
      end
      lookup_multiple(self, o, host, port, lport, timeout, list)
    end)
    return
  end
  resolve(self, lookup, host, family, hints, false, function(err, list)
    local a = not err and list[1] or EMPTY
    emit(self, "lookup", err, a.address, a.family, host)
    if self._f & CONNECTING == 0 then return end
    if err then
      nextTick(Socket.destroy, self, err)
    elseif not invalid_address(self, a.address, a.family, o) then
      internal_connect(self, a.address, port, a.family, laddr, lport)
    end
  end)
end

-- (port[, host][, cb]) | (path[, cb]) | (options[, cb]) -> options, cb
local function normalize_connect(...)
  local n = select("#", ...)
  local a1, a2 = ...
  local cb = n > 0 and select(n, ...) or nil
  if type(cb) ~= "function" then cb = nil end
  local options
  if type(a1) == "table" then
    options = a1
  elseif is_pipe_name(a1) then
    options = { path = a1 }
  else
    options = { port = a1 }
    if type(a2) == "string" then options.host = a2 end
  end
  return options, cb
end

-- Back to the state of a new socket, for connect() after destroy.
local function undestroy(self)
  self._f = self._f & (FLOWING | PAUSED | NO_READ | NO_WRITE) | EXTRAS
  for _, k in ipairs({ "_handle", "_peer", "_wq", "_pq", "_pqBytes",
    "_onfinish", "_conn", "_attempt" }) do
    self[k] = nil
  end
end

--- socket:connect(port[, host][, cb]) | (path[, cb]) | (options[, cb]).
function Socket:connect(...)
  local o, cb = normalize_connect(...)
  if cb then self:once("connect", cb) end
  if o.port == nil and o.path == nil then
    error(errors.ERR_MISSING_ARGS({ "options", "port", "path" }), 2)
  end
  if self._f & DESTROYED ~= 0 then undestroy(self) end
  local path = o.path
  if path ~= nil and type(path) ~= "string" then
    error(errors.ERR_INVALID_ARG_TYPE("options.path", "string", path), 2)
  end
  if o.noDelay then self._noDelay = true end
  if o.keepAlive then
    self._keepAlive = true
    self._keepAliveDelay = floor((o.keepAliveInitialDelay or 0) / 1000)
  end
  if not self._handle then new_handle(self, path ~= nil) end
  self._f = self._f | CONNECTING
  if path then
    internal_connect(self, path)
  else
    lookup_and_connect(self, o)
  end
  return self
end

---------------------------------------------------------------------------
-- Options, addresses, timeouts

function Socket:setTimeout(ms, cb)
  if type(ms) ~= "number" then
    error(errors.ERR_INVALID_ARG_TYPE("msecs", "number", ms), 2)
  end
  if ms < 0 or ms ~= ms or ms == huge then
    error(errors.ERR_OUT_OF_RANGE("msecs", "a non-negative finite number",
      ms), 2)
  end
  if cb ~= nil then errors.check_function(cb, "callback") end
  self.timeout = ms
  local h = self._handle
  if h then h:set_timeout(timer_ms(ms)) end
  if cb then
    if ms == 0 then self:removeListener("timeout", cb)
    else self:once("timeout", cb) end
  end
  return self
end

function Socket:ontimeout()
  if self._f & DESTROYED ~= 0 then return end
  emit(self, "timeout")
end

function Socket:setNoDelay(enable)
  if enable == nil then enable = true end
  enable = not not enable
  self._noDelay = enable or nil
  local h = self._handle
  if h and self._f & (UNIX | CONNECTING) == 0 then h:nodelay(enable) end
  return self
end

function Socket:setKeepAlive(enable, delay)
  enable = not not enable
  delay = floor((tonumber(delay) or 0) / 1000)
  self._keepAlive = enable or nil
  self._keepAliveDelay = delay
  local h = self._handle
  if h and self._f & (UNIX | CONNECTING) == 0 then
    h:keepalive(enable, delay)
  end
  return self
end

function Socket:address()
  local a = sockname(self)
  if a == EMPTY then return {} end
  return a
end

function Socket:ref()
  self._unref = nil
  local h = self._handle
  if h then h:ref() end
  return self
end

function Socket:unref()
  self._unref = true
  local h = self._handle
  if h then h:unref() end
  return self
end

---------------------------------------------------------------------------
-- pipe / unpipe

-- A pipe's state p is also its 'data' listener on src: a callable table
-- (metatable PipeSocket or PipeAny, each with the per-chunk write as its
-- __call) stored by events.lua as an internal entry, so that no closure
-- and upvalue (96 bytes) is made per pipe.  Its function, what
-- listeners('data') reports as Node reports its ondata, is made only when
-- asked for (pipe_listener).  p is one array of three slots (16 bytes a
-- slot; a hash node is 24; three slots fit a 64-byte chunk, seven took
-- 128): flags (F_*: doEnd; waiting, dest's write said false and src is
-- paused until dest drains; live, false once unpiped; F_FN, the listener
-- was added as a function because src has its own `on`), src and dest.
-- The rare rest lives past them: p[P_AT] (below), and for a dest that is
-- not an lnet Socket only, its 'drain', 'close'/'finish' and 'error'
-- listeners.  PipeSocket writes with Socket.write directly (dest is an
-- lnet Socket without a write of its own: dest:write would run
-- SocketMT's __index function per chunk), PipeAny with dest:write.
--
-- Between two lnet Sockets the pipe adds one listener (the 'data' one,
-- which keeps its place among src's other 'data' listeners): src's 'end',
-- and dest's drain, finish, close and error find the pipe in the sockets'
-- own code, through _pipes.  Six listeners (five closures, four more
-- event names, unpipe removing them again) were half the cost of an
-- echoed connection and ~0.8 KiB of an idle one.
--
-- pipes_emit runs the pipe's part of those events (its hook) where Node's
-- listener would be: after the user's listeners there were when pipe()
-- was called (src's 'end', dest's 'finish' and 'close') or when dest
-- first made the source wait (its 'drain': Node adds that listener
-- then), before all of them for dest's 'error' (Node prepends it), and
-- before listeners added later unless they were prepended.  p[P_AT],
-- made only when there is something to keep, holds per event name the
-- listeners stored at that moment: events.lua never modifies a stored
-- function or sequence, so keeping the reference is the snapshot, and
-- the hook goes after those of its listeners still stored (hook_pos).
-- at.prep[name] lists the entries prepended since (Socket:prependListener
-- notes them).
--
-- sock._pipes holds the pipes sock is the source or the destination of:
-- the single p itself (the echo server's c:pipe(c), src and dest both),
-- or a list of them, {false, p1, p2, ...}.  A p holds its flags (a
-- number) at index 1, a list false: is_single() is one array read.
local P_F <const>, P_SRC <const>, P_DEST <const> = 1, 2, 3
local P_AT <const> = 4
local P_DRAIN <const>, P_CLOSE <const>, P_ERROR <const> = 5, 6, 7
local F_END <const>, F_WAITING <const>, F_LIVE <const> = 1, 2, 4
local F_FN <const> = 8

local internal = EventEmitter._internal
local List, add_entry = internal.List, internal.add_entry
local PipeSocket, PipeAny, pipe_listener  -- p's metatables; p's function

local function is_single(pipes)
  return pipes[1] ~= false
end

-- The pipes of sock: a single p and true, or a fresh sequence (callers
-- may unpipe while they walk it; from 1) and false, or nil.
local function pipes_of(sock)
  local pipes = rawget(sock, "_pipes")
  if pipes == nil then return nil end
  if is_single(pipes) then return pipes, true end
  local copy = {}
  for i = 2, #pipes do copy[i - 1] = pipes[i] end
  return copy, false
end

local function pipes_add(sock, p)
  local pipes = rawget(sock, "_pipes")
  if pipes == nil then
    sock._pipes = p
  elseif is_single(pipes) then
    sock._pipes = { false, pipes, p }
  else
    pipes[#pipes + 1] = p
  end
end

local function pipes_remove(sock, p)
  local pipes = rawget(sock, "_pipes")
  if pipes == p then
    sock._pipes = nil
  elseif pipes ~= nil and not is_single(pipes) then
    for i = #pipes, 2, -1 do
      if pipes[i] == p then table.remove(pipes, i) end
    end
    if pipes[2] == nil then sock._pipes = nil end
  end
end

-- Calls fn(p) for every live pipe whose role side (P_SRC or P_DEST) is
-- sock.
local function each_pipe(sock, role, fn)
  local pipes, single = pipes_of(sock)
  if pipes == nil then return end
  if single then
    if pipes[role] == sock and pipes[P_F] & F_LIVE ~= 0 then fn(pipes) end
    return
  end
  for i = 1, #pipes do
    local p = pipes[i]
    if p[role] == sock and p[P_F] & F_LIVE ~= 0 then fn(p) end
  end
end

-- Whether src still copies into some dest, and whether one of those
-- waits for 'drain'.
local function pipes_out(src)
  local pipes = rawget(src, "_pipes")
  if pipes == nil then return false, false end
  if is_single(pipes) then
    local out = pipes[P_SRC] == src
    return out, out and pipes[P_F] & F_WAITING ~= 0
  end
  local any, waiting = false, false
  for i = 2, #pipes do
    local p = pipes[i]
    if p[P_SRC] == src then
      any = true
      if p[P_F] & F_WAITING ~= 0 then waiting = true end
    end
  end
  return any, waiting
end

-- Stops the copy of p; 'unpipe' is emitted by the caller.
local function detach(src, p)
  local f = p[P_F] & ~(F_LIVE | F_WAITING)
  p[P_F] = f
  local dest = p[P_DEST]
  pipes_remove(src, p)
  if dest ~= src and getmetatable(dest) == SocketMT then
    pipes_remove(dest, p)
  end
  -- p itself, as it was added, unless the listener was added (F_FN) or
  -- is removed (src's own removeListener) as a function.
  local off = rawget(src, "removeListener")
  if off then off(src, "data", p.listener or pipe_listener(p))
  elseif f & F_FN ~= 0 then Socket.removeListener(src, "data", p.listener)
  else Socket.removeListener(src, "data", p) end
  local drain = p[P_DRAIN]  -- a dest that is not an lnet Socket
  if drain then
    off = method(dest, "removeListener")
    if off then
      off(dest, "drain", drain)
      off(dest, "close", p[P_CLOSE])
      off(dest, "finish", p[P_CLOSE])
      off(dest, "error", p[P_ERROR])
    end
  end
end

local function emit_unpipe(src, p)
  local dest = p[P_DEST]
  local emit_d = method(dest, "emit")
  if emit_d then emit_d(dest, "unpipe", src) end
end

-- Whether unpipe(dest) on src stops p.
local function unpipes(src, p, dest)
  return p[P_SRC] == src and p[P_F] & F_LIVE ~= 0
    and (dest == nil or p[P_DEST] == dest)
end

-- As Node: the source is paused once no pipe is left, then 'unpipe' is
-- emitted on each destination removed, in the order of the pipes.
function Socket:unpipe(dest)
  local pipes, single = pipes_of(self)
  if pipes == nil then return self end
  local n = 0
  if single then
    if unpipes(self, pipes, dest) then
      detach(self, pipes)
      n = 1
    end
  else
    -- pipes is a fresh copy: the removed ones are moved to its front.
    for i = 1, #pipes do
      local p = pipes[i]
      if unpipes(self, p, dest) then
        detach(self, p)
        n = n + 1
        pipes[n] = p
      end
    end
  end
  if n == 0 then return self end
  if not pipes_out(self) then
    local pause = rawget(self, "pause") or Socket.pause
    pause(self)
  end
  if single then
    emit_unpipe(self, pipes)
  else
    for i = 1, n do emit_unpipe(self, pipes[i]) end
  end
  return self
end

-- src flows again unless one of its pipes still waits for 'drain'.
local function resume_unless_waiting(src)
  local _, waiting = pipes_out(src)
  if not waiting then
    local resume = rawget(src, "resume") or Socket.resume
    resume(src)
  end
end

-- dest drained: src resumes once none of its pipes waits any more.
local function pipe_ondrain(p)
  local f = p[P_F]
  if f & F_WAITING == 0 then return end
  p[P_F] = f & ~F_WAITING
  resume_unless_waiting(p[P_SRC])
end

-- The first time dest makes the source wait, the pipe's 'drain' hook
-- takes its place after dest's 'drain' listeners of now (Node adds its
-- listener then).  false: there were none.
local function pipe_wait(p)
  p[P_F] = p[P_F] | F_WAITING
  local dest = p[P_DEST]
  if getmetatable(dest) ~= SocketMT then return end
  local at = p[P_AT]
  if at and at.drain ~= nil then return end
  if at == nil then
    at = {}
    p[P_AT] = at
  end
  local ev = rawget(dest, "_events")
  at.drain = ev and ev.drain or false
end

-- dest's write said false: src waits for its 'drain'.
local function pipe_full(p)
  if p[P_F] & F_LIVE ~= 0 then
    pipe_wait(p)
    local src = p[P_SRC]
    local pause = rawget(src, "pause") or Socket.pause
    pause(src)
  end
end

-- Per chunk, p(chunk): written here, not through a helper (one Lua call
-- less).  No __index: events.lua reads p.listener raw, and a read of an
-- unset slot (P_AT) stays a table read.
PipeSocket = { __name = "pipe" }
function PipeSocket.__call(p, chunk)
  if Socket.write(p[P_DEST], chunk) == false then return pipe_full(p) end
end

PipeAny = { __name = "pipe" }
function PipeAny.__call(p, chunk)
  local dest = p[P_DEST]
  if dest:write(chunk) == false then return pipe_full(p) end
end

-- The function p stands for among src's listeners (Node's ondata).
function pipe_listener(p)
  local fn = function(chunk) return p(chunk) end
  p.listener = fn
  return fn
end

internal.entry_type(PipeSocket, pipe_listener)
internal.entry_type(PipeAny, pipe_listener)

-- dest finished, closed or failed (or src ended with {end = false}): src
-- stops copying into it.
local function pipe_ondest_gone(p)
  local src = p[P_SRC]
  local unpipe = rawget(src, "unpipe") or Socket.unpipe
  unpipe(src, p[P_DEST])
end

-- src ended: dest ends too, unless {end = false} (then the pipe just goes).
local function pipe_onend(p)
  if p[P_F] & F_END == 0 then return pipe_ondest_gone(p) end
  local dest = p[P_DEST]
  local done = method(dest, "done")
  if done then done(dest) else dest["end"](dest) end
end

local function pipe_onerror(p, err)
  pipe_ondest_gone(p)
  local dest = p[P_DEST]
  local count = method(dest, "listenerCount")
  if count and count(dest, "error") == 0 then
    error(err, 0)
  end
end

-- The events with a hook: the side of the pipe the socket must be, and
-- what the pipe does.
local HOOK_ROLE = { ["end"] = P_SRC, finish = P_DEST, close = P_DEST,
  error = P_DEST, drain = P_DEST }
local HOOK = { ["end"] = pipe_onend, finish = pipe_ondest_gone,
  close = pipe_ondest_gone, error = pipe_ondest_gone, drain = pipe_ondrain }

-- How many of the n stored listeners l run before p's hook.  l is those
-- prepended since (at.prep[name], newest first in l), then those stored
-- then (s0), then those added since, each part less the ones removed:
-- matched in that order, so that one function added more than once is
-- counted right (identity alone cannot tell its entries apart).
local function hook_pos(p, name, l, n)
  local at = p[P_AT]
  if at == nil then return 0 end
  local s0, prep = at[name], at.prep
  if l == s0 then return n end
  prep = prep and prep[name]
  if not s0 and not prep then return 0 end
  -- fn, s0fn: a single entry, not a sequence (s0 may be false: none).
  local fn = getmetatable(l) ~= List
  local s0fn = s0 and getmetatable(s0) ~= List
  local j, k, m = prep and #prep or 0, 1, 0
  if s0fn then m = 1 elseif s0 then m = #s0 end
  for i = 1, n do
    local e = fn and l or l[i]
    local found = false
    while j > 0 do
      j = j - 1
      if prep[j + 1] == e then
        found = true
        break
      end
    end
    if not found then
      while k <= m do
        k = k + 1
        if (s0fn and s0 or s0[k - 1]) == e then
          found = true
          break
        end
      end
      if not found then return i - 1 end
    end
  end
  return n
end

-- emit(sock, name, ...) for a socket with _pipes, name one of HOOK's.
-- The listeners and the pipes are those of the moment emit starts (as
-- Node copies its listener array): a pipe unpiped by an earlier listener
-- still runs its hook (src's 'end' still ends dest, as in Node), one made
-- by a listener does not.
function pipes_emit(sock, name, ...)
  local role, hook = HOOK_ROLE[name], HOOK[name]
  local pipes = rawget(sock, "_pipes")
  local one, many  -- the pipes with sock at role: the first, then all
  if is_single(pipes) then
    if pipes[role] == sock and pipes[P_F] & F_LIVE ~= 0 then one = pipes end
  else
    for i = 2, #pipes do
      local p = pipes[i]
      if p[role] == sock and p[P_F] & F_LIVE ~= 0 then
        if one == nil then one = p
        elseif many == nil then many = { one, p }
        else many[#many + 1] = p end
      end
    end
  end
  if one == nil then return emit(sock, name, ...) end
  -- Node prepends each pipe's 'error' listener: the newest runs first.
  if many and name == "error" then
    local k = #many
    for i = 1, k // 2 do many[i], many[k + 1 - i] = many[k + 1 - i], many[i] end
  end
  local ev = rawget(sock, "_events")
  local l = ev and ev[name]
  if l == nil then
    if many then
      for i = 1, #many do hook(many[i]) end
    else
      hook(one)
    end
    -- No listener of the user's: raises err (or calls one added since).
    if name == "error" then return emit(sock, name, ...) end
    return true
  end
  local fn = getmetatable(l) ~= List
  local n = fn and 1 or #l
  if many == nil then
    local pos = hook_pos(one, name, l, n)
    if pos == 0 then hook(one) end
    for i = 1, n do
      local f = fn and l or l[i]
      f(...)
      if i == pos then hook(one) end
    end
    return true
  end
  local pos = {}
  for k = 1, #many do pos[k] = hook_pos(many[k], name, l, n) end
  for i = 0, n do
    if i > 0 then
      local f = fn and l or l[i]
      f(...)
    end
    for k = 1, #many do
      if pos[k] == i then hook(many[k]) end
    end
  end
  return true
end

-- A listener prepended to a hooked event after pipe() runs before the
-- pipe's hook, as before Node's listener: the pipes note its entry.
local function note_prepended(self, name)
  local role = HOOK_ROLE[name]
  if role == nil or rawget(self, "_pipes") == nil then return end
  local ev = rawget(self, "_events")
  local l = ev and ev[name]
  if l == nil then return end
  local e = l
  if getmetatable(l) == List then e = l[1] end
  each_pipe(self, role, function(p)
    local at = p[P_AT]
    if at == nil then
      at = {}
      p[P_AT] = at
    end
    local prep = at.prep
    if prep == nil then
      prep = {}
      at.prep = prep
    end
    local list = prep[name]
    if list == nil then
      list = {}
      prep[name] = list
    end
    list[#list + 1] = e
  end)
end

function Socket:prependListener(name, fn)
  EventEmitter.prependListener(self, name, fn)
  note_prepended(self, name)
  return self
end

function Socket:prependOnceListener(name, fn)
  EventEmitter.prependOnceListener(self, name, fn)
  note_prepended(self, name)
  return self
end

--- socket:pipe(dest[, {["end"] = bool}]) -> dest, with backpressure.
function Socket:pipe(dest, opts)
  -- An lnet Socket without a write of its own is written with Socket.write
  -- directly: dest:write would find the method through SocketMT's __index
  -- function, one more Lua call per chunk.
  local native = getmetatable(dest) == SocketMT
  local mt = PipeAny
  if native and rawget(dest, "write") == nil then mt = PipeSocket end
  local f = F_LIVE
  if not (opts and opts["end"] == false) then f = F_LIVE | F_END end
  local p = setmetatable({ f, self, dest }, mt)
  -- The hooks' places (see pipes_emit): after the listeners of now.
  local ev, at = rawget(self, "_events"), nil
  local l = ev and ev["end"]
  if l then at = { ["end"] = l } end
  if native then
    if dest ~= self then ev = rawget(dest, "_events") end
    if ev and (ev.finish or ev.close) then
      at = at or {}
      at.finish, at.close = ev.finish, ev.close
    end
  end
  if at then p[P_AT] = at end
  pipes_add(self, p)
  -- Ended already: no 'end' will come (Node ends dest on the next tick).
  if self._f & END_EMITTED ~= 0 then nextTick(pipe_onend, p) end
  -- src's own `on` (as Node's src.on) is given a function; else p itself
  -- is the entry, added as Socket.on adds a listener.
  local on_ = rawget(self, "on")
  if on_ then
    p[P_F] = p[P_F] | F_FN
    on_(self, "data", pipe_listener(p))
  else
    add_entry(self, "data", p)
    on_data_listener(self, "data")
  end
  if native then
    if dest ~= self then pipes_add(dest, p) end
    emit(dest, "pipe", self)
  else
    local on = method(dest, "on")
    if on then
      p[P_DRAIN] = function() return pipe_ondrain(p) end
      p[P_CLOSE] = function() return pipe_ondest_gone(p) end
      p[P_ERROR] = function(err) return pipe_onerror(p, err) end
      on(dest, "drain", p[P_DRAIN])
      -- on, not once: unpipe removes them, and once would wrap each in a table.
      on(dest, "close", p[P_CLOSE])
      on(dest, "finish", p[P_CLOSE])
      -- First, as Node's: it unpipes before the user's listeners run.
      local prepend = method(dest, "prependListener") or on
      prepend(dest, "error", p[P_ERROR])
      local emit_d = method(dest, "emit")
      if emit_d then emit_d(dest, "pipe", self) end
    end
  end
  if native and dest._f & NEED_DRAIN ~= 0 then
    -- dest is full already: wait for its 'drain' (as Node).
    pipe_wait(p)
    local pause = rawget(self, "pause") or Socket.pause
    pause(self)
  elseif self._f & PAUSED ~= 0 then
    resume_unless_waiting(self)
  end
  return dest
end


---------------------------------------------------------------------------
-- Server
---------------------------------------------------------------------------

local Server = EventEmitter.extend({})

Server.allowHalfOpen = false
Server.pauseOnConnect = false
Server.noDelay = false
Server.keepAlive = false
Server.keepAliveInitialDelay = 0
Server.highWaterMark = DEFAULT_HWM
Server._connections = 0

-- What an accepted socket takes from its server, read per connection.
-- A server gets _accept = true when one of them is first set (options,
-- a later assignment by the user, a Unix path): without it, a connection
-- is accepted with the defaults after one rawget instead of seven.
local ACCEPT_FIELDS = { maxConnections = true, allowHalfOpen = true,
  pauseOnConnect = true, highWaterMark = true, noDelay = true,
  keepAlive = true, keepAliveInitialDelay = true, _pipeName = true }

local ServerMT = {
  __name = "Server",
  __index = function(s, k)
    local v = Server[k]
    if v ~= nil then return v end
    if k == "listening" then return s._handle ~= nil end
    return nil
  end,
  -- Only for fields not yet in the server: once set, a field stays (nil
  -- assignments aside), and _accept with it.
  __newindex = function(s, k, v)
    if ACCEPT_FIELDS[k] then rawset(s, "_accept", true) end
    rawset(s, k, v)
  end,
}

--- net.Server.new([options][, connectionListener])
function Server.new(options, listener)
  if type(options) == "function" then options, listener = nil, options end
  local self = setmetatable({}, ServerMT)
  if options ~= nil then
    if type(options) ~= "table" then
      error(errors.ERR_INVALID_ARG_TYPE("options", "Object", options), 2)
    end
    for _, k in ipairs({ "allowHalfOpen", "pauseOnConnect", "noDelay",
      "keepAlive" }) do
      local v = options[k]
      check_boolean(v, "options." .. k)
      if v then self[k] = true end
    end
    local d = options.keepAliveInitialDelay
    if d ~= nil then
      self.keepAliveInitialDelay =
        errors.check_integer(d, "options.keepAliveInitialDelay", 0)
    end
    local hwm = options.highWaterMark
    if hwm ~= nil then
      self.highWaterMark =
        errors.check_integer(hwm, "options.highWaterMark", 0)
    end
  end
  if listener ~= nil then
    errors.check_function(listener, "connectionListener")
    self:on("connection", listener)
  end
  return self
end


local function emit_listening(self)
  if self._handle then emit(self, "listening") end
end

local function emit_server_close(self)
  emit(self, "close")
end

-- srv has no connection left (its callers check): 'close' if it is closed.
function close_if_drained(srv)
  if rawget(srv, "_handle") == nil then nextTick(emit_server_close, srv) end
end

-- Takes a handle that is bound (or open) and listens on it; errors are
-- 'error' events on a later turn, as every listen failure.
local function start_listening(self, h, backlog, address, port)
  local r = h:listen(backlog or 511)
  if r ~= 0 then
    h:set_owner(nil)
    h:close()
    nextTick(emit_error, self, errors.uv(r, "listen", address, port))
    return false
  end
  self._handle = h
  if self._unref then h:unref() end
  nextTick(emit_listening, self)
  return true
end

local function bind_tcp(self, address, port, ipv6only, reuseport)
  local h, err = core.tcp_new(self)
  if not h then return nil, err end
  local r = h:bind(address, port, ipv6only, reuseport)
  if r ~= 0 then
    h:set_owner(nil)
    h:close()
    return nil, r
  end
  return h
end

-- Binds address:port (no address: "::" dual-stack, else "0.0.0.0") and
-- listens.
local function listen_tcp(self, address, port, backlog, ipv6only, reuseport)
  local h, err
  if address == nil then
    address = "::"
    h, err = bind_tcp(self, address, port, ipv6only, reuseport)
    if not h then
      address = "0.0.0.0"
      h, err = bind_tcp(self, address, port, ipv6only, reuseport)
    end
  else
    h, err = bind_tcp(self, address, port, ipv6only, reuseport)
  end
  if not h then
    nextTick(emit_error, self, errors.uv(err, "listen", address, port))
    return
  end
  start_listening(self, h, backlog, address, port)
end

local function listen_pipe(self, path, backlog, o)
  self._pipeName = path
  local h = core.pipe_new(self)
  local r = h:bind(path)
  if r ~= 0 then
    h:set_owner(nil)
    h:close()
    nextTick(emit_error, self, errors.uv(r, "listen", path, -1))
    return
  end
  if not start_listening(self, h, backlog, path, -1) then return end
  local mode = o.readableAll and (o.writableAll and "rw" or "r")
    or (o.writableAll and "w")
  if mode then
    r = h:chmod(mode)
    if r ~= 0 then
      self._handle = nil
      h:set_owner(nil)
      h:close()
      error(errors.uv(r, "uv_pipe_chmod"), 3)
    end
  end
end

local function listen_fd(self, fd, backlog)
  local kind = core.guess_handle(fd)
  local h
  if kind == "tcp" then
    h = core.tcp_new(self)
  elseif kind == "pipe" then
    h = core.pipe_new(self)
  end
  local r = h and h:open(fd) or EINVAL
  if r ~= 0 then
    if h then
      h:set_owner(nil)
      h:close()
    end
    nextTick(emit_error, self, errors.uv(r, "listen"))
    return
  end
  if kind == "pipe" then
    self._pipeName = h:getsockname()
  end
  start_listening(self, h, backlog)
end

local function listen_handle(self, hobj, backlog)
  local h = hobj
  if type(hobj) == "table" then h = hobj._handle end
  if type(h) ~= "userdata" then
    error(errors.ERR_INVALID_ARG_VALUE("options", hobj,
      "is not a listening handle"), 3)
  end
  if h.nodelay == nil then self._pipeName = h:getsockname() end
  h:set_owner(self)
  start_listening(self, h, backlog)
end

--- server:listen([port[, host[, backlog]]][, cb]) | (path[, backlog][, cb])
--- | (options[, cb]) | (handle[, backlog][, cb])  (§5.2)
function Server:listen(...)
  local n = select("#", ...)
  local a1, a2, a3 = ...
  local cb = n > 0 and select(n, ...) or nil
  if type(cb) ~= "function" then cb = nil end
  if self._handle then
    error(errors.ERR_SERVER_ALREADY_LISTEN(), 2)
  end
  if cb then self:once("listening", cb) end
  local backlog_arg = (n > 1 and to_backlog(a2) ~= 0 and to_backlog(a2))
    or (n > 2 and to_backlog(a3) ~= 0 and to_backlog(a3)) or nil
  local o
  if type(a1) == "userdata" then
    listen_handle(self, a1, backlog_arg)
    return self
  elseif type(a1) == "table" then
    o = a1
    local mt = getmetatable(a1)
    if mt == ServerMT or mt == SocketMT then
      listen_handle(self, a1, backlog_arg)
      return self
    elseif o.handle ~= nil then
      listen_handle(self, o.handle, backlog_arg)
      return self
    elseif type(o.fd) == "number" and o.fd >= 0 then
      listen_fd(self, o.fd, backlog_arg)
      return self
    end
    if o.port == nil and o.path == nil then
      error(errors.ERR_INVALID_ARG_VALUE("options", o,
        'must have the property "port" or "path"'), 2)
    end
  elseif is_pipe_name(a1) then
    o = { path = a1 }
  else
    o = { port = a1 }
    if o.port == nil or type(o.port) == "function" then o.port = 0 end
    if type(a2) == "string" then o.host = a2 end
  end
  local port = o.port
  if port ~= nil then
    port = errors.check_port(port, "options.port", true)
    local backlog = o.backlog or backlog_arg
    local host = o.host
    if host ~= nil and host ~= "" then
      if isIP(host) ~= 0 then
        listen_tcp(self, host, port, backlog, o.ipv6Only, o.reusePort)
      else
        local r = core.getaddrinfo(host, 0, 0, function(e, list)
          if e or #list == 0 then
            emit(self, "error",
              errors.dns(e or core.errno.EAI_NONAME, host))
          else
            listen_tcp(self, list[1].address, port, backlog, o.ipv6Only,
              o.reusePort)
          end
        end)
        if r ~= 0 then nextTick(emit_error, self, errors.dns(r, host)) end
      end
    else
      listen_tcp(self, nil, port, backlog, o.ipv6Only, o.reusePort)
    end
    return self
  end
  local path = o.path
  if not is_pipe_name(path) then
    error(errors.ERR_INVALID_ARG_VALUE("options", o), 2)
  end
  listen_pipe(self, path, o.backlog or backlog_arg, o)
  return self
end

-- Over maxConnections: the connection is closed and 'drop' emitted.
local function drop(self, client)
  local info
  if not rawget(self, "_pipeName") then
    local la, lp, lf = client:getsockname()
    local ra, rp, rf = client:getpeername()
    info = { localAddress = la, localPort = lp, localFamily = lf,
      remoteAddress = ra, remotePort = rp, remoteFamily = rf }
  end
  client:close()
  emit(self, "drop", info)
end

-- What an accepted socket s takes from its server's options.  Fields read
-- with rawget, class defaults by hand: a plain read of an unset field
-- would run ServerMT's __index function.
local function take_options(self, s, client)
  local pipe = rawget(self, "_pipeName")
  if pipe then s._f = UNIX end
  local v = rawget(self, "allowHalfOpen")
  if v == nil then v = Server.allowHalfOpen end
  if v then s.allowHalfOpen = true end
  v = rawget(self, "pauseOnConnect")
  if v == nil then v = Server.pauseOnConnect end
  if v then s._f = s._f | PAUSED end
  local hwm = rawget(self, "highWaterMark")
  if hwm == nil then hwm = Server.highWaterMark end
  if hwm ~= DEFAULT_HWM then
    s.writableHighWaterMark = hwm
    s.readableHighWaterMark = hwm
  end
  if not pipe then
    v = rawget(self, "noDelay")
    if v == nil then v = Server.noDelay end
    if v then
      s._noDelay = true
      client:nodelay(true)
    end
    v = rawget(self, "keepAlive")
    if v == nil then v = Server.keepAlive end
    if v then
      local d = floor(self.keepAliveInitialDelay / 1000)
      s._keepAlive, s._keepAliveDelay = true, d
      client:keepalive(true, d)
    end
  end
end

-- A new connection, accepted in C.  A server none of whose ACCEPT_FIELDS
-- was ever set (_accept) has nothing to check or apply.
function Server:onconnection(client)
  if not client then return end  -- accept failed (EMFILE...): keep serving
  local options = rawget(self, "_accept")
  if options then
    local max = rawget(self, "maxConnections")
    if max and self._connections >= max then return drop(self, client) end
  end
  -- Sized for its three fields (_events comes with the first listener).
  local s = setmetatable({ _handle = client, _events = nil, _f = 0 },
    SocketMT)
  client:set_owner(s)
  if options then take_options(self, s, client) end
  self._connections = self._connections + 1
  emit(self, "connection", s)
  -- Not asked for data by the listener: read anyway, held (flush_held).
  if s._f & (FLOWING | PAUSED | DESTROYED) == 0 then read_start(s) end
end

--- server:close([cb]): stop accepting; 'close' once every connection ended.
function Server:close(cb)
  if cb ~= nil then
    errors.check_function(cb, "cb")
    if self._handle then
      self:once("close", cb)
    else
      self:once("close", function()
        cb(errors.ERR_SERVER_NOT_RUNNING())
      end)
    end
  end
  local h = self._handle
  if h then
    self._handle = nil
    h:close()
  end
  if self._connections == 0 then close_if_drained(self) end
  return self
end

function Server:address()
  local h = self._handle
  if h and not self._pipeName then
    local a, port, fam = h:getsockname()
    if not a then error(errors.uv(port, "address"), 2) end
    return { address = a, port = port, family = fam }
  end
  return self._pipeName
end

function Server:getConnections(cb)
  errors.check_function(cb, "cb")
  nextTick(cb, nil, self._connections)
  return self
end

function Server:ref()
  self._unref = nil
  local h = self._handle
  if h then h:ref() end
  return self
end

function Server:unref()
  self._unref = true
  local h = self._handle
  if h then h:unref() end
  return self
end


-- The C core looks a callback up on the owner, then on the owner's
-- metatable, then by indexing (lnet__push_method): copies on the
-- metatables are found by a raw lookup, without running SocketMT's
-- __index function on every read, write completion and connection.  The
-- owner's own field still comes first (setEncoding's onread).  Being
-- copies, they do not follow a later reassignment of Socket.onread etc.
for _, name in ipairs({ "onread", "onwrite", "onshutdown", "onconnect",
  "onclose", "ontimeout" }) do
  SocketMT[name] = Socket[name]
end
ServerMT.onconnection = Server.onconnection


---------------------------------------------------------------------------
-- Module functions
---------------------------------------------------------------------------

net.Socket = Socket
net.Stream = Socket
net.Server = Server
net.Error = errors.Error
net.isIP = ip.isIP
net.isIPv4 = ip.isIPv4
net.isIPv6 = ip.isIPv6

--- net.createServer([options][, connectionListener]) -> Server
function net.createServer(options, listener)
  return Server.new(options, listener)
end

--- net.connect(...) = net.createConnection(...) -> Socket, connecting.
function net.connect(...)
  local o, cb = normalize_connect(...)
  local s = Socket.new(o)
  if o.timeout then s:setTimeout(o.timeout) end
  return s:connect(o, cb)
end
net.createConnection = net.connect

function net.getDefaultAutoSelectFamily()
  return auto_select_family
end

function net.setDefaultAutoSelectFamily(v)
  if type(v) ~= "boolean" then
    error(errors.ERR_INVALID_ARG_TYPE("value", "boolean", v), 2)
  end
  auto_select_family = v
end

function net.getDefaultAutoSelectFamilyAttemptTimeout()
  return auto_select_timeout
end

function net.setDefaultAutoSelectFamilyAttemptTimeout(v)
  v = errors.check_integer(v, "value", 1)
  auto_select_timeout = v < 10 and 10 or v
end

return net
