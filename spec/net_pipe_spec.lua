-- socket:pipe(dest[, {["end"] = bool}]) and socket:unpipe([dest]) (contract
-- §5.3) between lnet sockets, and into destinations that are not sockets:
-- every byte copied in order (an echo server; 16 MiB through a reader that
-- waits); backpressure (the source paused while a destination is full and
-- resumed on 'drain', with one or two destinations); dest:done() on 'end',
-- or not with {["end"] = false}; the 'pipe' and 'unpipe' events; unpipe()
-- stopping the copy; a destination destroyed or failing mid-stream; 'data'
-- listeners beside a pipe; setEncoding; where the pipe's part of 'end',
-- 'finish', 'close', 'drain' and 'error' runs among the user's listeners
-- (as Node's pipe() listeners would).  Only what a user can see is
-- checked, never the listeners pipe() itself keeps on either socket, so
-- that pipe() may copy by other means.  Expected values come from running
-- the same steps under node 20.
-- The one exception, since lnet keeps that listener too: the 'data'
-- listener on the source, which listeners(), the 'newListener' and
-- 'removeListener' events and removeListener() see as a function, as
-- Node's ondata.
local h = require("spec.helper")
local net = require("net")
local events = require("events")
local timers = require("timers")

local function later(ms, fn)
  return timers.setTimeout(fn, ms)
end

-- Calls fn once cond() holds, checking every few milliseconds (a spec whose
-- condition never comes fails on run()'s timeout).
local function when(cond, fn)
  local t
  t = timers.setInterval(function()
    if cond() then
      timers.clearInterval(t)
      fn()
    end
  end, 2)
end

-- Calls fn(client, peer) with a connected pair: a client socket and the
-- server's side of its connection.  The server stops listening as soon as
-- it has accepted, so only the two sockets are left to close.
local function pair(fn)
  local srv, client
  srv = net.createServer(function(peer)
    srv:close()
    fn(client, peer)
  end)
  srv:listen(0, "127.0.0.1", function()
    client = net.connect(srv:address().port, "127.0.0.1")
  end)
end

-- Two pairs: src, the socket piped, written to by feed; dst, the socket
-- piped to, whose peer sink reads what the pipe wrote.
local function two_pairs(fn)
  pair(function(src, feed)
    pair(function(dst, sink) fn(src, feed, dst, sink) end)
  end)
end

-- Reads s from now on; returns a function giving all read so far.
local function collect(s)
  local parts = {}
  s:on("data", function(d) parts[#parts + 1] = d end)
  return function() return table.concat(parts) end
end

-- Calls fn once s is connected: its writes then go to the kernel until
-- it is full, not to a queue that the connection flushes at once.
local function connected(s, fn)
  if s.connecting then s:once("connect", fn) else fn() end
end

local function destroy(...)
  for i = 1, select("#", ...) do select(i, ...):destroy() end
end

-- n numbered blocks of 64 KiB: bytes out of order or lost show.
local BLOCK = 64 * 1024
local FILLER = ("0123456789abcdef"):rep(BLOCK // 16):sub(9)
local function data_of(n)
  local t = {}
  for i = 1, n do t[i] = ("%08d"):format(i) .. FILLER end
  return table.concat(t)
end

-- More than the kernel holds for a reader that does not read (node's
-- source read ~4 MB before it was paused on this machine): a source piped
-- to such a reader must be paused before its end.
local BIG = 256  -- blocks: 16 MiB

-- An EventEmitter destination that keeps what is written to it; write()
-- returns false while .full is true; .ends counts done() calls.
local function recorder()
  local r = events.EventEmitter.new()
  r.got, r.full, r.ends = {}, false, 0
  function r.write(self, chunk)
    self.got[#self.got + 1] = chunk
    return not self.full
  end
  function r.done(self)
    self.ends = self.ends + 1
  end
  return r
end

describe("socket:pipe", function()
  after_each(h.cleanup)

  it("echoes with c:pipe(c): the bytes, then 'end' and 'close'; byte counts",
  function()
    -- The client writes 1 MiB in three writes and ends; the server side
    -- ends in turn.
    local chunks = { "a", "bc", data_of(16):sub(4) }
    local total = 1024 * 1024
    local srv
    srv = net.createServer(function(c)
      srv:close()
      assert.equal(c, c:pipe(c))
      c:on("close", h.must_call(function()
        assert.equal(total, c.bytesRead)
        assert.equal(total, c.bytesWritten)
      end))
    end)
    srv:listen(0, "127.0.0.1", function()
      local cl = net.connect(srv:address().port, "127.0.0.1")
      local got = collect(cl)
      local ended = false
      cl:on("end", h.must_call(function()
        ended = true
        assert.is_true(table.concat(chunks) == got(), "echoed bytes differ")
      end))
      cl:on("close", h.must_call(function(had_error)
        assert.is_true(ended)
        assert.is_false(had_error)
      end))
      for _, chunk in ipairs(chunks) do cl:write(chunk) end
      cl:done()
    end)
    h.run(10000)
  end)

  it("pauses the source while the destination is full, resumes on 'drain'",
  function()
    -- The sink reads nothing until the source was seen paused; that it then
    -- gets every byte, more than the source had read when paused, shows
    -- the source was resumed.
    local data = data_of(BIG)
    two_pairs(function(src, feed, dst, sink)
      feed:resume()  -- to see src's FIN
      dst:resume()   -- to see sink's FIN
      local got, read_at_pause
      local poll
      poll = timers.setInterval(function()
        if src:isPaused() then
          timers.clearInterval(poll)
          read_at_pause = src.bytesRead
          got = collect(sink)
        end
      end, 1)
      src:on("end", h.must_call(function()
        assert.is_not_nil(read_at_pause, "the source was never paused")
      end))
      sink:on("end", h.must_call(function()
        assert.is_true(read_at_pause < #data)
        assert.equal(#data, #got())
        assert.is_true(data == got(), "bytes differ")
      end))
      assert.equal(dst, src:pipe(dst))
      feed:done(data)
    end)
    h.run(20000)
  end)

  it("calls dest:done() on 'end': the destination's peer sees 'end'",
  function()
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      local got = collect(sink)
      dst:on("finish", h.must_call())
      sink:on("end", h.must_call(function()
        assert.equal("hello", got())
      end))
      src:pipe(dst)
      feed:done("hello")
    end)
    h.run()
  end)

  it("with {['end'] = false} leaves the destination writable after 'end'",
  function()
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      local got = collect(sink)
      local finished = false
      dst:on("finish", function() finished = true end)
      src:on("end", h.must_call(function()
        later(20, function()
          assert.is_false(finished)
          assert.is_false(dst.destroyed)
          assert.is_true(dst:write(" more"))
          dst:done(" and done")
        end)
      end))
      sink:on("end", h.must_call(function()
        assert.equal("hello more and done", got())
      end))
      src:pipe(dst, { ["end"] = false })
      feed:done("hello")
    end)
    h.run()
  end)

  it("emits 'pipe' on the destination with the source, within pipe()",
  function()
    two_pairs(function(src, feed, dst, sink)
      local seen
      dst:on("pipe", h.must_call(function(s) seen = s end))
      assert.equal(dst, src:pipe(dst))
      assert.equal(src, seen)
      destroy(src, feed, dst, sink)
    end)
    h.run()
  end)

  it("unpipe(dest) returns the source and emits 'unpipe' once, at once",
  function()
    two_pairs(function(src, feed, dst, sink)
      local seen
      dst:on("unpipe", h.must_call(function(s) seen = s end))
      src:pipe(dst)
      assert.equal(src, src:unpipe(dst))
      assert.equal(src, seen)
      -- Nothing is left to remove: no second event.
      assert.equal(src, src:unpipe(dst))
      assert.equal(src, src:unpipe())
      destroy(src, feed, dst, sink)
    end)
    h.run()
  end)

  it("emits 'unpipe' once when the destination finishes", function()
    -- The source ends, dest:done() follows, then 'finish' and 'unpipe'.
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      sink:resume()
      local unpiped = false
      dst:on("unpipe", h.must_call(function(s)
        assert.equal(src, s)
        unpiped = true
      end))
      src:pipe(dst)
      dst:on("close", h.must_call(function()
        assert.is_true(unpiped)
      end))
      feed:done("x")
    end)
    h.run()
  end)

  it("emits 'unpipe' once when the destination closes", function()
    two_pairs(function(src, feed, dst, sink)
      sink:resume()
      local unpiped = false
      dst:on("unpipe", h.must_call(function(s)
        assert.equal(src, s)
        unpiped = true
      end))
      src:pipe(dst)
      dst:on("close", h.must_call(function()
        later(10, function()
          assert.is_true(unpiped)
          assert.is_true(src:isPaused())
          destroy(src, feed)
        end)
      end))
      dst:destroy()
    end)
    h.run()
  end)

  it("with {['end'] = false} 'end' on the source unpipes it", function()
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      sink:resume()
      local unpiped = false
      dst:on("unpipe", h.must_call(function(s)
        assert.equal(src, s)
        unpiped = true
      end))
      src:pipe(dst, { ["end"] = false })
      src:on("end", h.must_call(function()
        later(20, function()
          assert.is_true(unpiped)
          dst:done()
        end)
      end))
      feed:done("x")
    end)
    h.run()
  end)

  it("one of two destinations closing leaves the other piped", function()
    pair(function(src, feed)
      feed:resume()
      pair(function(d1, s1)
        pair(function(d2, s2)
          d2:resume()
          s1:resume()
          local got = collect(s2)
          src:pipe(d1)
          src:pipe(d2)
          feed:write("one")
          when(function() return got() == "one" end, function()
            d1:destroy()
          end)
          d1:on("close", h.must_call(function()
            assert.is_false(src:isPaused())
            feed:done("two")
          end))
          s2:on("end", h.must_call(function()
            assert.equal("onetwo", got())
          end))
        end)
      end)
    end)
    h.run()
  end)

  it("a destination's 'drain' after unpipe() does not resume the source",
  function()
    -- dst is full (its sink does not read) when unpiped; the sink then
    -- reads, dst drains, and the source stays paused.
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      connected(dst, function()
        local filler, n = ("y"):rep(BLOCK), 0
        repeat n = n + 1 until not dst:write(filler) or n > 1000
        src:pipe(dst)
        feed:write("more")
        later(20, function()
          src:unpipe(dst)
          assert.is_true(src:isPaused())
          dst:on("drain", h.must_call(function()
            later(20, function()
              assert.is_true(src:isPaused())
              destroy(src, feed, dst, sink)
            end)
          end))
          sink:resume()
        end)
      end)
    end)
    h.run(10000)
  end)

  it("proxies both ways: c:pipe(up) and up:pipe(c)", function()
    -- Each socket the source of one pipe and the destination of the other;
    -- up's peer echoes.  1 MiB through and back, then the ends in turn.
    -- allowHalfOpen: else c ends its side at the client's FIN, before the
    -- echo is back (node then loses the rest too).
    local data = data_of(16)
    local echo, proxy
    echo = net.createServer(function(c)
      echo:close()
      c:pipe(c)
    end)
    echo:listen(0, "127.0.0.1", function()
      proxy = net.createServer({ allowHalfOpen = true }, function(c)
        proxy:close()
        local up = net.connect(echo:address().port, "127.0.0.1")
        c:pipe(up)
        up:pipe(c)
      end)
      proxy:listen(0, "127.0.0.1", function()
        local cl = net.connect(proxy:address().port, "127.0.0.1")
        local got = collect(cl)
        cl:on("end", h.must_call(function()
          assert.equal(#data, #got())
          assert.is_true(data == got(), "bytes differ")
        end))
        cl:on("close", h.must_call())
        cl:done(data)
      end)
    end)
    h.run(10000)
  end)

  it("unpipe(dest) stops the copy and pauses the source", function()
    -- Data after unpipe() reaches a 'data' listener of the source, not the
    -- destination, which is not ended by the source's 'end' either.
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      local got = collect(sink)
      local rest = {}
      sink:once("data", function()
        src:unpipe(dst)
        assert.is_true(src:isPaused())
        src:on("data", function(d) rest[#rest + 1] = d end)
        src:resume()
        feed:done("two")
      end)
      src:on("end", h.must_call(function()
        later(20, function()
          assert.equal("two", table.concat(rest))
          assert.equal("one", got())
          assert.is_false(dst.destroyed)
          dst:done()
        end)
      end))
      sink:on("end", h.must_call(function()
        assert.equal("one", got())
      end))
      src:pipe(dst)
      feed:write("one")
    end)
    h.run()
  end)

  it("unpipe() removes every destination; the last one removed pauses",
  function()
    -- A socket and two other destinations.  unpipe(b) leaves the source
    -- flowing to the others; unpipe() of something never piped does
    -- nothing; unpipe() removes the rest and pauses the source.
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      local got = collect(sink)
      local b, c, other = recorder(), recorder(), recorder()
      local unpipes = {}
      local function note(name)
        return function(s)
          assert.equal(src, s)
          unpipes[#unpipes + 1] = name
        end
      end
      dst:on("unpipe", note("dst"))
      b:on("unpipe", note("b"))
      c:on("unpipe", note("c"))
      other:on("unpipe", note("other"))
      src:pipe(dst)
      src:pipe(b)
      src:pipe(c)
      feed:write("one")
      when(function() return got() == "one" and #c.got == 1 end, function()
        src:unpipe(b)
        assert.same({ "b" }, unpipes)
        assert.is_false(src:isPaused())
        src:unpipe(other)
        assert.same({ "b" }, unpipes)
        assert.is_false(src:isPaused())
        feed:write("two")
        when(function() return got() == "onetwo" and #c.got == 2 end,
        function()
          src:unpipe()
          table.sort(unpipes)
          assert.same({ "b", "c", "dst" }, unpipes)
          assert.is_true(src:isPaused())
          local rest = collect(src)
          src:resume()
          feed:done("three")
          src:on("end", h.must_call(function()
            assert.equal("three", rest())
            assert.equal("onetwo", got())
            assert.same({ "one" }, b.got)
            assert.same({ "one", "two" }, c.got)
            assert.equal(0, b.ends + c.ends + other.ends)
            dst:done()
          end))
        end)
      end)
    end)
    h.run()
  end)

  it("a destination destroyed mid-stream is unpiped; the source carries on",
  function()
    -- Destroyed by a 'data' listener added before pipe(), so the pipe then
    -- writes that chunk to a destroyed socket: no error anywhere.
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      sink:resume()
      src:on("error", h.must_not_call("'error' on the source"))
      dst:on("error", h.must_not_call("'error' on the destination"))
      src:once("data", function() dst:destroy() end)
      dst:on("unpipe", h.must_call(function(s) assert.equal(src, s) end))
      src:pipe(dst)
      dst:on("close", h.must_call(function()
        later(10, function()
          assert.is_false(src.destroyed)
          assert.is_true(src:isPaused())
          local got = collect(src)
          src:on("end", h.must_call(function()
            assert.equal("later", got())
          end))
          src:resume()
          feed:done("later")
        end)
      end))
      feed:write("x")
    end)
    h.run()
  end)

  it("a destination's 'error' with no listener of its own is raised",
  function()
    -- The source is unpiped first, then the error leaves the loop.
    local boom = setmetatable({ message = "boom" },
      { __tostring = function() return "Error: boom" end })
    local src, feed, sink
    local unpiped = false
    two_pairs(function(a, b, dst, d)
      src, feed, sink = a, b, d
      sink:resume()
      dst:on("unpipe", function(s) unpiped = s == src end)
      src:pipe(dst)
      dst:destroy(boom)
    end)
    local ok, err = pcall(h.run)
    assert.is_false(ok)
    assert.equal(boom, err.value)
    assert.is_true(unpiped)
    assert.is_false(src.destroyed)
    assert.is_true(src:isPaused())
    destroy(src, feed, sink)
    h.run()
  end)

  it("a destination's 'error' goes to its listener, the source unpiped",
  function()
    -- A listener added after pipe(): the source is unpiped when it runs,
    -- and nothing is raised.
    local boom = { message = "boom" }
    two_pairs(function(src, feed, dst, sink)
      sink:resume()
      local unpiped = false
      dst:on("unpipe", function(s) unpiped = s == src end)
      src:pipe(dst)
      dst:on("error", h.must_call(function(e)
        assert.equal(boom, e)
        assert.is_true(unpiped)
      end))
      dst:on("close", h.must_call(function(had_error)
        assert.is_true(had_error)
        assert.is_false(src.destroyed)
        assert.is_true(src:isPaused())
        destroy(src, feed)
      end))
      dst:destroy(boom)
    end)
    h.run()
  end)

  for _, slow in ipairs({ 1, 2 }) do
    it(("copies to two sockets; the full one (#%d) pauses the source")
      :format(slow), function()
      -- The other sink reads all along; this one only once the source was
      -- seen paused.  Both get every byte.
      local data = data_of(BIG)
      pair(function(src, feed)
        feed:resume()
        pair(function(d1, s1)
          pair(function(d2, s2)
            d1:resume()
            d2:resume()
            local sinks, got = { s1, s2 }, {}
            got[3 - slow] = collect(sinks[3 - slow])
            local read_at_pause
            local poll
            poll = timers.setInterval(function()
              if src:isPaused() then
                timers.clearInterval(poll)
                read_at_pause = src.bytesRead
                got[slow] = collect(sinks[slow])
              end
            end, 1)
            src:on("end", h.must_call(function()
              assert.is_not_nil(read_at_pause, "the source was never paused")
              assert.is_true(read_at_pause < #data)
            end))
            for i = 1, 2 do
              sinks[i]:on("end", h.must_call(function()
                assert.equal(#data, #got[i]())
                assert.is_true(data == got[i](), "bytes differ")
              end))
            end
            src:pipe(d1)
            src:pipe(d2)
            feed:done(data)
          end)
        end)
      end)
      h.run(30000)
    end)
  end

  it("with two destinations, resumes the source only once both drained",
  function()
    pair(function(src, feed)
      feed:resume()
      local a, b = recorder(), recorder()
      a.full, b.full = true, true
      src:pipe(a)
      src:pipe(b)
      feed:write("1")
      when(function() return #b.got == 1 end, function()
        assert.is_true(src:isPaused())
        a.full, b.full = false, false
        a:emit("drain")
        assert.is_true(src:isPaused())  -- b still waits
        feed:write("2")
        later(20, function()
          assert.same({ "1" }, a.got)
          assert.same({ "1" }, b.got)
          b:emit("drain")
          assert.is_false(src:isPaused())
          when(function() return #b.got == 2 end, function()
            assert.same({ "1", "2" }, a.got)
            -- Only a waits now: a 'drain' of b changes nothing.
            a.full = true
            feed:write("3")
            when(function() return #b.got == 3 end, function()
              assert.is_true(src:isPaused())
              b:emit("drain")
              assert.is_true(src:isPaused())
              a.full = false
              a:emit("drain")
              assert.is_false(src:isPaused())
              feed:done("4")
            end)
          end)
        end)
      end)
      src:on("close", h.must_call(function()
        assert.same({ "1", "2", "3", "4" }, a.got)
        assert.same({ "1", "2", "3", "4" }, b.got)
        assert.equal(1, a.ends)
        assert.equal(1, b.ends)
      end))
    end)
    h.run()
  end)

  it("'data' listeners beside a pipe see every chunk, in listener order",
  function()
    -- A listener added before pipe() runs before the chunk is written to
    -- the destination (its bytesWritten does not count the chunk yet); one
    -- added after pipe() runs after.
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      local got = collect(sink)
      local before, after = {}, {}
      src:on("data", function(d)
        assert.equal(#table.concat(before), dst.bytesWritten)
        before[#before + 1] = d
      end)
      src:pipe(dst)
      src:on("data", function(d)
        after[#after + 1] = d
        assert.equal(#table.concat(after), dst.bytesWritten)
      end)
      sink:on("end", h.must_call(function()
        assert.equal("abcdefg", got())
        assert.equal("abcdefg", table.concat(before))
        assert.equal("abcdefg", table.concat(after))
      end))
      feed:write("abc")
      later(20, function() feed:done("defg") end)
    end)
    h.run()
  end)

  it("pipes to an EventEmitter: write() false pauses, its 'drain' resumes",
  function()
    pair(function(src, feed)
      feed:resume()
      local e = recorder()
      e.full = true
      e:on("pipe", h.must_call(function(s) assert.equal(src, s) end))
      assert.equal(e, src:pipe(e))
      feed:write("a")
      when(function() return #e.got == 1 end, function()
        assert.is_true(src:isPaused())
        feed:done("b")
        later(20, function()
          -- Paused: "b" and the end wait for the source to be resumed.
          assert.same({ "a" }, e.got)
          assert.equal(0, e.ends)
          e.full = false
          e:emit("drain")
          assert.is_false(src:isPaused())
        end)
      end)
      src:on("close", h.must_call(function()
        assert.same({ "a", "b" }, e.got)
        assert.equal(1, e.ends)
      end))
    end)
    h.run()
  end)

  it("pipes to a plain table with write and done", function()
    -- An lnet extension: Node's pipe() needs an EventEmitter (dest.on).
    pair(function(src, feed)
      feed:resume()
      local got, ends = {}, 0
      local t = {
        write = function(_, chunk) got[#got + 1] = chunk return true end,
        done = function() ends = ends + 1 end,
      }
      assert.equal(t, src:pipe(t))
      src:on("close", h.must_call(function()
        assert.equal("plain", table.concat(got))
        assert.equal(1, ends)
      end))
      feed:done("plain")
    end)
    h.run()
  end)

  it("after setEncoding the destination gets the decoded text", function()
    -- base64: "ab" is held back until "c" completes a quantum; the last
    -- byte is flushed at 'end', before dest:done() (node writes "YWJj",
    -- then "ZA==").
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      local got = collect(sink)
      src:setEncoding("base64")
      src:pipe(dst)
      sink:on("end", h.must_call(function()
        assert.equal("YWJjZA==", got())
      end))
      feed:write("ab")
      later(20, function() feed:done("cd") end)
    end)
    h.run()
  end)

  it("pipe() resumes a paused source", function()
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      local got = collect(sink)
      src:pause()
      assert.is_true(src:isPaused())
      assert.equal(dst, src:pipe(dst))
      assert.is_false(src:isPaused())
      sink:on("end", h.must_call(function()
        assert.equal("hi", got())
      end))
      feed:done("hi")
    end)
    h.run()
  end)

  it("a destination's 'error' listener from before pipe() runs after the "
    .. "unpipe", function()
    -- Node's pipe() prepends its 'error' listener.
    local boom = { message = "boom" }
    two_pairs(function(src, feed, dst, sink)
      sink:resume()
      local unpiped = false
      dst:on("error", h.must_call(function(e)
        assert.equal(boom, e)
        assert.is_true(unpiped)
      end))
      dst:on("unpipe", function(s) unpiped = s == src end)
      src:pipe(dst)
      dst:on("close", h.must_call(function() destroy(src, feed) end))
      dst:destroy(boom)
    end)
    h.run()
  end)

  it("pipe() into a socket that awaits 'drain' pauses the source", function()
    -- Node reads dest.writableNeedDrain: the source starts paused, and
    -- flows once the destination has drained.
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      local filler, n = ("y"):rep(BLOCK), 0
      repeat n = n + 1 until not dst:write(filler) or n > 1000
      src:pipe(dst)
      assert.is_true(src:isPaused())
      local got = collect(sink)
      sink:on("end", h.must_call(function()
        assert.is_true(filler:rep(n) .. "hi" == got(), "bytes differ")
      end))
      feed:done("hi")
    end)
    h.run(10000)
  end)

  it("'end' listeners added after pipe() find the destination ended",
  function()
    -- Node's pipe() listens to the source's 'end' from pipe() on, so
    -- dest:done() has run when later listeners do.
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      sink:resume()
      src:on("end", h.must_call(function()
        assert.is_true(dst.writable)
      end))
      src:pipe(dst)
      src:on("end", h.must_call(function()
        assert.is_false(dst.writable)
      end))
      feed:done("x")
    end)
    h.run()
  end)

  it("with {['end'] = false}, 'end' listeners added after pipe() find "
    .. "the source unpiped", function()
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      sink:resume()
      local unpiped = false
      dst:on("unpipe", function() unpiped = true end)
      src:on("end", h.must_call(function()
        assert.is_false(unpiped)
      end))
      src:pipe(dst, { ["end"] = false })
      src:on("end", h.must_call(function()
        assert.is_true(unpiped)
        dst:done()
      end))
      feed:done("x")
    end)
    h.run()
  end)

  it("'finish' listeners added after pipe() find the source unpiped",
  function()
    -- Node's pipe() listens to the destination's 'finish' from pipe() on
    -- (listeners added before it run before the unpipe).
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      sink:resume()
      local unpiped = false
      dst:on("unpipe", function() unpiped = true end)
      src:pipe(dst)
      dst:on("finish", h.must_call(function()
        assert.is_true(unpiped)
      end))
      feed:done("x")
    end)
    h.run()
  end)

  it("'close' listeners added after pipe() find the source unpiped",
  function()
    -- As for 'finish'.
    two_pairs(function(src, feed, dst, sink)
      sink:resume()
      local unpiped = false
      dst:on("unpipe", function() unpiped = true end)
      src:pipe(dst)
      dst:on("close", h.must_call(function()
        assert.is_true(unpiped)
        destroy(src, feed)
      end))
      dst:destroy()
    end)
    h.run()
  end)

  it("the source is paused before 'unpipe' of its last pipe", function()
    -- Node pauses the source, then emits 'unpipe'.
    two_pairs(function(src, feed, dst, sink)
      dst:on("unpipe", h.must_call(function()
        assert.is_true(src:isPaused())
      end))
      src:pipe(dst)
      src:unpipe(dst)
      destroy(src, feed, dst, sink)
    end)
    h.run()
  end)

  it("unpipe() emits 'unpipe' in the order of the pipes", function()
    pair(function(src, feed)
      local order = {}
      local dests = { recorder(), recorder(), recorder() }
      for i, d in ipairs(dests) do
        d:on("unpipe", function() order[#order + 1] = i end)
        src:pipe(d)
      end
      src:unpipe()
      assert.same({ 1, 2, 3 }, order)
      destroy(src, feed)
    end)
    h.run()
  end)

  it("an EventEmitter's 'error' listener from before pipe() runs after "
    .. "the unpipe", function()
    -- Node prepends its 'error' listener on any destination.
    pair(function(src, feed)
      local e = recorder()
      local boom = { message = "boom" }
      local unpiped = false
      e:on("error", h.must_call(function(err)
        assert.equal(boom, err)
        assert.is_true(unpiped)
      end))
      e:on("unpipe", function() unpiped = true end)
      src:pipe(e)
      e:emit("error", boom)
      destroy(src, feed)
    end)
    h.run()
  end)

  it("pipe() after the source's 'end' still ends the destination",
  function()
    -- Node calls dest.end() on the next tick when 'end' was emitted
    -- already.
    pair(function(src, feed)
      feed:resume()
      src:resume()
      src:on("end", function()
        later(0, function()
          local e = recorder()
          src:pipe(e)
          later(20, h.must_call(function()
            assert.equal(1, e.ends)
          end))
        end)
      end)
      feed:done("x")
    end)
    h.run()
  end)

  it("a 'drain' listener added before the first pause runs before the "
    .. "source resumes; one added after, after", function()
    -- Node adds the pipe's 'drain' listener when the destination first
    -- makes the source wait.
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      local seen = {}
      src:pipe(dst)
      dst:once("drain", function() seen[#seen + 1] = src:isPaused() end)
      local block = ("y"):rep(BLOCK)
      for _ = 1, BIG do feed:write(block) end
      when(function() return src:isPaused() end, function()
        dst:once("drain", h.must_call(function()
          seen[#seen + 1] = src:isPaused()
          assert.same({ true, false }, seen)
        end))
        sink:resume()
        sink:on("end", h.must_call(function() destroy(src, feed, sink) end))
        feed:done()
      end)
    end)
    h.run(20000)
  end)

  it("an 'end' listener prepended after pipe() runs before dest:done()",
  function()
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      sink:resume()
      src:pipe(dst)
      src:prependListener("end", h.must_call(function()
        assert.is_true(dst.writable)
      end))
      src:prependOnceListener("end", h.must_call(function()
        assert.is_true(dst.writable)
      end))
      src:on("end", h.must_call(function()
        assert.is_false(dst.writable)
      end))
      feed:done("x")
    end)
    h.run()
  end)

  it("an 'end' listener from before pipe() that unpipes still lets the "
    .. "destination end", function()
    -- Node runs the listeners as they were when 'end' was emitted.
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      src:on("end", function() src:unpipe(dst) end)
      src:pipe(dst)
      sink:resume()
      sink:on("end", h.must_call(function() destroy(src, sink) end))
      feed:done("x")
    end)
    h.run()
  end)

  it("a destination's 'error' listener prepended after pipe() runs before "
    .. "the unpipe", function()
    local boom = { message = "boom" }
    two_pairs(function(src, feed, dst, sink)
      sink:resume()
      local unpiped = false
      dst:on("unpipe", function() unpiped = true end)
      src:pipe(dst)
      dst:prependListener("error", h.must_call(function()
        assert.is_false(unpiped)
      end))
      dst:on("error", h.must_call(function() assert.is_true(unpiped) end))
      dst:on("close", h.must_call(function() destroy(src, feed) end))
      dst:destroy(boom)
    end)
    h.run()
  end)

  it("with two destinations, each pipe ends its own at its place among the "
    .. "'end' listeners", function()
    pair(function(src, feed)
      feed:resume()
      local a, b = recorder(), recorder()
      local seen = {}
      local function note() seen[#seen + 1] = a.ends .. b.ends end
      src:on("end", note)
      src:pipe(a)
      src:on("end", note)
      src:pipe(b)
      src:on("end", note)
      src:prependListener("end", note)
      src:on("close", h.must_call(function()
        assert.same({ "00", "00", "10", "11" }, seen)
      end))
      feed:done("x")
    end)
    h.run()
  end)

  it("listeners('data') reports the pipe as one function, in its place",
  function()
    -- As Node's ondata: a function of its own, the same in rawListeners(),
    -- counted once, gone after unpipe().
    two_pairs(function(src, feed, dst, sink)
      local f1, f2 = function() end, function() end
      src:on("data", f1)
      src:pipe(dst)
      src:on("data", f2)
      local l = src:listeners("data")
      assert.equal(3, #l)
      assert.equal(f1, l[1])
      assert.equal("function", type(l[2]))
      assert.is_true(l[2] ~= f1 and l[2] ~= f2)
      assert.equal(f2, l[3])
      assert.same(l, src:rawListeners("data"))
      assert.equal(3, src:listenerCount("data"))
      assert.equal(1, src:listenerCount("data", l[2]))
      src:unpipe(dst)
      assert.same({ f1, f2 }, src:listeners("data"))
      destroy(src, feed, dst, sink)
    end)
    h.run()
  end)

  it("'newListener' and 'removeListener' report the pipe's 'data' listener "
    .. "as that function", function()
    two_pairs(function(src, feed, dst, sink)
      src:on("data", function() end)
      local added, removed = {}, {}
      src:on("newListener", function(name, fn)
        if name == "data" then added[#added + 1] = fn end
      end)
      src:on("removeListener", function(name, fn)
        if name == "data" then removed[#removed + 1] = fn end
      end)
      src:pipe(dst)
      local fn = src:listeners("data")[2]
      src:unpipe(dst)
      assert.equal("function", type(fn))
      assert.same({ fn }, added)
      assert.same({ fn }, removed)
      destroy(src, feed, dst, sink)
    end)
    h.run()
  end)

  it("removing the pipe's 'data' listener stops the copy, not the end",
  function()
    -- Node: the chunks no longer reach dest, src's 'end' still ends it.
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      local got = collect(sink)
      src:pipe(dst)
      local l = src:listeners("data")
      assert.equal(1, #l)
      src:removeListener("data", l[1])
      assert.equal(0, src:listenerCount("data"))
      local seen = collect(src)
      sink:on("end", h.must_call(function()
        assert.equal("", got())
        assert.equal("abc", seen())
        destroy(src, feed)
      end))
      feed:done("abc")
    end)
    h.run()
  end)

  it("removeAllListeners('data') stops the copy, not the end", function()
    two_pairs(function(src, feed, dst, sink)
      feed:resume()
      dst:resume()
      local got = collect(sink)
      -- A 'removeListener' listener: the listeners are removed one by one.
      src:on("removeListener", function() end)
      src:pipe(dst)
      src:removeAllListeners("data")
      assert.same({}, src:listeners("data"))
      sink:on("end", h.must_call(function()
        assert.equal("", got())
        destroy(src, feed)
      end))
      feed:done("abc")
    end)
    h.run()
  end)
end)
