#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# busybox-static for arm64, extracted into the cache. Prints its path.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

out=$cache/guest/busybox-arm64
if [ -x "$out" ]; then
    emit "$out"
    exit 0
fi
mkdir -p "$cache/dl" "$cache/guest"
tmp=$(mktemp -d)
(cd "$tmp" && apt-get download -q busybox-static:arm64 >/dev/null 2>&1) ||
    die "apt-get download busybox-static:arm64 failed (is arm64 enabled? run scripts/setup-apt.sh)"
dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$tmp/x"
file -b "$tmp/x/bin/busybox" 2>/dev/null | grep -q aarch64 || true
cp "$tmp/x/bin/busybox" "$out.tmp" && mv "$out.tmp" "$out"
rm -rf "$tmp"
emit "$out"
