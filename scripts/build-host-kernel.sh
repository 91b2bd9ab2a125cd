#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Cross-build the host box's L1 kernel (an iommufd/VFIO/KVM host) from
# Debian's linux-source-7.2 with box/kernel-host.config. Prints the Image
# path; cached by the hash of the source version, base and fragments.
#
# HOST_KERNEL_BASE=tiny (default): tinyconfig + the minimal guest
#   fragment + the host fragment, which is exactly the minimal kernel of
#   build-guest-kernel.sh: that one is built (or found cached) and printed.
# HOST_KERNEL_BASE=debian: Debian's own arm64 config (from the
#   linux-image-7.2 package) + the host fragment: a full kernel, hours.
# --config-only: stop after the configuration (every fragment line
#   checked) and print the .config path instead.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$top/scripts/kernel-lib.sh"
value_output

config_only=0
[ "${1:-}" = --config-only ] && config_only=1
base_kind=${HOST_KERNEL_BASE:-tiny}
host_frag=$top/box/kernel-host.config
kernel_init

# Debian's arm64 config, from the packages of the same kernel the stock
# guest is (the recorded version, else the newest apt lists).
debian_config() {
    local pinned=7.2.13+deb14 names rel kver dir deb
    names=$(apt-cache pkgnames linux-image-7.2 2>/dev/null |
            sed -n 's/^linux-image-\(7\.2\.[0-9]*+[a-z0-9]*\)-arm64$/\1/p' | sort -V)
    if echo "$names" | grep -qx "$pinned"; then rel=$pinned; else rel=$(echo "$names" | tail -1); fi
    [ -n "$rel" ] || die "apt lists no linux-image-7.2.*-arm64 (run scripts/setup-apt.sh)"
    kver=$rel-arm64
    dir=$cache/box/debian-config-$kver
    if [ ! -f "$dir/config" ]; then
        rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" "$cache/dl"
        for p in linux-base linux-binary linux-image; do
            apt-cache show "$p-$kver:arm64" >/dev/null 2>&1 || continue
            (cd "$dir.tmp" && apt-get download -q "$p-$kver:arm64" >/dev/null 2>&1) ||
                die "apt-get download $p-$kver:arm64 failed"
            for deb in "$dir.tmp"/*.deb; do dpkg-deb -x "$deb" "$dir.tmp/root"; done
            rm -f "$dir.tmp"/*.deb
            # (usr/lib/modules/<release>/config in 7.x, boot/config-* before)
            for c in "$dir.tmp"/root/{usr/lib,lib}/modules/"$kver"/config \
                     "$dir.tmp/root/boot/config-$kver"; do
                [ -f "$c" ] && cp "$c" "$dir.tmp/config" && break 2
            done
        done
        [ -f "$dir.tmp/config" ] || die "no kernel config in Debian's $kver packages"
        rm -rf "$dir.tmp/root" "$dir" && mv "$dir.tmp" "$dir"
    fi
    echo "$dir/config"
}

if [ "$base_kind" = tiny ] && [ $config_only = 0 ]; then
    # (its value on the real standard output, which value_output saved)
    exec "$top/scripts/build-guest-kernel.sh" >&3 3>&-
fi
case $base_kind in
tiny)
    base=tinyconfig
    frags=("$top/tests/guest/kernel-minimal.config" "$host_frag")
    ;;
debian)
    base=$(debian_config)
    frags=("$host_frag")
    ;;
*) die "HOST_KERNEL_BASE=$base_kind: say tiny or debian" ;;
esac
key=$(kernel_key "$base" "${frags[@]}")
out=$cache/box/host-kernel-$base_kind-$key
obj=$cache/box/host-kernel-$base_kind-build
if [ $config_only = 0 ] && [ -f "$out/Image" ]; then
    emit "$out/Image"
    exit 0
fi

kernel_fetch_source
if [ $config_only = 1 ]; then
    kernel_configure "$obj.config" "$base" "${frags[@]}"
    emit "$obj.config/.config"
    exit 0
fi
log "L1 host kernel $kernel_ver ($base_kind, key $key): not cached, building it" \
    "(hours on 2 cores)"
kernel_configure "$obj" "$base" "${frags[@]}"
timed "cross-building the L1 host kernel" kernel_mk "$obj" Image
mkdir -p "$out.tmp"
cp "$obj/arch/arm64/boot/Image" "$obj/.config" "$out.tmp/"
rm -rf "$out" && mv "$out.tmp" "$out"
rm -rf "$obj"
emit "$out/Image"
