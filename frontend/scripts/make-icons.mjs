// Writes the PWA icons into public/icons/ without any image library: a tiny PNG encoder
// (zlib + CRC32 from Node) and a 5x7 bitmap font for the letters "CR".
// Run with `npm run icons`; the output is committed so builds need nothing extra.
import { deflateSync } from "node:zlib";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "public", "icons");
mkdirSync(out, { recursive: true });

const BG = [0x0b, 0x4f, 0x6c]; // deep teal, 8.9:1 against white
const FG = [0xff, 0xff, 0xff];

const GLYPHS = {
  C: ["01110", "10001", "10000", "10000", "10000", "10001", "01110"],
  R: ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
};

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** size: pixels; safe: fraction of the canvas the letters may use (maskable icons need 0.8 safe zone). */
function icon(size, { safe, rounded }) {
  const px = Buffer.alloc(size * size * 4);
  const text = "CR";
  const cols = text.length * 5 + (text.length - 1); // one column gap
  const cell = Math.floor((size * safe * 0.75) / cols);
  const w = cols * cell;
  const h = 7 * cell;
  const x0 = Math.floor((size - w) / 2);
  const y0 = Math.floor((size - h) / 2);
  const radius = rounded ? size * 0.18 : 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      let inside = true;
      if (radius) {
        const cx = x < radius ? radius : x > size - radius ? size - radius : x;
        const cy = y < radius ? radius : y > size - radius ? size - radius : y;
        inside = (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
      }
      let color = BG;
      const gx = Math.floor((x - x0) / cell);
      const gy = Math.floor((y - y0) / cell);
      if (x >= x0 && y >= y0 && gx < cols && gy < 7) {
        const letter = Math.floor(gx / 6);
        const col = gx % 6;
        if (col < 5 && GLYPHS[text[letter]][gy][col] === "1") color = FG;
      }
      px[i] = color[0];
      px[i + 1] = color[1];
      px[i + 2] = color[2];
      px[i + 3] = inside ? 255 : 0;
    }
  }
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) px.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

writeFileSync(join(out, "icon-192.png"), icon(192, { safe: 1, rounded: true }));
writeFileSync(join(out, "icon-512.png"), icon(512, { safe: 1, rounded: true }));
writeFileSync(join(out, "maskable-512.png"), icon(512, { safe: 0.8, rounded: false }));
writeFileSync(join(out, "apple-touch-icon-180.png"), icon(180, { safe: 0.9, rounded: false }));
writeFileSync(
  join(out, "icon.svg"),
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" rx="92" fill="#0b4f6c"/>` +
    `<text x="256" y="330" font-family="system-ui,sans-serif" font-size="230" font-weight="700" text-anchor="middle" fill="#fff">CR</text></svg>\n`,
);
console.log("icons written to", out);
