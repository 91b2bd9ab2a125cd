#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Configure (once) and build qemu-system-aarch64 with the overlay, and the
# qtest binaries when asked (QTESTS=1). Output: build/qemu.
#
# --host=arm64: cross-build it for an arm64 Linux host with KVM (the host
# box's L1) against the private sysroot of fetch-arm64-sysroot.sh, only
# what the box needs: the features KVM, TCG and the devices of
# configs/devices/aarch64-softmmu/host-box.mak. Output: build/qemu-arm64.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

host=native
case "${1:-}" in
--host=arm64) host=arm64 ;;
--host=native | "") ;;
*) die "usage: $0 [--host=arm64]" ;;
esac

src=$("$top/scripts/prepare-qemu.sh")
conf_args=(
    --target-list=aarch64-softmmu
    --disable-install-blobs --disable-download
    --python=/usr/bin/python3
    --disable-docs --disable-user --disable-tools --disable-guest-agent
    --enable-fdt=system
)
if [ $host = native ]; then
    out=$build/qemu
else
    out=$build/qemu-arm64
    # The sysroot lives in the cache; compile through a link in the build
    # tree, so that ccache (CCACHE_BASEDIR=$build) sees its paths relative
    # and a build tree elsewhere (another clone, the cold-cache test) hits.
    real_sysroot=$("$top/scripts/fetch-arm64-sysroot.sh")
    mkdir -p "$build"
    ln -sfn "$real_sysroot" "$build/arm64-sysroot"
    sysroot=$build/arm64-sysroot
    libdir=$sysroot/usr/lib/aarch64-linux-gnu
    # configure runs ${cross_prefix}pkg-config: ours looks only in the
    # sysroot, and prefixes the paths it prints with it.
    mkdir -p "$build/cross-bin"
    cat > "$build/cross-bin/aarch64-linux-gnu-pkg-config" <<PKGCONF
#!/bin/sh
PKG_CONFIG_LIBDIR=$libdir/pkgconfig:$sysroot/usr/share/pkgconfig \
PKG_CONFIG_SYSROOT_DIR=$sysroot exec pkg-config "\$@"
PKGCONF
    chmod +x "$build/cross-bin/aarch64-linux-gnu-pkg-config"
    export PATH=$build/cross-bin:$PATH
    conf_args+=(
        --cross-prefix=aarch64-linux-gnu-
        --without-default-features --enable-kvm --enable-tcg
        --without-default-devices --with-devices-aarch64=host-box
        --extra-cflags="-I$sysroot/usr/include"
        --extra-ldflags="-L$libdir -Wl,-rpath-link=$libdir"
    )
fi
stamp="${conf_args[*]} ${QEMU_EXTRA_CONFIGURE:-}"
if [ ! -f "$out/build.ninja" ] || [ "$(cat "$out/.configured" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$out"
    mkdir -p "$out"
    log "configuring QEMU $qemu_version (aarch64-softmmu, $host host)"
    # shellcheck disable=SC2086
    (cd "$out" && "$src/configure" "${conf_args[@]}" ${QEMU_EXTRA_CONFIGURE:-} > configure.log 2>&1) ||
        { tail -40 "$out/configure.log"; die "configure failed (log: $out/configure.log)"; }
    echo "$stamp" > "$out/.configured"
fi

targets=(qemu-system-aarch64)
if [ "${QTESTS:-0}" = 1 ]; then
    # Regenerate first so that newly added qtests are known targets.
    ninja -C "$out" build.ninja >/dev/null
    mapfile -t -O "${#targets[@]}" targets < <(ninja -C "$out" -t targets all 2>/dev/null |
                sed -n 's/^\(tests\/qtest\/[a-z0-9_-]*-test\): .*/\1/p' |
                grep -E '(smmu|cmdqv|iommufd)' || true)
fi
build() { ninja -C "$out" "${targets[@]}" | ninja_progress; }
timed "building ${targets[*]}" build
emit "$out"
