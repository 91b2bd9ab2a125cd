#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the libFuzzer targets of the standalone parts (tests/fuzz/) with
# clang, coverage and ASan+UBSan, in build/fuzz. Prints the build
# directory.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

pristine=$("$top/scripts/fetch-qemu.sh")
command -v clang >/dev/null || die "clang is needed (apt-get install clang)"
dir=$build/fuzz
if [ ! -f "$dir/build.ninja" ]; then
    CC=clang meson setup "$dir" "$top" -Dlinux_headers="$pristine/linux-headers" \
        -Dfuzz=true -Dtests=false -Dbench=false \
        -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$dir" >&2
emit "$dir"
