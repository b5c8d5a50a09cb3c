#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the soft CPU's libFuzzer target (tests/fuzz/fuzz_soft_cpu.c:
# decoder at every offset, then the interpreter on a standalone CPU in
# 16-, 32- and 64-bit modes, and 64-bit blocks compiled to host code) and
# runs it for a bounded time from the seed corpus. Prints TAP.
#
# Environment: BUILD (default build), FUZZ_SECONDS (default 30).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/fuzz-lib.sh
fuzz_suite fuzz-soft fuzz_soft_cpu soft_cpu 64 "decoder and interpreter"
