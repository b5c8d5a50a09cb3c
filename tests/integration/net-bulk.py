# SPDX-License-Identifier: Apache-2.0
#
# The host's side of the Linux guest's bulk network tests (linux-virtio.sh
# over slirp, linux-net-tap.sh over a tap): serves MIB MiB of random bytes
# on ADDR:SRC_PORT, takes them back on ADDR:SNK_PORT, and writes both
# hashes and the length that came back to RESULT, and how long each way
# took from its connection to its last byte (a diagnostic):
#
#   python3 net-bulk.py ADDR SRC_PORT SNK_PORT MIB RESULT
import hashlib, os, socket, sys, time

addr, src_port, snk_port, mib, result = sys.argv[1:6]
data = os.urandom(int(mib) << 20)
src = socket.socket(); src.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
src.bind((addr, int(src_port))); src.listen(1); src.settimeout(900)
snk = socket.socket(); snk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
snk.bind((addr, int(snk_port))); snk.listen(1); snk.settimeout(900)
c, _ = src.accept(); t0 = time.monotonic(); c.sendall(data); c.shutdown(socket.SHUT_WR)
c.recv(1); to_guest = time.monotonic() - t0; c.close()
c, _ = snk.accept(); t0 = time.monotonic(); back = b""
while True:
    d = c.recv(1 << 20)
    if not d:
        break
    back += d
from_guest = time.monotonic() - t0
open(result, "w").write("sent %s\nback %s %d\ntook %.3f s to the guest, %.3f s back\n" % (
    hashlib.sha256(data).hexdigest(), hashlib.sha256(back).hexdigest(), len(back), to_guest,
    from_guest))
