-- Throughput of lnet.encoding's decoders (not a spec; run by hand):
--   lua5.4 spec/bench/encoding_bench.lua [iterations]
-- Decodes 64 KiB chunks ITER times per case and prints MB/s (os.clock).
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local enc = require("lnet.encoding")

local ITER = tonumber(arg[1]) or 1000
local SIZE = 64 * 1024

local ascii = ("The quick brown fox jumps over the lazy dog. 0123456789\n")
  :rep(SIZE):sub(1, SIZE)
-- 1-, 2-, 3- and 4-byte characters; cut to 64 KiB on a character boundary.
local unit = "héllo wörld, Grüße — 日本語テキスト 😀🎉 ok\n"
local mixed = unit:rep(SIZE // #unit + 1)
local aligned = mixed:sub(1, SIZE - (SIZE % #unit))
-- A stream of mixed text cut into 64 KiB pieces regardless of characters,
-- as a socket delivers it: most chunks begin or end inside a character.
local stream = {}
for k = 1, 16 do stream[k] = mixed:sub((k - 1) * 997 + 1, (k - 1) * 997 + SIZE) end
local binary = {}
for k = 1, SIZE do binary[k] = string.char((k * 7919) % 256) end
binary = table.concat(binary)

local function run(label, name, chunks)
  local d = enc.decoder(name)
  local bytes, nchunks = 0, #chunks
  collectgarbage()
  local t0 = os.clock()
  for k = 1, ITER do
    local c = chunks[(k - 1) % nchunks + 1]
    d:write(c)
    bytes = bytes + #c
  end
  d:finish()
  local dt = os.clock() - t0
  print(("%-34s %8.1f MB/s  (%d x %d KiB, %.3f s)"):format(
    label, bytes / dt / 1e6, ITER, #chunks[1] // 1024, dt))
end

run("utf8 ascii 64K", "utf8", {ascii})
run("utf8 mixed 64K (whole chars)", "utf8", {aligned})
run("utf8 mixed 64K (cut anywhere)", "utf8", stream)
run("utf8 invalid bytes 64K", "utf8", {binary})
run("latin1 binary 64K", "latin1", {binary})
run("hex binary 64K", "hex", {binary})
run("base64 binary 64K", "base64", {binary})
run("utf16le mixed 64K", "utf16le", {enc.encode(aligned, "utf16le"):sub(1, SIZE)})
