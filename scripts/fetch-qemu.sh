#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetch Debian's qemu 1:10.2.2+ds-1 source package into the cache, check the
# recorded sha256 of its tarballs and unpack it with dpkg-source (which
# applies Debian's patches). Prints the pristine tree's path. Idempotent.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

dl=$cache/dl
pristine=$cache/src/qemu-$qemu_version
mkdir -p "$dl" "$cache/src"

if [ -f "$pristine/.unpacked" ]; then
    emit "$pristine"
    exit 0
fi

check() {
    echo "$qemu_orig_sha256  $dl/$qemu_orig" | sha256sum -c --quiet - &&
    echo "$qemu_debian_sha256  $dl/qemu_10.2.2+ds-1.debian.tar.xz" | sha256sum -c --quiet -
}

if ! check >/dev/null 2>&1; then
    log "downloading qemu=$qemu_deb_version source package"
    (cd "$dl" && apt-get source --download-only -q "qemu=$qemu_deb_version" >/dev/null) ||
        die "apt-get source qemu=$qemu_deb_version failed (did scripts/setup-apt.sh run?)"
    check || die "sha256 mismatch for the qemu $qemu_deb_version source package"
fi

rm -rf "$pristine" "$pristine.tmp"
log "unpacking with dpkg-source"
(cd "$cache/src" && dpkg-source -q --no-check -x "$dl/qemu_10.2.2+ds-1.dsc" "$(basename "$pristine").tmp" >/dev/null)
mv "$pristine.tmp" "$pristine"
touch "$pristine/.unpacked"
emit "$pristine"
