#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the QEMU source tree that is compiled: the pristine 10.2.2 tree
# (Debian's, or $QEMU_SRC), our patch series applied, our new files laid
# over it. The result lives in build/qemu-src; only files whose content
# changed are rewritten, so an unchanged overlay rebuilds in seconds.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

if [ -n "${QEMU_SRC:-}" ]; then
    base=$(cd "$QEMU_SRC" && pwd)
    [ -f "$base/VERSION" ] || die "QEMU_SRC=$QEMU_SRC is not a QEMU source tree"
    [ "$(cat "$base/VERSION")" = "$qemu_version" ] ||
        die "QEMU_SRC has version $(cat "$base/VERSION"), this overlay is for $qemu_version"
else
    base=$("$top/scripts/fetch-qemu.sh")
fi

stage=$build/qemu-stage
src=$build/qemu-src
mkdir -p "$build"
rm -rf "$stage"
# Hard links: patch(1) and cp --remove-destination replace files, never
# write through a link, so the pristine tree is left untouched.
cp -al "$base" "$stage"
rm -rf "$stage/.git"

series=$top/patches/qemu-$qemu_version/series
if [ -f "$series" ]; then
    while read -r p _; do
        case "$p" in ''|'#'*) continue ;; esac
        patch -d "$stage" -p1 -s -N --no-backup-if-mismatch -i "$top/patches/qemu-$qemu_version/$p" ||
            die "patch $p does not apply"
    done < "$series"
fi

while read -r f; do
    [ -n "$f" ] || continue
    if [ -e "$base/$f" ]; then
        die "$f exists in QEMU: edit it through patches/qemu-$qemu_version, not the overlay"
    fi
    mkdir -p "$stage/$(dirname "$f")"
    cp --remove-destination "$top/$f" "$stage/$f"
done < <("$top/scripts/overlay-files.sh")

mkdir -p "$src"
rsync -rlc --delete --exclude=/.unpacked "$stage/" "$src/"
rm -rf "$stage"
emit "$src"
