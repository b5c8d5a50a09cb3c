#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/fuzz/fuzz_vsock.c for a bounded time: guest vsock packets against
# the device's connection state machine on real unix sockets, and the
# CONNECT line parser. Prints TAP.
#
# Environment: BUILD (default build), FUZZ_SECONDS (default 30).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/fuzz-lib.sh
fuzz_suite fuzz-vsock fuzz_vsock vsock 4096 "vsock packets and connections"
