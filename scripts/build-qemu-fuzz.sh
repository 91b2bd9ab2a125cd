#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build QEMU's device fuzzer, qemu-fuzz-aarch64 (libFuzzer, tests/qtest/
# fuzz/), from the overlay tree with clang, ASan and UBSan, in
# build/qemu-fuzz. Its generic-fuzz target is what scripts/run-fuzz.sh runs
# over the accelerated SMMUv3 and the Tegra241 CMDQV (tests/fuzz/qemu/).
# Only the devices of configs/devices/aarch64-softmmu/smmuv3-fuzz.mak (virt
# and edu) are compiled; ccache keeps clang's objects too. Prints the
# build directory.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

command -v clang >/dev/null || die "clang is needed (make deps installs it)"
src=$("$top/scripts/prepare-qemu.sh")
out=$build/qemu-fuzz
conf_args=(
    --target-list=aarch64-softmmu
    --cc=clang --cxx=clang++ --host-cc=clang
    --enable-fuzzing --enable-asan --enable-ubsan
    --without-default-devices --with-devices-aarch64=smmuv3-fuzz
    --disable-install-blobs --disable-download
    --python=/usr/bin/python3
    --disable-docs --disable-user --disable-tools --disable-guest-agent
    --enable-fdt=system --disable-werror
)
stamp="${conf_args[*]}"
if [ ! -f "$out/build.ninja" ] || [ "$(cat "$out/.configured" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$out"
    mkdir -p "$out"
    log "configuring QEMU $qemu_version for fuzzing (clang, libFuzzer, ASan+UBSan)"
    (cd "$out" && "$src/configure" "${conf_args[@]}" > configure.log 2>&1) ||
        { tail -40 "$out/configure.log"; die "configure failed (log: $out/configure.log)"; }
    echo "$stamp" > "$out/.configured"
fi
build() { ninja -C "$out" qemu-fuzz-aarch64 | ninja_progress; }
timed "building qemu-fuzz-aarch64" build
emit "$out"
