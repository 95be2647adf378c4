#!/usr/bin/env python3
"""corner_stats.py - measures the watermark corner of a video frame.

usage: corner_stats.py W H GRAY.raw [OTHER.raw]
GRAY.raw is one frame as 8-bit luma (ffmpeg -pix_fmt gray -f rawvideo).
Prints JSON: for the box where media_watermark draws (bottom right, the
same arithmetic as src/media/watermark.c) and for a box of the same size
in the top-left corner, the share of bright (>= 200) and dark (<= 60)
pixels and, with OTHER.raw, the mean absolute difference to that frame.
"""
import json
import sys


def box(w, h):
    side = min(w, h)
    s = max(2, side // 240)
    margin = side // 36
    bw, bh = 10 * 6 * s, 10 * s
    return w - margin - bw, h - margin - bh, bw, bh


def stats(a, b, w, x, y, bw, bh):
    bright = dark = diff = 0
    for j in range(y, y + bh):
        for i in range(x, x + bw):
            v = a[j * w + i]
            bright += v >= 200
            dark += v <= 60
            if b is not None:
                diff += abs(v - b[j * w + i])
    n = bw * bh
    out = {"bright": bright / n, "dark": dark / n}
    if b is not None:
        out["diff"] = diff / n
    return out


def main():
    w, h = int(sys.argv[1]), int(sys.argv[2])
    a = open(sys.argv[3], "rb").read()
    b = open(sys.argv[4], "rb").read() if len(sys.argv) > 4 else None
    if len(a) != w * h or (b is not None and len(b) != w * h):
        sys.exit("corner_stats: frame size mismatch")
    x, y, bw, bh = box(w, h)
    print(json.dumps({"mark": stats(a, b, w, x, y, bw, bh),
                      "other": stats(a, b, w, 0, 0, bw, bh)}))


main()
