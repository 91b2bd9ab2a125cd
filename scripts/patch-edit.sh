#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Edit one patch of patches/qemu-10.2.2/ in a git tree:
#   scripts/patch-edit.sh start NNNN    the pristine tree with the patches
#       before NNNN committed and NNNN applied on top (not committed), in
#       build/patch-edit; prints its path. Edit the files there.
#   scripts/patch-edit.sh refresh NNNN  rewrite patch NNNN from the tree:
#       its message is kept, its diffstat and diffs are made anew.
# The later patches must still apply: run scripts/prepare-qemu.sh.
set -euo pipefail
. "$(dirname "$0")/common.sh"

cmd=${1:-}
num=${2:-}
pdir=$top/patches/qemu-$qemu_version
tree=$build/patch-edit
[ -n "$num" ] || die "usage: $0 start|refresh NNNN"
pfile=$(ls "$pdir/$num"-*.patch 2>/dev/null | head -1)
[ -n "$pfile" ] || die "no patch $num in $pdir"
git() { command git -C "$tree" -c user.name=patch-edit -c user.email=patch-edit@localhost "$@"; }

case $cmd in
start)
    base=${QEMU_SRC:-$("$top/scripts/fetch-qemu.sh")}
    rm -rf "$tree"
    mkdir -p "$build"
    cp -a "$base" "$tree"
    rm -rf "$tree/.git" "$tree/.unpacked"
    git init -q
    while read -r p _; do
        case "$p" in ''|'#'*) continue ;; esac
        [ "$pdir/$p" = "$pfile" ] && break
        git apply --whitespace=nowarn "$pdir/$p" || die "$p does not apply"
    done < "$pdir/series"
    git add -A
    git commit -q -m base
    git apply --whitespace=nowarn "$pfile" || die "$(basename "$pfile") does not apply"
    git add -A
    echo "$tree"
    ;;
refresh)
    [ -d "$tree/.git" ] || die "run: $0 start $num"
    git add -A
    new=$(mktemp)
    # The message: everything up to the first "---" line.
    sed '/^---$/q' "$pfile" > "$new"
    git diff --cached --stat=72 HEAD | sed 's/^/ /; s/^  / /' >> "$new"
    echo >> "$new"
    git diff --cached --full-index HEAD | sed 's/^index \([0-9a-f]\{8\}\)[0-9a-f]*\.\.\([0-9a-f]\{8\}\)[0-9a-f]*/index \1..\2/' >> "$new"
    printf -- '-- \n2.39.5\n\n' >> "$new"
    mv "$new" "$pfile"
    log "rewrote $(basename "$pfile")"
    ;;
*) die "usage: $0 start|refresh NNNN" ;;
esac
