#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the soft CPU decoder's libFuzzer target (tests/fuzz/fuzz_decoder.c:
# never past 15 bytes, never past the input, results independent of the
# bytes after the instruction, consistent lengths; 16-, 32- and 64-bit
# modes) and runs it for a bounded time (issue 3: 60 s in CI without a
# crash). Prints TAP.
#
# The seeds (tests/fuzz/corpus/decoder): first byte the mode (0 16-bit,
# 1 32-bit, 2 64-bit), then an instruction with the prefixes, ModRM/SIB
# forms and immediates that are easy to get wrong.
#
# Environment: BUILD (default build), FUZZ_DECODER_SECONDS (default 60).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/fuzz-lib.sh
FUZZ_SECONDS=${FUZZ_DECODER_SECONDS:-60} \
	fuzz_suite fuzz-decoder fuzz_decoder decoder 64 "soft CPU decoder"
