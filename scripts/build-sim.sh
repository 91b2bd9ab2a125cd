#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the standalone parts (sim/ library, Check unit tests, benchmarks)
# with the top-level meson.build. SANITIZE=1 builds a separate
# ASan+UBSan tree in build/sim-asan, SANITIZE=thread a ThreadSanitizer
# one in build/sim-tsan. Prints the build directory.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

pristine=$("$top/scripts/fetch-qemu.sh")
if [ "${SANITIZE:-0}" = 1 ]; then
    dir=$build/sim-asan
    extra=(-Db_sanitize=address,undefined -Db_lundef=false)
elif [ "${SANITIZE:-0}" = thread ]; then
    dir=$build/sim-tsan
    # (the benchmarks' fences are not supported under TSan)
    extra=(-Db_sanitize=thread -Db_lundef=false -Dbench=false)
else
    dir=$build/sim
    extra=()
fi
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$top" -Dlinux_headers="$pristine/linux-headers" \
        -Dbench=true "${extra[@]}" >/dev/null
fi
ninja -C "$dir" >&2
emit "$dir"
