#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the virtqueue walker + virtio-blk parser libFuzzer target
# (tests/fuzz/fuzz_virtqueue.c) and runs it for a bounded time from the
# seed corpus. Prints TAP.
#
# Environment: BUILD (default build), FUZZ_SECONDS (default 30).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/fuzz-lib.sh
fuzz_suite fuzz-virtio fuzz_virtqueue virtqueue 69648 "split-ring walker and blk parser"
