#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make patches`: the overlay as a `git format-patch` series against QEMU
# 10.2.2 that upstream reviewers can read: first one commit per new
# component (its files under sim/, backends/, include/, hw/arm/, tests/,
# docs/), then the edits to existing files (patches/qemu-10.2.2/series,
# in order), which wire them into the build. Nothing builds the new files
# until those edits, so every commit of the series builds.
# Output: build/patches/*.patch.
set -euo pipefail
. "$(dirname "$0")/common.sh"

base=${QEMU_SRC:-$("$top/scripts/fetch-qemu.sh")}
work=$build/patches-git
out=$build/patches
rm -rf "$work" "$out"
mkdir -p "$out"
cp -a "$base" "$work"
rm -rf "$work/.git" "$work/.unpacked"
git() { command git -C "$work" -c user.name="smmuv3-accel" \
        -c user.email="smmuv3-accel@localhost" "$@"; }
git init -q
git add -A
git commit -q -m "QEMU $qemu_version (Debian $qemu_deb_version)"
git tag "v$qemu_version"

"$top/scripts/overlay-files.sh" > "$work/.overlay-list"
for group in sim backends include hw/arm tests/qtest docs; do
    files=$(grep "^$group/" "$work/.overlay-list" || true)
    [ -n "$files" ] || continue
    for f in $files; do
        mkdir -p "$work/$(dirname "$f")"
        cp "$top/$f" "$work/$f"
        git add "$f"
    done
    git commit -q -s -m "$group: add $(echo "$files" | xargs -n1 basename | paste -sd, -)" \
        -m "New files of the smmuv3-accel overlay under $group/; the patches
that follow build them."
done
rm -f "$work/.overlay-list"

series=$top/patches/qemu-$qemu_version/series
if [ -f "$series" ]; then
    while read -r p _; do
        case "$p" in ''|'#'*) continue ;; esac
        git am -q --keep-cr "$top/patches/qemu-$qemu_version/$p" ||
            die "git am $p failed (patches must be in format-patch form)"
    done < "$series"
fi
git format-patch -q -o "$out" "v$qemu_version"
ls "$out"
