#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Debian's linux-source-7.2 (from sid), unpacked in the cache. Prints the
# source tree's path, or with --version the Debian version used. The
# recorded version is preferred; if sid no longer has it, the newest 7.2.x
# apt lists is taken.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

pinned=7.2.13-1
pkg=linux-source-7.2
mkdir -p "$cache/dl" "$cache/src"

have=$(ls -d "$cache"/src/linux-source-7.2-*/.unpacked 2>/dev/null | sort -V | tail -1 || true)
if [ -n "$have" ]; then
    dir=$(dirname "$have")
    [ "${1:-}" = --version ] && emit "${dir##*/linux-source-7.2-}" || emit "$dir"
    exit 0
fi

avail=$(apt-cache madison "$pkg" 2>/dev/null | awk '{print $3}')
if echo "$avail" | grep -qx "$pinned"; then
    v=$pinned
else
    v=$(echo "$avail" | sort -V | tail -1)
fi
[ -n "$v" ] || die "apt lists no $pkg (run scripts/setup-apt.sh)"
deb=$cache/dl/${pkg}_${v}_all.deb
if [ ! -f "$deb" ]; then
    log "downloading $pkg=$v"
    (cd "$cache/dl" && apt-get download -q "$pkg=$v" >/dev/null 2>&1) || die "apt-get download $pkg=$v failed"
fi
dir=$cache/src/linux-source-7.2-$v
rm -rf "$dir" "$dir.tmp"
mkdir -p "$dir.tmp"
unpack() {
    dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/linux-source-7.2.tar.xz |
        tar -xJ -C "$dir.tmp" --strip-components=1
}
timed "unpacking $pkg=$v" unpack
mv "$dir.tmp" "$dir"
touch "$dir/.unpacked"
[ "${1:-}" = --version ] && emit "$v" || emit "$dir"
