-- Node's string encodings for socket:setEncoding and socket:write
-- (lnet-api.md §5.3), learned from Node 20 by running it; the expected
-- values in spec/encoding_spec.lua come from node.
--
--   normalize(name)    -> canonical name or nil (unknown)
--   encode(str, name)  -> bytes that socket:write(str, name) sends
--                         (Node's Buffer.from(str, name))
--   decoder(name)      -> streaming decoder (Node's StringDecoder):
--                         d:write(bytes) -> text, d:finish([bytes]) -> text
--   decode(bytes, name) -> text of a whole buffer (Node's buf.toString(name))
--   to_valid_utf8(s)   -> s with invalid UTF-8 replaced by U+FFFD
-- encode/decoder/decode raise a plain "Unknown encoding: x" error for an
-- unknown name; socket code checks with normalize() first and raises
-- ERR_UNKNOWN_ENCODING itself.
--
-- Text on the Lua side is always UTF-8 (§1.7). Where Node works on UTF-16
-- code units, the Lua string is first read as UTF-8 with invalid bytes
-- replaced by U+FFFD, as Node's own Buffer->string conversion does.

local byte, char, find, sub, gsub, lower =
  string.byte, string.char, string.find, string.sub, string.gsub, string.lower
local concat = table.concat
local ulen, uchar = utf8.len, utf8.char
local setmetatable, type, error, tostring = setmetatable, type, error, tostring

local M = {}

local REPLACEMENT = "\u{FFFD}"

---------------------------------------------------------------------------
-- Names

-- Node's accepted spellings (matched case-insensitively, as Node does).
local ALIASES = {
  ["utf8"] = "utf8", ["utf-8"] = "utf8",
  ["hex"] = "hex",
  ["base64"] = "base64", ["base64url"] = "base64url",
  ["latin1"] = "latin1", ["binary"] = "latin1",
  ["ascii"] = "ascii",
  ["utf16le"] = "utf16le", ["utf-16le"] = "utf16le",
  ["ucs2"] = "utf16le", ["ucs-2"] = "utf16le",
}

-- nil and "" mean UTF-8: Node's setEncoding(null), setEncoding('') and
-- write(s, null) all use utf8 (setEncoding(null) does not turn decoding
-- off). "buffer" is unknown here: Node rejects it in setEncoding and a
-- socket's write(string, 'buffer') throws too.
function M.normalize(name)
  if name == nil or name == "" then return "utf8" end
  if type(name) ~= "string" then return nil end
  return ALIASES[name] or ALIASES[lower(name)]
end

local function check(name, level)
  local canon = M.normalize(name)
  if not canon then
    error("Unknown encoding: " .. tostring(name), level + 1)
  end
  return canon
end

---------------------------------------------------------------------------
-- UTF-8 validation with U+FFFD replacement

-- Length of the maximal subpart of an ill-formed sequence starting at p
-- (Unicode §3.9 / WHATWG: the longest prefix of a well-formed sequence,
-- at least one byte), never reading past j. V8, and so Node, emits one
-- U+FFFD per maximal subpart.
local function bad_len(s, p, j)
  local b = byte(s, p)
  if b < 0xC2 or b > 0xF4 then return 1 end
  local lo, hi, need = 0x80, 0xBF, 1
  if b >= 0xF0 then
    need = 3
    if b == 0xF0 then lo = 0x90 elseif b == 0xF4 then hi = 0x8F end
  elseif b >= 0xE0 then
    need = 2
    if b == 0xE0 then lo = 0xA0 elseif b == 0xED then hi = 0x9F end
  end
  if p + 1 > j then return 1 end
  local c = byte(s, p + 1)
  if c < lo or c > hi then return 1 end
  for q = p + 2, p + need do
    if q > j then return q - p end
    c = byte(s, q)
    if c < 0x80 or c > 0xBF then return q - p end
  end
  return need + 1 -- well-formed after all; not reached for utf8.len failures
end

-- s[i..j] as valid UTF-8. Returns s itself (no copy) when it is all of s
-- and already valid. Callers make sure no character starting at or before
-- j continues past j (utf8.len would read on).
local function fix(s, i, j)
  if i > j then return "" end
  local ok, bad = ulen(s, i, j)
  if ok then
    if i == 1 and j == #s then return s end
    return sub(s, i, j)
  end
  local parts, n = {}, 0
  while true do
    if bad > i then
      n = n + 1
      parts[n] = sub(s, i, bad - 1)
    end
    n = n + 1
    parts[n] = REPLACEMENT
    i = bad + bad_len(s, bad, j)
    if i > j then break end
    ok, bad = ulen(s, i, j)
    if ok then
      n = n + 1
      parts[n] = sub(s, i, j)
      break
    end
  end
  return concat(parts, "", 1, n)
end

function M.to_valid_utf8(s) return fix(s, 1, #s) end

---------------------------------------------------------------------------
-- encode: text -> bytes (Buffer.from(str, enc))

-- latin1/ascii: one byte per UTF-16 code unit, its low byte (Node writes
-- the low byte of each unit: "€" U+20AC -> 0xAC, "😀" D83D DE00 -> 3D 00).
local LATIN1 = setmetatable({}, {__index = function(_, ch)
  local cp = utf8.codepoint(ch)
  if cp < 0x10000 then return char(cp & 0xFF) end
  cp = cp - 0x10000
  return char((0xD800 + (cp >> 10)) & 0xFF, (0xDC00 + (cp & 0x3FF)) & 0xFF)
end})
for cp = 0x80, 0xFF do rawset(LATIN1, uchar(cp), char(cp)) end

local MULTIBYTE = "[\xC2-\xF4][\x80-\xBF]*"

local function latin1_bytes(s)
  if not find(s, "[\x80-\xFF]") then return s end
  return (gsub(fix(s, 1, #s), MULTIBYTE, LATIN1))
end

-- utf16le: UTF-16 code units, little endian.
local UTF16 = setmetatable({}, {__index = function(_, ch)
  local cp = utf8.codepoint(ch)
  if cp < 0x10000 then return char(cp & 0xFF, cp >> 8) end
  cp = cp - 0x10000
  local hi, lo = 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)
  return char(hi & 0xFF, hi >> 8, lo & 0xFF, lo >> 8)
end})
for cp = 0, 0x7F do rawset(UTF16, char(cp), char(cp, 0)) end

local function utf16_bytes(s)
  return (gsub(fix(s, 1, #s), "[\0-\x7F\xC2-\xF4][\x80-\xBF]*", UTF16))
end

-- hex: pairs of hex digits; Node stops at the first pair that is not two
-- hex digits and drops an odd last digit.
local HEXPAIR = {}
do
  local digits = "0123456789abcdefABCDEF"
  for x = 1, #digits do
    for y = 1, #digits do
      local a, b = sub(digits, x, x), sub(digits, y, y)
      HEXPAIR[a .. b] = char(tonumber(a .. b, 16))
    end
  end
end

local function hex_bytes(s)
  s = latin1_bytes(s) -- Node reads each code unit's low byte here too
  local stop = find(s, "[^0-9A-Fa-f]")
  local digits = (stop or #s + 1) - 1
  digits = digits - digits % 2
  if digits == 0 then return "" end
  return (gsub(sub(s, 1, digits), "..", HEXPAIR))
end

-- base64/base64url: Node takes both alphabets, skips any other byte
-- (whitespace included), stops at the first '=', and turns a final 2 or 3
-- characters into 1 or 2 bytes (a final single character is dropped).
local B64VAL = {}
do
  local alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
  for k = 1, #alpha do B64VAL[byte(alpha, k)] = k - 1 end
  B64VAL[byte("+")], B64VAL[byte("/")] = 62, 63
  B64VAL[byte("-")], B64VAL[byte("_")] = 62, 63
end

local function base64_bytes(s)
  s = latin1_bytes(s)
  local eq = find(s, "=", 1, true)
  if eq then s = sub(s, 1, eq - 1) end
  if find(s, "[^A-Za-z0-9+/_%-]") then
    s = gsub(s, "[^A-Za-z0-9+/_%-]", "")
  end
  local n = #s
  local out, m = {}, 0
  local V = B64VAL
  local full = n - n % 4
  for k = 1, full, 4 do
    local a, b, c, d = byte(s, k, k + 3)
    local v = V[a] << 18 | V[b] << 12 | V[c] << 6 | V[d]
    m = m + 1
    out[m] = char(v >> 16, (v >> 8) & 0xFF, v & 0xFF)
  end
  local rest = n - full
  if rest >= 2 then
    local a, b, c = byte(s, full + 1, full + 3)
    local v = V[a] << 18 | V[b] << 12 | (c and V[c] << 6 or 0)
    m = m + 1
    out[m] = rest == 2 and char(v >> 16) or char(v >> 16, (v >> 8) & 0xFF)
  end
  return concat(out, "", 1, m)
end

local ENCODERS = {
  utf8 = function(s) return s end,
  latin1 = latin1_bytes,
  ascii = latin1_bytes, -- Node 20 encodes 'ascii' exactly like 'latin1'
  utf16le = utf16_bytes,
  hex = hex_bytes,
  base64 = base64_bytes,
  base64url = base64_bytes,
}

-- utf8 sends the string's bytes unchanged, invalid UTF-8 included: a Lua
-- string is already bytes, like writing a Buffer.
function M.encode(str, name)
  if type(str) ~= "string" then
    error("bad argument #1 to 'encode' (string expected, got "
      .. type(str) .. ")", 2)
  end
  return ENCODERS[check(name, 2)](str)
end

---------------------------------------------------------------------------
-- decoders: bytes -> text (StringDecoder)

local Decoder = {}

-- utf8. Holds back an incomplete character at the end of a chunk using
-- Node's rule (the lead byte says how long the character is: C0-DF 2,
-- E0-EF 3, F0-F7 4), so each write returns what Node's StringDecoder
-- returns for the same chunks.
local Utf8 = setmetatable({}, {__index = Decoder})
Utf8.__index = Utf8

function Utf8:write(s)
  local n = #s
  if n == 0 then return "" end
  local i, head = 1, nil
  local pend = self.pend
  if pend then
    -- Complete the held character with continuation bytes; a byte that is
    -- not one ends it early, and it is decoded (to U+FFFD) as it stands.
    local have, need, k = #pend, self.need, 1
    while have < need and k <= n do
      local c = byte(s, k)
      if c < 0x80 or c > 0xBF then break end
      have, k = have + 1, k + 1
    end
    pend = pend .. sub(s, 1, k - 1)
    if have < need and k > n then
      self.pend = pend
      return ""
    end
    self.pend = nil
    head = fix(pend, 1, #pend)
    i = k
    if i > n then return head end
  end
  local cut = n + 1
  if byte(s, n) >= 0x80 then
    -- Look back (at most 4 bytes) for the lead byte of the last character.
    local count = 0
    for k = n, i, -1 do
      local c = byte(s, k)
      count = count + 1
      if c >= 0x80 and c <= 0xBF then
        if count >= 4 then break end
      else
        local len = c >= 0xF0 and c <= 0xF7 and 4 or c >= 0xE0 and c <= 0xEF
          and 3 or c >= 0xC0 and c <= 0xDF and 2 or nil
        if len and count < len then
          cut = k
          self.need = len
        end
        break
      end
    end
  end
  local body = fix(s, i, cut - 1)
  if cut <= n then self.pend = sub(s, cut) end
  if head then return head .. body end
  return body
end

function Utf8:flush()
  local pend = self.pend
  if not pend then return "" end
  self.pend = nil
  return fix(pend, 1, #pend)
end

-- utf16le. Holds back an odd byte and a trailing high surrogate, so a
-- surrogate pair split across chunks still becomes one character. (Node
-- emits the high surrogate early when an odd byte follows it, which a JS
-- string can carry but UTF-8 cannot.)
-- The bytes the last write held back (nil: none), given up to the caller.
-- The utf16le and base64 decoders hold back incomplete units this way.
local function take_rest(self)
  local rest = self.rest
  self.rest = nil
  return rest
end

local Utf16 = setmetatable({}, {__index = Decoder})
Utf16.__index = Utf16

-- Each unit becomes its UTF-8 form; surrogates too (ED A0..BF xx, which
-- valid UTF-8 never contains), then a second pass joins pairs and turns
-- the unpaired ones into U+FFFD. ASCII units are table hits inside gsub.
local UNIT = setmetatable({}, {__index = function(_, u)
  local lo, hi = byte(u, 1, 2)
  return uchar(hi << 8 | lo)
end})
for cp = 0, 0x7F do rawset(UNIT, char(cp, 0), char(cp)) end

local function join_pair(p)
  local a, b, c, d, e, f = byte(p, 1, 6)
  local high = (a & 0x0F) << 12 | (b & 0x3F) << 6 | (c & 0x3F)
  local low = (d & 0x0F) << 12 | (e & 0x3F) << 6 | (f & 0x3F)
  return uchar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
end

local function utf16_text(s)
  local text = gsub(s, "..", UNIT)
  if find(text, "\xED[\xA0-\xBF]") then
    text = gsub(text, "\xED[\xA0-\xAF][\x80-\xBF]\xED[\xB0-\xBF][\x80-\xBF]",
      join_pair)
    text = gsub(text, "\xED[\xA0-\xBF][\x80-\xBF]", REPLACEMENT)
  end
  return text
end

function Utf16:write(s)
  local rest = take_rest(self)
  if rest then s = rest .. s end
  local n = #s
  local k = n - n % 2
  if k >= 2 then
    local b = byte(s, k)
    if b >= 0xD8 and b <= 0xDB then k = k - 2 end
  end
  if k < n then self.rest = sub(s, k + 1) end
  if k == 0 then return "" end
  return utf16_text(k == n and s or sub(s, 1, k))
end

function Utf16:flush()
  local rest = take_rest(self)
  if not rest then return "" end
  -- A single trailing byte is dropped, as Node does.
  return utf16_text(sub(rest, 1, #rest - #rest % 2))
end

-- base64/base64url. Holds back the bytes of an incomplete 3-byte quantum;
-- flush pads it (base64) or not (base64url).
local Base64 = setmetatable({}, {__index = Decoder})
Base64.__index = Base64

local function pairs_table(alpha)
  local t = {}
  for v = 0, 4095 do
    local a, b = (v >> 6) + 1, (v & 63) + 1
    t[v] = sub(alpha, a, a) .. sub(alpha, b, b)
  end
  return t
end
local B64PAIRS = pairs_table(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
local B64URLPAIRS = pairs_table(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

-- Base64 text of s[1..k], k a multiple of 3.
local function b64_full(s, k, P)
  local out, m = {}, 0
  for p = 1, k, 3 do
    local a, b, c = byte(s, p, p + 2)
    local v = a << 16 | b << 8 | c
    out[m + 1], out[m + 2] = P[v >> 12], P[v & 4095]
    m = m + 2
  end
  return concat(out, "", 1, m)
end

function Base64:write(s)
  local rest = take_rest(self)
  if rest then s = rest .. s end
  local n = #s
  local k = n - n % 3
  if k < n then self.rest = sub(s, k + 1) end
  if k == 0 then return "" end
  return b64_full(s, k, self.pairs)
end

function Base64:flush()
  local rest = take_rest(self)
  if not rest then return "" end
  local a, b = byte(rest, 1, 2)
  local v = a << 16 | (b or 0) << 8
  local P = self.pairs
  -- One byte makes 2 characters, two bytes make 3.
  local text = P[v >> 12]
  if b then text = text .. sub(P[v & 4095], 1, 1) end
  if self.encoding == "base64" then
    text = text .. (b and "=" or "==")
  end
  return text
end

-- Stateless byte-wise decoders.
local Bytewise = setmetatable({}, {__index = Decoder})
Bytewise.__index = Bytewise

local HEXTEXT, LATIN1TEXT, ASCIITEXT = {}, {}, {}
for b = 0, 255 do
  HEXTEXT[char(b)] = ("%02x"):format(b)
  if b >= 0x80 then
    LATIN1TEXT[char(b)] = uchar(b)
    ASCIITEXT[char(b)] = char(b & 0x7F) -- Node drops the high bit
  end
end

local BYTEWISE = {
  hex = function(s) return (gsub(s, ".", HEXTEXT)) end,
  latin1 = function(s)
    if not find(s, "[\x80-\xFF]") then return s end
    return (gsub(s, "[\x80-\xFF]", LATIN1TEXT))
  end,
  ascii = function(s)
    if not find(s, "[\x80-\xFF]") then return s end
    return (gsub(s, "[\x80-\xFF]", ASCIITEXT))
  end,
}

function Bytewise:write(s)
  return self.map(s)
end

function Bytewise:flush()
  return ""
end

-- Node's end([buf]): decode a last chunk, then whatever is held back.
function Decoder:finish(s)
  if s ~= nil and s ~= "" then
    return self:write(s) .. self:flush()
  end
  return self:flush()
end

function M.decoder(name)
  local canon = check(name, 2)
  if canon == "utf8" then
    return setmetatable({encoding = canon}, Utf8)
  elseif canon == "utf16le" then
    return setmetatable({encoding = canon}, Utf16)
  elseif canon == "base64" then
    return setmetatable({encoding = canon, pairs = B64PAIRS}, Base64)
  elseif canon == "base64url" then
    return setmetatable({encoding = canon, pairs = B64URLPAIRS}, Base64)
  end
  return setmetatable({encoding = canon, map = BYTEWISE[canon]}, Bytewise)
end

function M.decode(bytes, name)
  local d = M.decoder(name)
  return d:finish(bytes)
end

return M
