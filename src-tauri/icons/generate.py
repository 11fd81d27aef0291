#!/usr/bin/env python3
# Regenerates the icons in this folder: python3 src-tauri/icons/generate.py
# Draws the Shelfmark icon (a bookmark ribbon on a rounded tile) as RGBA PNGs, no dependencies,
# and the same drawing as icon.svg (the package's scalable icon, see tauri.conf.json).
import os, struct, zlib

def png(w, h, rows):
    raw = b''.join(b'\x00' + bytes(r) for r in rows)
    def chunk(t, d):
        c = struct.pack('>I', len(d)) + t + d
        return c + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 6, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))

def inside_tile(x, y):  # unit coords 0..1, rounded square with margin
    m, r = 0.06, 0.18
    if x < m or x > 1 - m or y < m or y > 1 - m: return False
    cx = min(max(x, m + r), 1 - m - r); cy = min(max(y, m + r), 1 - m - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r

def inside_ribbon(x, y):  # bookmark with a V notch at the bottom
    l, rr, top, bot, notch = 0.34, 0.66, 0.0, 0.80, 0.14
    if x < l or x > rr or y < top or y > bot: return False
    # notch: triangle from (l,bot) to (0.5, bot-notch) to (rr,bot)
    d = abs(x - 0.5) / (0.5 - l)
    return y <= bot - notch * (1 - d)

def inside_shelf(x, y):
    return 0.18 <= x <= 0.82 and 0.84 <= y <= 0.88

def render(n, ss=4):
    tile = (0x2f, 0x5d, 0x8a); ribbon = (0xf2, 0xb1, 0x34); shelf = (0xf4, 0xf1, 0xea)
    rows = []
    for py in range(n):
        row = []
        for px in range(n):
            acc = [0, 0, 0, 0]
            for sy in range(ss):
                for sx in range(ss):
                    x = (px + (sx + 0.5) / ss) / n; y = (py + (sy + 0.5) / ss) / n
                    if not inside_tile(x, y): continue
                    c = ribbon if inside_ribbon(x, y) else shelf if inside_shelf(x, y) else tile
                    acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 1
            k = acc[3]
            if k == 0: row += [0, 0, 0, 0]
            else: row += [acc[0] // k, acc[1] // k, acc[2] // k, 255 * k // (ss * ss)]
        rows.append(row)
    return png(n, n, rows)

SVG = '''<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="512" height="512">
  <title>Shelfmark</title>
  <clipPath id="tile"><rect x="6" y="6" width="88" height="88" rx="18"/></clipPath>
  <rect x="6" y="6" width="88" height="88" rx="18" fill="#2f5d8a"/>
  <polygon points="34,0 66,0 66,80 50,66 34,80" fill="#f2b134" clip-path="url(#tile)"/>
  <rect x="18" y="84" width="64" height="4" fill="#f4f1ea"/>
</svg>
'''

HERE = os.path.dirname(os.path.abspath(__file__))
# The first PNG in tauri.conf.json's bundle.icon (32x32.png) is also the window's icon.
for name, n in [('32x32.png', 32), ('64x64.png', 64), ('128x128.png', 128), ('256x256.png', 256), ('icon.png', 512)]:
    with open(os.path.join(HERE, name), 'wb') as f: f.write(render(n, 4 if n <= 256 else 2))
with open(os.path.join(HERE, 'icon.svg'), 'w') as f: f.write(SVG)
