// Prints the node-generated tables of spec/encoding_spec.lua. Everything
// is hex: inputs are byte strings (hex), outputs are the bytes of the
// result (Buffer -> hex, decoded text -> its UTF-8 bytes as hex; a lone
// surrogate in a JS string shows up as U+FFFD, EF BF BD, as it would when
// Node writes the text out). Run: node spec/node/encoding_cases.js
'use strict';
const { StringDecoder } = require('string_decoder');
const H = (s) => Buffer.from(s, 'hex');
const hexOfText = (t) => Buffer.from(t, 'utf8').toString('hex');
const q = (s) => JSON.stringify(s);
const out = [];
const emit = (s) => out.push(s);

// normalize: StringDecoder's canonical name, or nil when node throws.
const names = ['utf8', 'utf-8', 'UTF8', 'Utf-8', 'hex', 'HEX', 'base64',
  'Base64', 'base64url', 'BASE64URL', 'latin1', 'LATIN1', 'binary', 'Binary',
  'ascii', 'ASCII', 'utf16le', 'UTF16LE', 'utf-16le', 'UTF-16LE', 'ucs2',
  'UCS2', 'ucs-2', 'UCS-2', '', 'buffer', 'utf16', 'utf-16', 'latin-1',
  'utf 8', 'utf-8 ', 'base-64', 'bin', 'unicode', 'utf32', 'hex2'];
emit('local NAMES = {');
for (const n of names) {
  let r;
  try { r = q(new StringDecoder(n).encoding); } catch (e) { r = 'nil'; }
  emit(`  {${q(n)}, ${r}},`);
}
emit('}');

// encode: Buffer.from(text, enc). Text is given as UTF-8 bytes; invalid
// UTF-8 is first read as node reads a Buffer (U+FFFD per maximal subpart).
const texts = ['', '68656c6c6f', '61c3a9e282acf09f9880', 'c3bfc480',
  '7fc280', 'e697a5e69cace8aa9e', 'f48fbfbf', '00', 'efbfbd',
  'ff', 'c3', 'e28241', 'eda080', 'f4908080', '418042', 'c080',
  'f09f98', '61f09f9880f09f988162'];
const hexIn = ['', '00ff', 'DEADbeef', 'abc', 'abz1', 'zz12', 'a b', '0x12',
  '12 34', 'ab\ncd', '\u0141\u0142', '\u0a41\u0a42c3', 'ab\u00e9cd',
  'ffffffffffffffff0', '0G', '€12'];
const b64In = ['', 'YWJj', 'YWJjZA', 'YWJjZA==', 'YWJjZA=', 'YW Jj\nZA',
  'YWJj=ZGVm', 'Y', 'YQ', 'YWJ', '-_+/', '____', '++//', 'YW*Jj', '=YQ',
  '\u0141\u0141\u0141\u0141', 'aGVsbG8gd29ybGQ', 'aGVsbG8gd29ybGQ=',
  'é', 'YQ==YQ==', 'Y=Q', '\tY W J j Z A = =', 'YWJjZ', 'YWJjZGV',
  'SGVsbG8sIO+8t++9j++9kuOBjOOBqiE', '////', '%%%YQ'];
emit('local ENCODE = {');
for (const enc of ['utf8', 'latin1', 'ascii', 'utf16le']) {
  for (const t of texts) {
    const text = H(t).toString('utf8');
    // utf8 sends a Lua string's bytes as they are (lnet's choice, checked
    // in the spec), so only valid UTF-8 is compared with node there.
    if (enc === 'utf8' && !Buffer.from(text).equals(H(t))) continue;
    emit(`  {${q(t)}, ${q(enc)}, ${q(Buffer.from(text, enc).toString('hex'))}},`);
  }
}
for (const [enc, list] of [['hex', hexIn], ['base64', b64In],
  ['base64url', b64In]]) {
  for (const t of list) {
    emit(`  {${q(hexOfText(t))}, ${q(enc)}, ` +
      `${q(Buffer.from(t, enc).toString('hex'))}},`);
  }
}
emit('}');

// decode of a whole buffer: buf.toString(enc) == StringDecoder write+end.
const bufs = ['', '00', '41', 'ff', '00ff7f80', 'e9', '61c3a9', '3dd8',
  '3dd800de', '00de3dd8', '00dc', '3dd841', '410042', '41004200',
  '61c3a9e282acf09f9880', '0102030405', 'fbff', 'fbffbf', 'fbffbfff',
  'deadbeefcafe', '000000'];
emit('local DECODE = {');
for (const enc of ['hex', 'latin1', 'ascii', 'base64', 'base64url',
  'utf16le', 'utf8']) {
  for (const b of bufs) {
    const d = new StringDecoder(enc);
    const r = d.write(H(b)) + d.end();
    if (r !== H(b).toString(enc)) throw new Error('toString != decoder');
    emit(`  {${q(b)}, ${q(enc)}, ${q(hexOfText(r))}},`);
  }
}
emit('}');

// Streaming: per-write results of node's StringDecoder, for a chunking.
// SPLITS: each input cut in two at every offset; BYTES: one byte a time.
const feed = (enc, chunks) => {
  const d = new StringDecoder(enc);
  const r = chunks.map((c) => hexOfText(d.write(c)));
  r.push(hexOfText(d.end()));
  return r;
};
const tricky = ['c080', 'c1bf', 'e08080', 'e09fbf', 'f0808080', 'f08fbfbf',
  'eda080', 'edbfbf', 'eda080edb080', 'f4908080', 'f5808080', 'f888808080',
  'fc8480808080', 'fe', 'ff', '80', 'bf', '8080808080', 'e282', 'e28241',
  'f09f98', 'f09f9841', 'f09f41', 'c3', 'c341', 'e241', 'c3e9',
  'e282e282ac', 'f48fbfbf', 'efbfbd', 'efbbbf41', '007f', 'ed9fbf',
  'ee8080', 'f09080', 'c2', 'e0a0', 'f18080', 'c0', 'f5', 'f8', 'e080',
  '41e282ac4280c3a9fff09f988043', 'f4908041', 'ed80', 'eda0', 'f0', 'e0',
  'c0afe080af', 'f7bfbfbf', 'c2c2c2', 'e2e2e282ac'];
// 1-, 2-, 3- and 4-byte characters.
const text = H('41c3a9e282acf09f98805a').toString('utf8'); // Aé€😀Z
const binary = '00fffe0110ab7f80cdef';
const streams = [
  ['utf8', Buffer.from(text, 'utf8').toString('hex')],
  ['utf8', Buffer.from('日本語のテキスト 🎉🎉 ok', 'utf8').toString('hex')],
  ['base64', binary], ['base64url', binary],
  ['utf16le', Buffer.from(text, 'utf16le').toString('hex')],
  ['hex', binary], ['latin1', binary], ['ascii', binary],
];
for (const t of tricky) streams.push(['utf8', t]);
emit('local STREAMS = {');
for (const [enc, b] of streams) {
  const buf = H(b);
  emit(`  {enc = ${q(enc)}, input = ${q(b)},`);
  emit(`    whole = {${feed(enc, [buf]).map(q).join(', ')}},`);
  const splits = [];
  for (let k = 1; k < buf.length; k++) {
    splits.push(`{${feed(enc, [buf.subarray(0, k), buf.subarray(k)])
      .map(q).join(', ')}}`);
  }
  emit(`    splits = {${splits.join(',\n      ')}},`);
  const bytes = [];
  for (let k = 0; k < buf.length; k++) bytes.push(buf.subarray(k, k + 1));
  emit(`    bytes = {${feed(enc, bytes).map(q).join(', ')}}},`);
}
emit('}');
console.log(`-- generated by spec/node/encoding_cases.js (node ${process.version})`);
console.log(out.join('\n'));
