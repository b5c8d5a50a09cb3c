#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the whole-machine device libFuzzer target (tests/fuzz/fuzz_devices.c:
# port I/O, MMIO, PCI config and guest RAM to every device a guest reaches)
# and runs it for a bounded time from the seed corpus. Prints TAP.
#
# Environment: BUILD (default build), FUZZ_SECONDS (default 30).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/fuzz-lib.sh
fuzz_suite fuzz-devices fuzz_devices devices 8192 "port I/O, MMIO and PCI config to every device"
