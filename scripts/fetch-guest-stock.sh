#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Debian's stock arm64 kernel 7.2.x (sid), extracted, not installed:
# prints the directory holding Image and lib/modules/<release>/. The
# recorded version is preferred; if sid no longer has it, the newest
# linux-image-7.2.*-arm64 apt lists is taken.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

pinned=7.2.13+deb14
have=$(ls -d "$cache"/guest/stock-*/.done 2>/dev/null | sort -V | tail -1 || true)
if [ -n "$have" ]; then
    emit "$(dirname "$have")"
    exit 0
fi

names=$(apt-cache pkgnames linux-image-7.2 2>/dev/null |
        sed -n 's/^linux-image-\(7\.2\.[0-9]*+[a-z0-9]*\)-arm64$/\1/p' | sort -V)
if echo "$names" | grep -qx "$pinned"; then
    rel=$pinned
else
    rel=$(echo "$names" | tail -1)
fi
[ -n "$rel" ] || die "apt lists no linux-image-7.2.*-arm64 (run scripts/setup-apt.sh)"
kver=$rel-arm64
out=$cache/guest/stock-$kver
mkdir -p "$cache/dl" "$out.tmp"
log "downloading Debian's arm64 kernel $kver"
# The image package is a meta package; the kernel and its modules are in
# linux-binary-* and linux-modules-* (older kernels: all in linux-image-*).
for p in linux-image linux-binary linux-modules; do
    if apt-cache show "$p-$kver:arm64" >/dev/null 2>&1; then
        (cd "$cache/dl" && apt-get download -q "$p-$kver:arm64" >/dev/null 2>&1) ||
            die "apt-get download $p-$kver:arm64 failed"
        dpkg-deb -x "$(ls "$cache/dl/$p-${kver}"_*_arm64.deb | tail -1)" "$out.tmp/root"
    fi
done
img=$(ls "$out.tmp"/root/{usr/lib,lib}/modules/*/vmlinuz "$out.tmp"/root/boot/vmlinuz-* 2>/dev/null | head -1 || true)
[ -n "$img" ] || die "no vmlinuz in the $kver packages"
moddir=$(ls -d "$out.tmp"/root/{usr/lib,lib}/modules/* 2>/dev/null | head -1 || true)
cp "$img" "$out.tmp/Image"
mkdir -p "$out.tmp/lib/modules"
mv "$moddir" "$out.tmp/lib/modules/"
rm -rf "$out.tmp/root"
rm -f "$cache"/dl/linux-{image,binary,modules}-"$kver"_*.deb
rm -rf "$out" && mv "$out.tmp" "$out"
touch "$out/.done"
emit "$out"
