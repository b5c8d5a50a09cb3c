#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed programs of tests/fuzz/fuzz_devices.c into
tests/fuzz/corpus/devices: a guest driver's way into each device (PCI
enumeration, BAR sizing, virtio feature negotiation, queue set-up,
DRIVER_OK and a kick with a real request; UART, RTC, fw_cfg, i8042, ACPI
PM, edu DMA; VT-d root/context/page tables, queued invalidation and
interrupt remapping), so that the fuzzer starts from deep states.

The byte format is fuzz_devices.c's; keep the two in step. Slots follow the
order fuzz_devices.c registers devices in: 0 host bridge, 1 pci-testdev,
2 edu, 3 virtio-blk, 4 rng, 5 console, 6 net, 7 balloon, 8 vsock.
"""
import os
import struct
import sys

OP_PIO_WRITE, OP_PIO_READ, OP_MMIO_WRITE, OP_MMIO_READ, OP_CFG_WRITE, OP_CFG_READ, \
    OP_RAM_WRITE, OP_POLL, OP_HOST_INPUT, OP_CAP_WRITE, OP_CAP_READ = range(11)
CAP_MSI, CAP_VENDOR, CAP_MSIX = 0x05, 0x09, 0x11
FLAG_IOMMU, FLAG_INTREMAP, FLAG_DISK_THREADS = 1, 2, 4
SIZE = {1: 0, 2: 1, 4: 2, 8: 3}
SLOT_PCI_TESTDEV, SLOT_EDU, SLOT_BLK, SLOT_RNG, SLOT_CONSOLE, SLOT_NET, SLOT_BALLOON, \
    SLOT_VSOCK = range(1, 9)
WIN_VTD, WIN_TESTDEV = 0, 1

# virtio_pci_common_cfg fields and the BAR layout virtio_pci.c uses.
DFSEL, DF, GFSEL, GF, MSIX_CFG, NUM_Q, STATUS, CFG_GEN, Q_SEL, Q_SIZE, Q_MSIX, Q_ENABLE, \
    Q_NOFF, Q_DESC, Q_DRIVER, Q_DEVICE = 0, 4, 8, 0xc, 0x10, 0x12, 0x14, 0x15, 0x16, 0x18, \
    0x1a, 0x1c, 0x1e, 0x20, 0x28, 0x30
ISR_OFF, DEVICE_OFF, NOTIFY_OFF, NOTIFY_MULT = 0x1000, 0x2000, 0x3000, 4
MSIX_TABLE_OFF, MSIX_PBA_OFF = 0x4000, 0x5000
VRING_DESC_F_NEXT, VRING_DESC_F_WRITE = 1, 2


def le(v, n):
    return (v & ((1 << (8 * n)) - 1)).to_bytes(n, 'little')


class Prog:
    def __init__(self, flags=0):
        self.b = bytearray([flags])

    def pio_w(self, port, size, v):
        self.b += bytes([OP_PIO_WRITE]) + le(port, 2) + bytes([SIZE[size]]) + le(v, size)

    def pio_r(self, port, size=1):
        self.b += bytes([OP_PIO_READ]) + le(port, 2) + bytes([SIZE[size]])

    def bar_w(self, slot, bar, off, size, v):
        self.b += bytes([OP_MMIO_WRITE, 0, slot, bar]) + le(off, 4) + bytes([SIZE[size]]) + le(v, size)

    def bar_r(self, slot, bar, off, size):
        self.b += bytes([OP_MMIO_READ, 0, slot, bar]) + le(off, 4) + bytes([SIZE[size]])

    def win_w(self, win, off, size, v):
        self.b += bytes([OP_MMIO_WRITE, 1, win]) + le(off, 4) + bytes([SIZE[size]]) + le(v, size)

    def win_r(self, win, off, size):
        self.b += bytes([OP_MMIO_READ, 1, win]) + le(off, 4) + bytes([SIZE[size]])

    def cfg_w(self, slot, reg, size, v, fn=0):
        self.b += bytes([OP_CFG_WRITE, slot, fn, reg, SIZE[size]]) + le(v, size)

    def cfg_r(self, slot, reg, size=4, fn=0):
        self.b += bytes([OP_CFG_READ, slot, fn, reg, SIZE[size]])

    def cap_w(self, slot, cap, nth, off, size, v):
        self.b += bytes([OP_CAP_WRITE, slot, cap, nth, off, SIZE[size]]) + le(v, size)

    def cap_r(self, slot, cap, nth, off, size=4):
        self.b += bytes([OP_CAP_READ, slot, cap, nth, off, SIZE[size]])

    def ram(self, gpa, data):
        for i in range(0, len(data), 256):
            chunk = data[i:i + 256]
            self.b += bytes([OP_RAM_WRITE]) + le(gpa + i, 4) + bytes([len(chunk) - 1]) + chunk

    def poll(self):
        self.b += bytes([OP_POLL])

    def host(self, target, data):
        self.b += bytes([OP_HOST_INPUT, target, len(data) - 1]) + data


def enumerate_bus(p):
    """What firmware and an OS do first: IDs, class, header type, BAR sizing."""
    for slot in range(10):
        p.cfg_r(slot, 0x00)
        p.cfg_r(slot, 0x08)
        p.cfg_r(slot, 0x0c)
    for slot in (SLOT_PCI_TESTDEV, SLOT_EDU, SLOT_BLK):
        for bar in range(2):
            reg = 0x10 + 4 * bar
            p.cfg_r(slot, reg)
            p.cfg_w(slot, reg, 4, 0xffffffff)
            p.cfg_r(slot, reg)
        p.cfg_r(slot, 0x34, 1)    # capability pointer
        p.cfg_r(slot, 0x3c, 2)    # interrupt line and pin


def virtio_seed(slot, features_lo, queues, flags=0, msix=False):
    """Reset, ACK, DRIVER, features, FEATURES_OK, queues at 1 MiB + q * 64 KiB, DRIVER_OK."""
    p = Prog(flags)
    p.cfg_r(slot, 0x00)
    p.cfg_r(slot, 0x34, 1)
    p.cfg_w(slot, 0x04, 2, 0x06)    # memory space and bus mastering
    p.bar_w(slot, 0, STATUS, 1, 0)
    p.bar_w(slot, 0, STATUS, 1, 1)
    p.bar_w(slot, 0, STATUS, 1, 3)
    for sel in range(2):
        p.bar_w(slot, 0, DFSEL, 4, sel)
        p.bar_r(slot, 0, DF, 4)
    p.bar_w(slot, 0, GFSEL, 4, 1)
    p.bar_w(slot, 0, GF, 4, 1)      # VERSION_1
    p.bar_w(slot, 0, GFSEL, 4, 0)
    p.bar_w(slot, 0, GF, 4, features_lo)
    p.bar_w(slot, 0, STATUS, 1, 0xb)
    p.bar_r(slot, 0, STATUS, 1)
    if msix:
        # MSI-X on, vectors 0..queues at 0xfee00000 with data 0x40 + v, unmasked.
        p.cap_r(slot, CAP_MSIX, 0, 0)
        p.cap_w(slot, CAP_MSIX, 0, 2, 2, 0x8000)
        for v in range(queues + 1):
            p.bar_w(slot, 0, MSIX_TABLE_OFF + 16 * v, 8, 0xfee00000)
            p.bar_w(slot, 0, MSIX_TABLE_OFF + 16 * v + 8, 4, 0x40 + v)
            p.bar_w(slot, 0, MSIX_TABLE_OFF + 16 * v + 12, 4, 0)
    p.bar_r(slot, 0, NUM_Q, 2)
    p.bar_w(slot, 0, MSIX_CFG, 2, 0 if msix else 0xffff)
    for q in range(queues):
        base = 0x100000 + q * 0x10000
        p.bar_w(slot, 0, Q_SEL, 2, q)
        p.bar_r(slot, 0, Q_SIZE, 2)
        p.bar_w(slot, 0, Q_SIZE, 2, 16)
        p.bar_w(slot, 0, Q_MSIX, 2, q + 1 if msix else 0xffff)
        p.bar_w(slot, 0, Q_DESC, 8, base)
        p.bar_w(slot, 0, Q_DRIVER, 8, base + 0x1000)
        p.bar_w(slot, 0, Q_DEVICE, 8, base + 0x2000)
        p.bar_r(slot, 0, Q_NOFF, 2)
        p.bar_w(slot, 0, Q_ENABLE, 2, 1)
    p.bar_w(slot, 0, STATUS, 1, 0xf)
    p.bar_r(slot, 0, DEVICE_OFF, 4)
    return p


def post(p, slot, q, chain, avail_idx=1, kick=True):
    """chain: [(gpa, len, writable)]; written as descriptors 0.. of queue q and published."""
    base = 0x100000 + q * 0x10000
    table = b''
    for i, (gpa, ln, wr) in enumerate(chain):
        fl = (VRING_DESC_F_NEXT if i + 1 < len(chain) else 0) | (VRING_DESC_F_WRITE if wr else 0)
        table += struct.pack('<QIHH', gpa, ln, fl, i + 1 if i + 1 < len(chain) else 0)
    p.ram(base, table)
    # avail: flags, idx, ring[avail_idx - 1] = head 0
    p.ram(base + 0x1000, struct.pack('<HH', 0, avail_idx))
    if kick:
        p.bar_w(slot, 0, NOTIFY_OFF + q * NOTIFY_MULT, 2, q)
        p.poll()
        p.bar_r(slot, 0, ISR_OFF, 1)


BUF = 0x200000    # request buffers live from 2 MiB


def blk_seeds():
    out = {}
    for name, typ, flags in (('virtio-blk-read', 0, 0), ('virtio-blk-write', 1, FLAG_DISK_THREADS),
                             ('virtio-blk-getid', 8, 0), ('virtio-blk-flush', 4, 0)):
        p = virtio_seed(SLOT_BLK, 1 << 28 | 1 << 29, 1, flags)
        p.ram(BUF, struct.pack('<IIQ', typ, 0, 1))
        p.ram(BUF + 0x100, b'kiln' * 128)
        data_wr = typ != 1
        chain = [(BUF, 16, False)]
        if typ != 4:
            chain.append((BUF + 0x100, 512, data_wr))
        chain.append((BUF + 0x400, 1, True))
        post(p, SLOT_BLK, 0, chain)
        p.bar_r(SLOT_BLK, 0, DEVICE_OFF, 8)    # capacity
        out[name] = p
    # DISCARD (11) and WRITE_ZEROES with UNMAP (13): one segment each.
    p = virtio_seed(SLOT_BLK, 1 << 13 | 1 << 14, 1)
    for i, (typ, seg) in enumerate(((11, struct.pack('<QII', 8, 16, 0)),
                                    (13, struct.pack('<QII', 0, 8, 1)))):
        p.ram(BUF, struct.pack('<IIQ', typ, 0, 0) + seg)
        post(p, SLOT_BLK, 0, [(BUF, 16, False), (BUF + 16, 16, False), (BUF + 0x400, 1, True)],
             avail_idx=i + 1)
    out['virtio-blk-discard-zeroes'] = p
    return out


def simple_virtio_seeds():
    out = {}
    p = virtio_seed(SLOT_RNG, 1 << 28, 1)
    post(p, SLOT_RNG, 0, [(BUF, 64, True)])
    out['virtio-rng'] = p

    # MSI-X, a masked vector's pending bit, and the pci_cfg window (the 5th vendor capability).
    p = virtio_seed(SLOT_RNG, 1 << 29, 1, msix=True)
    post(p, SLOT_RNG, 0, [(BUF, 32, True)])
    p.bar_w(SLOT_RNG, 0, MSIX_TABLE_OFF + 16 + 12, 4, 1)
    post(p, SLOT_RNG, 0, [(BUF, 32, True)], avail_idx=2)
    p.bar_r(SLOT_RNG, 0, MSIX_PBA_OFF, 8)
    p.bar_w(SLOT_RNG, 0, MSIX_TABLE_OFF + 16 + 12, 4, 0)
    p.cap_w(SLOT_RNG, CAP_MSIX, 0, 2, 2, 0xc000)           # function mask
    p.cap_w(SLOT_RNG, CAP_MSIX, 0, 2, 2, 0x8000)
    for nth in range(5):
        p.cap_r(SLOT_RNG, CAP_VENDOR, nth, 3, 1)             # cfg_type
    p.cap_w(SLOT_RNG, CAP_VENDOR, 4, 4, 1, 0)                # bar 0
    p.cap_w(SLOT_RNG, CAP_VENDOR, 4, 8, 4, STATUS)
    p.cap_w(SLOT_RNG, CAP_VENDOR, 4, 12, 4, 1)
    p.cap_r(SLOT_RNG, CAP_VENDOR, 4, 16, 1)
    p.cap_w(SLOT_RNG, CAP_VENDOR, 4, 16, 1, 0)               # a reset through the window
    out['virtio-rng-msix'] = p

    p = virtio_seed(SLOT_CONSOLE, 1 << 29, 2)
    p.ram(BUF, b'hello from the guest\n')
    post(p, SLOT_CONSOLE, 1, [(BUF, 21, False)])
    post(p, SLOT_CONSOLE, 0, [(BUF + 0x100, 128, True)])
    p.host(1, b'typed on the host\n')
    p.poll()
    out['virtio-console'] = p

    p = virtio_seed(SLOT_NET, 1 << 5 | 1 << 16, 2)    # MAC, STATUS
    frame = bytes(12) + bytes([0xff] * 6) + bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56]) + \
        b'\x08\x06' + bytes(46)
    p.ram(BUF, frame)
    post(p, SLOT_NET, 1, [(BUF, len(frame), False)])
    post(p, SLOT_NET, 0, [(BUF + 0x1000, 1526, True)])
    p.host(2, bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56]) + bytes(6) + b'\x08\x00' + bytes(50))
    p.bar_r(SLOT_NET, 0, DEVICE_OFF, 8)    # MAC
    out['virtio-net'] = p

    # Checksum offload both ways: NEEDS_CSUM on a UDP frame, then a frame in.
    p = virtio_seed(SLOT_NET, 1 << 0 | 1 << 1 | 1 << 5, 2)
    hdr = struct.pack('<BBHHHHH', 1, 0, 0, 0, 34, 6, 1)
    udp = bytes([0x45, 0, 0, 28 + 8, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 2, 15, 10, 0, 2, 2]) + \
        struct.pack('>HHHH', 1234, 53, 16, 0) + b'fuzzfuzz'
    frame = hdr + bytes([0x52, 0x54, 0, 0x12, 0x34, 0x57]) + bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56]) + \
        b'\x08\x00' + udp
    p.ram(BUF, frame)
    post(p, SLOT_NET, 1, [(BUF, 12, False), (BUF + 12, len(frame) - 12, False)])
    post(p, SLOT_NET, 0, [(BUF + 0x1000, 1526, True)])
    p.host(2, bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56]) + bytes(6) + b'\x08\x00' + udp)
    p.poll()
    out['virtio-net-csum'] = p

    p = virtio_seed(SLOT_BALLOON, 0, 2)
    p.bar_r(SLOT_BALLOON, 0, DEVICE_OFF, 4)    # num_pages
    p.ram(BUF, struct.pack('<4I', 0x300, 0x301, 0x302, 0x3ff))
    post(p, SLOT_BALLOON, 0, [(BUF, 16, False)])
    p.bar_w(SLOT_BALLOON, 0, DEVICE_OFF + 4, 4, 4)    # actual
    post(p, SLOT_BALLOON, 1, [(BUF, 8, False)])
    out['virtio-balloon'] = p

    p = virtio_seed(SLOT_BALLOON, 1 << 1 | 1 << 2 | 1 << 5, 4)    # STATS, OOM, REPORTING
    post(p, SLOT_BALLOON, 2, [(BUF, 60, False)])
    post(p, SLOT_BALLOON, 3, [(0x300000, 0x10000, True)])
    out['virtio-balloon-stats-report'] = p

    p = virtio_seed(SLOT_VSOCK, 1 << 29, 3)
    p.bar_r(SLOT_VSOCK, 0, DEVICE_OFF, 8)    # guest CID
    for i in range(4):
        p.ram(0x100000 + 16 * i, struct.pack('<QIHH', BUF + 0x1000 * (i + 1), 4096, 2, 0))
    p.ram(0x101000, struct.pack('<HH4H', 0, 4, 0, 1, 2, 3))
    p.bar_w(SLOT_VSOCK, 0, NOTIFY_OFF, 2, 0)
    # REQUEST to host port 1 (a listener), then data.
    hdr = struct.pack('<QQIIIHHIII', 3, 2, 1234, 1, 0, 1, 1, 0, 65536, 0)
    p.ram(BUF, hdr)
    post(p, SLOT_VSOCK, 1, [(BUF, 44, False)])
    p.poll()
    p.ram(BUF + 0x100, struct.pack('<QQIIIHHIII', 3, 2, 1234, 1, 5, 1, 5, 0, 65536, 0) + b'hello')
    post(p, SLOT_VSOCK, 1, [(BUF + 0x100, 49, False)], avail_idx=2)
    p.poll()
    # Credit request and update, shutdown both ways, then a reset.
    for i, op in enumerate((7, 6, 4, 3)):
        p.ram(BUF + 0x200, struct.pack('<QQIIIHHIII', 3, 2, 1234, 1, 0, 1, op,
                                       3 if op == 4 else 0, 65536, 5))
        post(p, SLOT_VSOCK, 1, [(BUF + 0x200, 44, False)], avail_idx=3 + i)
        p.poll()
    out['virtio-vsock'] = p
    return out


def uart_seed():
    p = Prog()
    com = 0x3f8
    p.pio_w(com + 3, 1, 0x80)    # DLAB
    p.pio_w(com + 0, 1, 1)
    p.pio_w(com + 1, 1, 0)
    p.pio_w(com + 3, 1, 0x03)    # 8n1
    p.pio_w(com + 2, 1, 0xc7)    # FIFO on, both cleared, trigger 14
    p.pio_w(com + 1, 1, 0x0f)
    p.pio_w(com + 4, 1, 0x0b)    # DTR, RTS, OUT2
    for c in b'boot\r\n':
        p.pio_w(com, 1, c)
    p.pio_r(com + 5)
    p.host(0, b'0123456789abcdefXYZ')
    p.pio_r(com + 2)
    for _ in range(18):
        p.pio_r(com + 5)
        p.pio_r(com)
    p.pio_w(com + 4, 1, 0x1f)    # loopback
    p.pio_w(com, 1, 0x55)
    p.pio_r(com)
    p.pio_r(com + 6)
    p.pio_w(com + 7, 1, 0xa5)
    p.pio_r(com + 7)
    return p


def rtc_seed():
    p = Prog()
    for idx in list(range(0x0e)) + [0x32, 0x7f]:
        p.pio_w(0x70, 1, idx)
        p.pio_r(0x71)
    p.pio_w(0x70, 1, 0x0b)
    p.pio_w(0x71, 1, 0x86)    # SET, binary, 24h
    for idx, v in ((0, 30), (2, 59), (4, 23), (7, 31), (8, 12), (9, 99)):
        p.pio_w(0x70, 1, idx)
        p.pio_w(0x71, 1, v)
    p.pio_w(0x70, 1, 0x0a)
    p.pio_w(0x71, 1, 0x26)
    p.pio_w(0x70, 1, 0x0b)
    p.pio_w(0x71, 1, 0x72)    # periodic, alarm, update-ended interrupts
    p.poll()
    p.pio_w(0x70, 1, 0x8c)    # register C, NMI off
    p.pio_r(0x71)
    return p


def fw_cfg_seed():
    p = Prog()
    for key in (0x00, 0x01, 0x03, 0x05, 0x0f, 0x19, 0x8002, 0x4000):
        p.pio_w(0x510, 2, key)
        for _ in range(9):
            p.pio_r(0x511)
    p.pio_w(0x511, 1, 0x42)
    # QEMU's DMA interface (address register at 0x514); Kiln has none.
    p.ram(0x3000, struct.pack('>IIQ', 0x2 | (0x19 << 16), 64, 0x3100))
    p.pio_w(0x514, 4, 0)
    p.pio_w(0x518, 4, 0x00300000)
    p.pio_r(0x514, 4)
    return p


def i8042_acpi_seed():
    p = Prog()
    for cmd, data in ((0x20, None), (0x60, 0x47), (0xa8, None), (0xd4, 0xf4), (0xaa, None),
                      (0xab, None), (0xd2, 0x1c), (0xd3, 0x99), (0xa7, None)):
        p.pio_w(0x64, 1, cmd)
        if data is not None:
            p.pio_w(0x60, 1, data)
        p.pio_r(0x64)
        p.pio_r(0x60)
    p.pio_w(0x60, 1, 0xff)
    p.pio_r(0x60)
    p.pio_r(0x600 + 8, 4)         # PM timer
    p.pio_w(0x600 + 2, 2, 0x121)  # PM1_EN
    p.pio_w(0x600 + 4, 2, 1)      # SCI_EN
    p.pio_w(0x600, 2, 0xffff)     # clear status
    p.pio_r(0x600, 4)
    p.pio_w(0xcf9, 1, 0x02)       # reset control, no reset
    p.pio_r(0xcf9)
    p.pio_w(0xe0, 4, 0x12345678)
    p.pio_r(0xe8, 1)
    p.pio_w(0x2000 + 5, 1, 1)
    p.pio_w(0x2000 + 5, 1, 0)
    p.win_w(WIN_TESTDEV, 0x100, 8, 0x1122334455667788)
    p.win_r(WIN_TESTDEV, 0x104, 2)
    return p


def pci_seed():
    p = Prog()
    enumerate_bus(p)
    # The OS moves edu's BAR and turns I/O off and on.
    p.cfg_w(SLOT_EDU, 0x10, 4, 0xd0000000)
    p.cfg_w(SLOT_EDU, 0x04, 2, 0x0000)
    p.cfg_w(SLOT_EDU, 0x04, 2, 0x0007)
    p.bar_r(SLOT_EDU, 0, 0, 4)
    p.bar_w(SLOT_PCI_TESTDEV, 0, 0, 4, 1)
    p.bar_r(SLOT_PCI_TESTDEV, 0, 0, 4)
    p.bar_w(SLOT_PCI_TESTDEV, 1, 0, 1, 1)
    p.cfg_r(0, 0, 4, fn=1)
    p.cfg_w(SLOT_BLK, 0x3c, 1, 11)
    return p


def edu_program(p, src, dst, msi=False):
    if msi:
        cap = 0x40
        p.cfg_r(SLOT_EDU, 0x34, 1)
        p.cfg_w(SLOT_EDU, cap + 4, 4, 0xfee00000)
        p.cfg_w(SLOT_EDU, cap + 8, 4, 0)
        p.cfg_w(SLOT_EDU, cap + 12, 2, 0x41)
        p.cfg_w(SLOT_EDU, cap + 2, 2, 1)
    p.cfg_w(SLOT_EDU, 0x04, 2, 0x0006)
    p.bar_r(SLOT_EDU, 0, 0x00, 4)
    p.bar_w(SLOT_EDU, 0, 0x04, 4, 0x12345678)
    p.bar_r(SLOT_EDU, 0, 0x04, 4)
    p.bar_w(SLOT_EDU, 0, 0x20, 4, 0x80)
    p.bar_w(SLOT_EDU, 0, 0x08, 4, 10)
    p.bar_r(SLOT_EDU, 0, 0x08, 4)
    p.bar_r(SLOT_EDU, 0, 0x24, 4)
    p.bar_w(SLOT_EDU, 0, 0x64, 4, 1)
    p.ram(src, b'DMA to the device ' * 4)
    p.bar_w(SLOT_EDU, 0, 0x80, 8, src)
    p.bar_w(SLOT_EDU, 0, 0x88, 8, 0x40000)
    p.bar_w(SLOT_EDU, 0, 0x90, 8, 72)
    p.bar_w(SLOT_EDU, 0, 0x98, 8, 5)
    p.bar_r(SLOT_EDU, 0, 0x98, 8)
    p.bar_w(SLOT_EDU, 0, 0x80, 8, 0x40000)
    p.bar_w(SLOT_EDU, 0, 0x88, 8, dst)
    p.bar_w(SLOT_EDU, 0, 0x90, 8, 72)
    p.bar_w(SLOT_EDU, 0, 0x98, 8, 7)
    p.bar_w(SLOT_EDU, 0, 0x60, 4, 0x42)
    p.bar_r(SLOT_EDU, 0, 0x24, 4)
    p.bar_w(SLOT_EDU, 0, 0x64, 4, 0x142)


def edu_seed():
    p = Prog()
    edu_program(p, 0x1000, 0x2000)
    return p


def vtd_seed(intremap):
    """Root table at 0x10000, edu's context entry, 3-level tables mapping iova 0-64 KiB."""
    p = Prog(FLAG_IOMMU | (FLAG_INTREMAP if intremap else 0))
    root, ctx, l3, l2, l1, iq, irt = 0x10000, 0x11000, 0x12000, 0x13000, 0x14000, 0x15000, 0x16000
    p.ram(root, struct.pack('<QQ', ctx | 1, 0))
    devfn = SLOT_EDU << 3
    p.ram(ctx + 16 * devfn, struct.pack('<QQ', l3 | 1, 1 | 1 << 8))    # AW 39-bit, domain 1
    p.ram(l3, struct.pack('<Q', l2 | 3))
    p.ram(l2, struct.pack('<Q', l1 | 3))
    p.ram(l1, b''.join(struct.pack('<Q', (0x20000 + 0x1000 * i) | 3) for i in range(16)))
    p.win_r(WIN_VTD, 0x00, 4)
    p.win_r(WIN_VTD, 0x08, 8)
    p.win_r(WIN_VTD, 0x10, 8)
    p.win_w(WIN_VTD, 0x20, 8, root)
    p.win_w(WIN_VTD, 0x18, 4, 1 << 30)                      # SRTP
    p.win_r(WIN_VTD, 0x1c, 4)
    p.win_w(WIN_VTD, 0x28, 8, 1 << 63 | 1 << 61)            # global context invalidation
    p.win_w(WIN_VTD, 0x208, 8, 1 << 63 | 1 << 60)           # global IOTLB invalidation
    p.win_w(WIN_VTD, 0x18, 4, 1 << 31)                      # TE
    edu_program(p, 0x1000, 0x2000, msi=True)
    p.win_r(WIN_VTD, 0x34, 4)
    p.win_r(WIN_VTD, 0x228, 8)                              # fault record
    p.win_w(WIN_VTD, 0x38, 4, 0)                            # fault events unmasked
    p.win_w(WIN_VTD, 0x3c, 4, 0x30)
    p.win_w(WIN_VTD, 0x40, 4, 0xfee00000)
    p.bar_w(SLOT_EDU, 0, 0x80, 8, 0x800000)                 # unmapped iova: a fault
    p.bar_w(SLOT_EDU, 0, 0x88, 8, 0x40000)
    p.bar_w(SLOT_EDU, 0, 0x90, 8, 16)
    p.bar_w(SLOT_EDU, 0, 0x98, 8, 1)
    p.win_r(WIN_VTD, 0x34, 4)
    p.win_w(WIN_VTD, 0x34, 4, 0xff)
    # Queued invalidation: a context, an IOTLB and a wait descriptor with a status write.
    p.ram(iq, struct.pack('<QQ', 1 | 1 << 4, 0) + struct.pack('<QQ', 2 | 1 << 4, 0) +
          struct.pack('<QQ', 5 | 1 << 5 | 0xabcd << 32, 0x3000))
    p.win_w(WIN_VTD, 0x90, 8, iq)
    p.win_w(WIN_VTD, 0x18, 4, 1 << 31 | 1 << 26)            # TE | QIE
    p.win_w(WIN_VTD, 0x88, 8, 3 << 4)
    p.win_r(WIN_VTD, 0x80, 8)
    p.win_r(WIN_VTD, 0x9c, 4)
    if intremap:
        # IRTE 0: present, fixed, vector 0x41 to APIC 0; edu's MSI in remappable format.
        p.ram(irt, struct.pack('<QQ', 1 | 0x41 << 16, 0x40000 | SLOT_EDU << 3))
        p.win_w(WIN_VTD, 0xb8, 8, irt | 3)
        p.win_w(WIN_VTD, 0x18, 4, 1 << 31 | 1 << 26 | 1 << 24)    # SIRTP
        p.win_w(WIN_VTD, 0x18, 4, 1 << 31 | 1 << 26 | 1 << 25)    # IRE
        p.cfg_w(SLOT_EDU, 0x44, 4, 0xfee00000 | 1 << 4 | 1 << 3)  # handle 0, SHV
        p.cfg_w(SLOT_EDU, 0x4c, 2, 0)
        p.bar_w(SLOT_EDU, 0, 0x60, 4, 1)
        p.bar_w(SLOT_EDU, 0, 0x64, 4, 1)
        p.ram(iq + 0x30, struct.pack('<QQ', 4 | 1 << 4, 0))     # IEC invalidation
        p.win_w(WIN_VTD, 0x88, 8, 4 << 4)
    return p


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'devices')
    os.makedirs(out_dir, exist_ok=True)
    seeds = {'uart': uart_seed(), 'rtc': rtc_seed(), 'fw-cfg': fw_cfg_seed(),
             'i8042-acpi-testdev': i8042_acpi_seed(), 'pci-enumerate': pci_seed(),
             'edu-dma': edu_seed(), 'vtd-dma': vtd_seed(False), 'vtd-intremap': vtd_seed(True)}
    seeds.update(blk_seeds())
    seeds.update(simple_virtio_seeds())
    for name, p in sorted(seeds.items()):
        with open(os.path.join(out_dir, 'seed-' + name), 'wb') as f:
            f.write(bytes(p.b))
        print(f'{name}: {len(p.b)} bytes')


if __name__ == '__main__':
    main()
