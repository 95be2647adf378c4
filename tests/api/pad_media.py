#!/usr/bin/env python3
"""pad_media.py - grow a real media file to an exact byte size and keep it valid.

Usage: pad_media.py IN OUT SIZE

The upload tests need files of exactly a kind's limit (10, 15, 50 MiB) that
are still what they claim to be, so the padding goes where each format
allows filler that players skip:
  PNG   an ancillary private chunk "hhPd" before IEND (CRC included)
  JPEG  COM segments right after SOI
  RIFF  (WebP, WAVE) a "JUNK" chunk at the end, RIFF size updated
  ISO BMFF (MP4, QuickTime) a top-level "free" box at the end
  EBML  (WebM) a top-level Void element at the end
  MP3   zero padding inside the ID3v2 tag (the tag size updated)
The format is recognised from the file's own magic bytes.
"""
import struct
import sys
import zlib


def png(data, extra):
    if extra < 12:
        raise ValueError("PNG needs at least 12 bytes of padding")
    iend = data.rindex(b"IEND") - 4
    body = b"\0" * (extra - 12)
    chunk = struct.pack(">I", len(body)) + b"hhPd" + body
    chunk += struct.pack(">I", zlib.crc32(b"hhPd" + body) & 0xFFFFFFFF)
    return data[:iend] + chunk + data[iend:]


def jpeg(data, extra):
    segs = []
    while extra > 0:
        n = min(extra, 65537)  # a COM segment is 4..65537 bytes
        if 0 < extra - n < 4:
            n -= 4
        if n < 4:
            raise ValueError("JPEG needs at least 4 bytes of padding")
        segs.append(b"\xff\xfe" + struct.pack(">H", n - 2) + b"\0" * (n - 4))
        extra -= n
    return data[:2] + b"".join(segs) + data[2:]


def riff(data, extra):
    if extra < 8:
        raise ValueError("RIFF needs at least 8 bytes of padding")
    n = extra - 8
    pad = n % 2  # chunks are word-aligned: an odd body is followed by a pad byte
    chunk = b"JUNK" + struct.pack("<I", n - pad) + b"\0" * n
    out = data + chunk
    return out[:4] + struct.pack("<I", len(out) - 8) + out[8:]


def bmff(data, extra):
    if extra < 8:
        raise ValueError("MP4 needs at least 8 bytes of padding")
    return data + struct.pack(">I", extra) + b"free" + b"\0" * (extra - 8)


def ebml(data, extra):
    if extra < 9:
        raise ValueError("WebM needs at least 9 bytes of padding")
    # Void (0xEC) with an 8-byte size field: 0x01 marker then 7 bytes.
    size = extra - 9
    return data + b"\xec\x01" + size.to_bytes(7, "big") + b"\0" * size


def mp3(data, extra):
    if data[:3] != b"ID3":
        raise ValueError("MP3 padding needs an ID3v2 tag")
    s = data[6:10]
    old = (s[0] << 21) | (s[1] << 14) | (s[2] << 7) | s[3]
    new = old + extra
    syncsafe = bytes([(new >> 21) & 0x7F, (new >> 14) & 0x7F, (new >> 7) & 0x7F, new & 0x7F])
    end = 10 + old
    return data[:6] + syncsafe + data[10:end] + b"\0" * extra + data[end:]


def main():
    src, dst, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = open(src, "rb").read()
    extra = size - len(data)
    if extra < 0:
        raise SystemExit(f"{src} is already {len(data)} bytes, more than {size}")
    if extra == 0:
        out = data
    elif data[:8] == b"\x89PNG\r\n\x1a\n":
        out = png(data, extra)
    elif data[:3] == b"\xff\xd8\xff":
        out = jpeg(data, extra)
    elif data[:4] == b"RIFF":
        out = riff(data, extra)
    elif data[4:8] == b"ftyp":
        out = bmff(data, extra)
    elif data[:4] == b"\x1a\x45\xdf\xa3":
        out = ebml(data, extra)
    elif data[:3] == b"ID3":
        out = mp3(data, extra)
    else:
        raise SystemExit(f"{src}: unknown format")
    assert len(out) == size, (len(out), size)
    open(dst, "wb").write(out)


if __name__ == "__main__":
    main()
