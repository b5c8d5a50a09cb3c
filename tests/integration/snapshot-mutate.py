#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a mutated copy of a Kiln snapshot whose CRCs are all correct.

snapshot-mutate.py IN OUT SEED: picks one section (never "ram" or "end"),
changes a few of its payload bytes (random values, 0, 0xff, or +-1),
recomputes that section's CRC-32C, and prints the section's name. The
result passes every integrity check, so what it exercises is how each
device's load callback checks the values it reads (docs/SNAPSHOT.md).
"""
import random
import struct
import sys


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def sections(buf):
    off = struct.unpack_from("<I", buf, 12)[0]
    while off + 40 <= len(buf):
        name = buf[off:off + 32].split(b"\0")[0].decode()
        length = struct.unpack_from("<Q", buf, off + 32)[0]
        yield name, off, length
        off += 40 + length + 4


def main():
    src, dst, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rnd = random.Random(seed)
    buf = bytearray(open(src, "rb").read())
    cands = [s for s in sections(buf) if s[0] not in ("ram", "end") and s[2]]
    name, off, length = rnd.choice(cands)
    payload = off + 40
    for _ in range(rnd.randint(1, 4)):
        i = payload + rnd.randrange(length)
        buf[i] = rnd.choice([rnd.randrange(256), 0, 0xFF, (buf[i] + 1) & 0xFF,
                             (buf[i] - 1) & 0xFF])
    crc = crc32c(bytes(buf[off:payload + length]))
    struct.pack_into("<I", buf, payload + length, crc)
    open(dst, "wb").write(buf)
    print(name)


main()
