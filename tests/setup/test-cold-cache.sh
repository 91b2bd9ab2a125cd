#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A first run on a new machine, minus the package installs: every fetch and
# build script of scripts/ runs against an empty download cache and an
# empty build tree, as a newcomer's first `make run` does. For each script
# it checks what it prints (exactly one line on stdout, the value; the
# logs on stderr), what it leaves (the artifact, no temporary left over)
# and that a second run answers the same from the cache without doing the
# work again. The compiler cache is shared (ccache), so the QEMU and kernel
# builds are fast; the scripts' own logic runs cold. Also: a corrupted
# download in the cache is detected and repaired. Ends with
# "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cold-cache.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export SMMUV3_ACCEL_CACHE=$tmp/cache SMMUV3_ACCEL_BUILD=$tmp/build
unset QEMU_SRC
passed=0
failed=0

ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
expect() {   # expect NAME DETAIL CONDITION...
    local name=$1 detail=$2
    shift 2
    if "$@"; then ok "$name"; else bad "$name" "$detail"; fi
}

# run NAME SCRIPT [ARGS]: run a value script cold; sets $value, $stderr.
run() {
    local name=$1 script=$2 t0 rc lines
    shift 2
    t0=$SECONDS
    "$top/scripts/$script" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
    rc=$?
    lines=$(wc -l < "$tmp/$name.out")
    value=$(head -1 "$tmp/$name.out")
    stderr=$(cat "$tmp/$name.err")
    echo "     $script${*:+ $*}: exit $rc in $((SECONDS - t0)) s, stdout: $(head -c 200 "$tmp/$name.out" | tr '\n' '|')"
    if [ $rc != 0 ]; then
        bad "$name-exit" "exit $rc; stderr: $(tail -20 "$tmp/$name.err")"
        return 1
    fi
    ok "$name-exit"
    expect "$name-one-line" "stdout has $lines lines, not one value" [ "$lines" = 1 ]
}

# again NAME SCRIPT [ARGS]: the second run prints the same value, quietly.
again() {
    local name=$1 script=$2 first=$value
    shift 2
    "$top/scripts/$script" "$@" > "$tmp/$name.again" 2> "$tmp/$name.again.err"
    expect "$name-cached" "second run printed '$(cat "$tmp/$name.again")', first '$first'" \
        [ "$(cat "$tmp/$name.again")" = "$first" ]
    expect "$name-cached-no-work" "second run did work: $(head -5 "$tmp/$name.again.err")" \
        sh -c "! grep -qiE 'download|unpack|build|configur' '$tmp/$name.again.err'"
}

no_tmp_left() {   # nothing half-made in the cache
    [ -z "$(find "$SMMUV3_ACCEL_CACHE" -maxdepth 3 -name '*.tmp' 2>/dev/null)" ]
}

echo "cold cache $SMMUV3_ACCEL_CACHE, build tree $SMMUV3_ACCEL_BUILD"

# QEMU's source package.
if run fetch-qemu fetch-qemu.sh; then
    expect fetch-qemu-in-cache "printed $value" \
        [ "$value" = "$SMMUV3_ACCEL_CACHE/src/qemu-$(sed -n 's/^qemu_version=//p' "$top/scripts/common.sh")" ]
    expect fetch-qemu-tree "no QEMU tree at $value" \
        sh -c "[ -f '$value/.unpacked' ] && grep -qx '10.2.2' '$value/VERSION' && [ -f '$value/hw/arm/smmuv3.c' ]"
    expect fetch-qemu-debian-patches "Debian's patches not applied" \
        [ -f "$value/debian/patches/series" ]
    expect fetch-qemu-no-tmp "temporaries left in the cache" no_tmp_left
    again fetch-qemu fetch-qemu.sh
    # A damaged download must be detected and fetched again.
    rm -f "$value/.unpacked"
    deb=$(ls "$SMMUV3_ACCEL_CACHE"/dl/qemu_*.debian.tar.xz)
    echo corrupted > "$deb"
    if run fetch-qemu-repair fetch-qemu.sh; then
        expect fetch-qemu-repair-same "printed $value" [ "$value" = "$SMMUV3_ACCEL_CACHE/src/qemu-10.2.2" ]
        expect fetch-qemu-repair-refetched "the corrupted tarball was not replaced" \
            sh -c "[ \$(stat -c %s '$deb') -gt 1000 ] && grep -q downloading '$tmp/fetch-qemu-repair.err'"
    fi
fi

# busybox for the guest initramfs.
if run fetch-busybox fetch-busybox.sh; then
    expect fetch-busybox-arm64 "$value is not an aarch64 executable" \
        sh -c "[ -x '$value' ] && od -An -tx1 -j18 -N2 '$value' | grep -q 'b7 00'"
    expect fetch-busybox-no-tmp "temporaries left in the cache" no_tmp_left
    again fetch-busybox fetch-busybox.sh
fi

# Debian's stock arm64 kernel.
if run fetch-guest-stock fetch-guest-stock.sh; then
    expect fetch-guest-stock-image "no arm64 Image in $value" \
        sh -c "[ \"\$(od -An -c -j56 -N4 '$value/Image' | tr -d ' ')\" = 'ARMd' ]"
    expect fetch-guest-stock-modules "no virtio_blk module under $value/lib/modules" \
        sh -c "find '$value/lib/modules' -name 'virtio_blk.ko*' | grep -q ."
    expect fetch-guest-stock-no-debs "downloaded .debs left in the cache" \
        sh -c "! ls '$SMMUV3_ACCEL_CACHE'/dl/linux-*.deb >/dev/null 2>&1"
    expect fetch-guest-stock-no-tmp "temporaries left in the cache" no_tmp_left
    again fetch-guest-stock fetch-guest-stock.sh
fi

# Debian's linux-source-7.2 and the minimal kernel built from it.
if run fetch-linux-version fetch-linux-source.sh --version; then
    kver=$value
    expect fetch-linux-version-form "version '$value' is not 7.2.x-N" \
        sh -c "echo '$value' | grep -qE '^7\.2\.[0-9]+-[0-9]+'"
    if run fetch-linux-source fetch-linux-source.sh; then
        expect fetch-linux-source-tree "no 7.2 source tree at $value" \
            sh -c "grep -qx 'VERSION = 7' '$value/Makefile' && grep -qx 'PATCHLEVEL = 2' '$value/Makefile' &&
                   [ '$value' = '$SMMUV3_ACCEL_CACHE/src/linux-source-7.2-$kver' ]"
        expect fetch-linux-source-no-tmp "temporaries left in the cache" no_tmp_left
        again fetch-linux-source fetch-linux-source.sh
    fi
fi
guest_kernel=
if run build-guest-kernel build-guest-kernel.sh; then
    guest_kernel=$value
    expect build-guest-kernel-image "no arm64 Image at $value" \
        sh -c "[ \"\$(od -An -c -j56 -N4 '$value' | tr -d ' ')\" = 'ARMd' ]"
    # (the guest and the host box's L1 fragments: one kernel for both)
    expect build-guest-kernel-config "a fragment line is not in the kept .config" \
        sh -c "cat '$top/tests/guest/kernel-minimal.config' '$top/box/kernel-host.config' |
               grep -E '^CONFIG_[A-Z0-9_]+=' | grep -vxFf '$(dirname "$value")/.config' | { ! grep -q .; }"
    expect build-guest-kernel-progress "no progress or time printed" \
        grep -q 'done in' "$tmp/build-guest-kernel.err"
    expect build-guest-kernel-no-build-dir "the kernel build directory was left" \
        [ ! -e "$SMMUV3_ACCEL_CACHE/guest/minimal-build" ]
    again build-guest-kernel build-guest-kernel.sh
fi

# The QEMU overlay tree, QEMU itself and the simulator, in an empty build tree.
if run prepare-qemu prepare-qemu.sh; then
    expect prepare-qemu-overlay "overlay or patches missing in $value" \
        sh -c "[ -f '$value/hw/arm/smmuv3-accel.c' ] && [ -f '$value/backends/iommufd-sim.c' ] &&
               grep -q accel '$value/hw/arm/smmuv3.c'"
    expect prepare-qemu-pristine-untouched "the pristine tree was modified" \
        sh -c "! grep -q smmuv3-accel '$SMMUV3_ACCEL_CACHE/src/qemu-10.2.2/hw/arm/meson.build'"
fi
if run build-qemu build-qemu.sh; then
    expect build-qemu-binary "no qemu-system-aarch64 that knows iommufd-sim" \
        sh -c "'$value/qemu-system-aarch64' -object help | grep -q iommufd-sim"
    expect build-qemu-progress "no progress or time printed" \
        grep -q 'done in' "$tmp/build-qemu.err"
fi
if run build-sim build-sim.sh; then
    expect build-sim-tests "no unit test binaries in $value" \
        sh -c "ls '$value'/tests/unit/test-* >/dev/null 2>&1"
fi

# The host box: the arm64 sysroot, our QEMU for arm64, the L1 programs,
# the L1 kernel (and the Debian-config variant's configuration).
elf_arm64() {   # elf_arm64 FILE: an aarch64 ELF (e_machine 0xb7)
    [ -f "$1" ] && od -An -tx1 -j18 -N2 "$1" | grep -q 'b7 00'
}
if run fetch-arm64-sysroot fetch-arm64-sysroot.sh; then
    expect fetch-arm64-sysroot-libs "no arm64 glib, libfdt or libc in $value" \
        sh -c "for l in libglib-2.0.so.0 libfdt.so.1 libc.so.6 ld-linux-aarch64.so.1; do
                   f=\$(readlink -f '$value'/usr/lib/aarch64-linux-gnu/\$l) &&
                   od -An -tx1 -j18 -N2 \"\$f\" | grep -q 'b7 00' || exit 1; done"
    expect fetch-arm64-sysroot-pc "no glib-2.0.pc in the sysroot" \
        [ -f "$value/usr/lib/aarch64-linux-gnu/pkgconfig/glib-2.0.pc" ]
    expect fetch-arm64-sysroot-no-tmp "temporaries left in the cache" no_tmp_left
    again fetch-arm64-sysroot fetch-arm64-sysroot.sh
fi
if run build-qemu-arm64 build-qemu.sh --host=arm64; then
    expect build-qemu-arm64-binary "no aarch64 qemu-system-aarch64 in $value" \
        elf_arm64 "$value/qemu-system-aarch64"
    expect build-qemu-arm64-kvm "the arm64 QEMU was configured without KVM" \
        grep -q '^#define CONFIG_KVM 1' "$value/aarch64-softmmu-config-target.h"
fi
if run build-box-tools build-box-tools.sh; then
    expect build-box-tools-static "conformance-real is not a static aarch64 program" \
        sh -c "od -An -tx1 -j18 -N2 '$value/conformance-real' | grep -q 'b7 00' &&
               ! readelf -l '$value/conformance-real' | grep -q INTERP"
    expect build-box-tools-nvme-dma "nvme-dma is not a static aarch64 program" \
        sh -c "od -An -tx1 -j18 -N2 '$value/nvme-dma' | grep -q 'b7 00' &&
               ! readelf -l '$value/nvme-dma' | grep -q INTERP"
    expect build-box-tools-cmdqv-uapi "cmdqv-uapi is not a static aarch64 program" \
        sh -c "od -An -tx1 -j18 -N2 '$value/cmdqv-uapi' | grep -q 'b7 00' &&
               ! readelf -l '$value/cmdqv-uapi' | grep -q INTERP"
    expect build-box-tools-vcmdq-ill "vcmdq-ill is not a static aarch64 program" \
        sh -c "od -An -tx1 -j18 -N2 '$value/vcmdq-ill' | grep -q 'b7 00' &&
               ! readelf -l '$value/vcmdq-ill' | grep -q INTERP"
    again build-box-tools build-box-tools.sh
fi
if run build-host-kernel build-host-kernel.sh; then
    expect build-host-kernel-image "no arm64 Image at $value" \
        sh -c "[ \"\$(od -An -c -j56 -N4 '$value' | tr -d ' ')\" = 'ARMd' ]"
    expect build-host-kernel-config "a fragment line is not in the kept .config" \
        sh -c "cat '$top/tests/guest/kernel-minimal.config' '$top/box/kernel-host.config' |
               grep -E '^CONFIG_[A-Z0-9_]+=' | grep -vxFf '$(dirname "$value")/.config' | { ! grep -q .; }"
    expect build-host-kernel-no-build-dir "the kernel build directory was left" \
        sh -c "! ls -d '$SMMUV3_ACCEL_CACHE'/box/host-kernel-*-build >/dev/null 2>&1"
    expect build-host-kernel-is-guest-kernel "the L1 kernel ($value) is not the minimal guest kernel ($guest_kernel): a second build" \
        [ "$value" = "$guest_kernel" ]
    expect build-host-kernel-no-rebuild "build-host-kernel.sh built a kernel of its own" \
        sh -c "! grep -qiE 'building|configur' '$tmp/build-host-kernel.err'"
    again build-host-kernel build-host-kernel.sh
fi
if HOST_KERNEL_BASE=debian run host-kernel-debian-config build-host-kernel.sh --config-only; then
    expect host-kernel-debian-config-fragment "a host fragment line is not in the Debian-based .config" \
        sh -c "grep -E '^CONFIG_[A-Z0-9_]+=' '$top/box/kernel-host.config' |
               grep -vxFf '$value' | { ! grep -q .; }"
    expect host-kernel-debian-config-is-debian "the base was not Debian's config (no modules)" \
        grep -qx 'CONFIG_MODULES=y' "$value"
fi

echo "$passed passed, $failed failed"
[ $failed = 0 ]
