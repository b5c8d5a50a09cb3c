#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the control API's libFuzzer target (tests/fuzz/fuzz_api.c) and
# runs it for a bounded time from the seed corpus. Prints TAP.
#
# Environment: BUILD (default build), FUZZ_SECONDS (default 30).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/fuzz-lib.sh
fuzz_suite fuzz-api fuzz_api api 8192 "HTTP parser and JSON validation"
