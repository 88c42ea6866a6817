-- socket:setEncoding (contract §5.3) on real connections: a character or a
-- base64 quantum is never split across 'data' events, whatever the split of
-- the bytes on the wire (checked for a UTF-8 text cut at every byte offset);
-- what is held back is flushed at 'end' (an incomplete character becomes
-- U+FFFD, as node's StringDecoder); bytesRead counts bytes, not characters;
-- an unknown encoding raises ERR_UNKNOWN_ENCODING.
local h = require("spec.helper")
local net = require("net")
local timers = require("timers")

-- Connects a client to a server on 127.0.0.1; calls fn(client, peer) with
-- the client connected and the server's socket (peer) accepted.
local function pair(fn)
  local srv
  srv = net.createServer(function(peer)
    srv:close()
    fn(srv.client, peer)
  end)
  srv:listen(0, "127.0.0.1", function()
    srv.client = net.connect(srv:address().port, "127.0.0.1")
  end)
end

-- Writes parts one by one from `from`, each only once `to` has read all
-- bytes before it, so each part arrives in a read of its own; then done().
local function send_split(from, to, parts)
  local i, sent = 0, 0
  local function step()
    if to.bytesRead < sent then
      timers.setTimeout(step, 1)
      return
    end
    i = i + 1
    if i > #parts then
      from:done()
      return
    end
    sent = sent + #parts[i]
    from:write(parts[i])
    timers.setTimeout(step, 1)
  end
  step()
end

describe("socket:setEncoding", function()
  after_each(h.cleanup)

  it("never splits a UTF-8 character, at any byte offset", function()
    local text = "a\u{e9}\u{20ac}\u{1d11e}z"   -- 1, 2, 3 and 4 byte characters
    local parts = {}
    for k = 1, #text - 1 do
      parts[#parts + 1] = text:sub(1, k)
      parts[#parts + 1] = text:sub(k + 1)
    end
    pair(function(client, peer)
      peer:setEncoding("utf8")
      local chunks = {}
      peer:on("data", function(d)
        assert.is_not_nil(utf8.len(d), "split character in " .. d:format("%q"))
        chunks[#chunks + 1] = d
      end)
      peer:on("end", h.must_call(function()
        assert.equal(text:rep(#text - 1), table.concat(chunks))
        assert.equal(#text * (#text - 1), peer.bytesRead)
        assert.is_true(#chunks > #text)  -- the splits did reach us apart
      end))
      send_split(client, peer, parts)
      client:resume()
    end)
    h.run(10000)
  end)

  it("flushes an incomplete character at 'end' as U+FFFD", function()
    pair(function(client, peer)
      peer:setEncoding()   -- utf8 by default
      local chunks = {}
      peer:on("data", function(d) chunks[#chunks + 1] = d end)
      peer:on("end", h.must_call(function()
        assert.same({ "ok", "\u{FFFD}" }, chunks)
      end))
      send_split(client, peer, { "ok\xe2\x82" })
      client:resume()
    end)
    h.run()
  end)

  it("decodes hex and holds base64 quanta together", function()
    pair(function(client, peer)
      peer:setEncoding("base64")
      local chunks = {}
      peer:on("data", function(d)
        chunks[#chunks + 1] = d
        assert.equal(0, #d % 4)
      end)
      peer:on("end", h.must_call(function()
        -- node: write([1]) -> '', write([2,3,4]) -> 'AQID', end() -> 'BA=='
        assert.same({ "AQID", "BA==" }, chunks)
      end))
      send_split(client, peer, { "\1", "\2\3\4" })
      client:resume()
    end)
    pair(function(client, peer)
      assert.equal(peer, peer:setEncoding("hex"))
      local chunks = {}
      peer:on("data", function(d) chunks[#chunks + 1] = d end)
      peer:on("end", h.must_call(function()
        assert.equal("00ff41", table.concat(chunks))
      end))
      client:done("\0\255A")
      client:resume()
    end)
    h.run()
  end)

  it("decodes latin1 bytes to UTF-8 text", function()
    pair(function(client, peer)
      peer:setEncoding("latin1")
      peer:on("data", h.must_call(function(d)
        assert.equal("h\u{e9}", d)
      end))
      client:done("h\xe9")
      client:resume()
    end)
    h.run()
  end)

  it("raises ERR_UNKNOWN_ENCODING for an unknown name", function()
    local s = net.Socket()
    local ok, err = pcall(s.setEncoding, s, "klingon")
    assert.is_false(ok)
    assert.equal("ERR_UNKNOWN_ENCODING", err.code)
    assert.equal("TypeError", err.name)
  end)
end)
