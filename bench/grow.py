#!/usr/bin/env python3
"""Grow a corpus of posts to N files by making varied copies (for benchmarks only).

Each copy gets a new file name, a shifted date, a different title suffix and a few body
characters changed, so that hashes, dates and n-grams differ the way a real archive's do.
usage: grow.py SRC_DIR DEST_DIR N
"""
import os
import random
import sys


def posts(src):
    out = []
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            if f.endswith(".md"):
                out.append(os.path.join(root, f))
    out.sort()
    return out


def main():
    src, dest, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = posts(src)
    if not files:
        sys.exit(f"no .md files under {src}")
    rnd = random.Random(42)
    words = "两岸 经济 疫苗 选举 气候 科技 教育 香港 台湾 美国 欧洲 市场 能源 安全 外交".split()
    os.makedirs(dest, exist_ok=True)
    for i in range(n):
        f = files[i % len(files)]
        gen = i // len(files)
        data = open(f, "rb").read()
        if gen > 0:
            text = data.decode("utf-8", "surrogateescape")
            w = rnd.choice(words)
            # Vary the title line and add a varied sentence at the end of the body.
            text = text.replace('title: "', f'title: "{w}{gen} ', 1)
            text += f"\n<p>{w}{rnd.randint(0, 99999)} copy {gen} {rnd.choice(words)}{rnd.choice(words)}</p>\n"
            data = text.encode("utf-8", "surrogateescape")
        rel = os.path.relpath(f, src)
        d, name = os.path.split(rel)
        out_dir = os.path.join(dest, f"g{gen:03d}", d)
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, name), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    main()
