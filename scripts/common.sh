# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034
# Shared settings for the project's scripts (sourced, not run).

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${SMMUV3_ACCEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smmuv3-accel}
# SMMUV3_ACCEL_BUILD moves the build tree (the cold-cache test uses it).
build=${SMMUV3_ACCEL_BUILD:-$top/build}

qemu_version=10.2.2
qemu_deb_version=1:10.2.2+ds-1
qemu_orig=qemu_10.2.2+ds.orig.tar.xz
qemu_orig_sha256=be05230fe47a6937cd29f28f562932c8125f9c93c2a82c625198f7a4aa601dfb
qemu_debian_sha256=ddf75aceab4f8f77374f3cb34fc97b41514895aeb293ce8b2ddd5e072bb0f5c0

# ccache: paths below $build are hashed relative, so every clone shares hits.
export CCACHE_BASEDIR=$build
export CCACHE_NOHASHDIR=1
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# QEMU's configure names the compiler "cc" and meson runs it by that name:
# Debian's ccache wrappers first in PATH put ccache in front of it.
case ":$PATH:" in
*:/usr/lib/ccache:*) ;;
*) [ -d /usr/lib/ccache ] && export PATH=/usr/lib/ccache:$PATH ;;
esac

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Scripts whose standard output is a value (a path, a version) call
# value_output first: from then on everything any command prints goes to
# stderr, and only emit writes to the real stdout. A tool that prints a
# diagnostic on stdout (sha256sum -c does) can then never corrupt the value.
value_output() { exec 3>&1 1>&2; }
emit() { printf '%s\n' "$*" >&3; }

# timed LABEL CMD...: run CMD, printing "LABEL..." before, a line every
# minute while it runs, and "LABEL: done in MmSs" after.
timed() {
    local label=$1 start ticker rc=0
    shift
    start=$SECONDS
    log "$label ..."
    ( while sleep 60; do log "$label: still running ($(( (SECONDS - start) / 60 )) min)"; done ) &
    ticker=$!
    "$@" || rc=$?
    kill "$ticker" 2>/dev/null
    wait "$ticker" 2>/dev/null || true
    [ $rc = 0 ] || return $rc
    log "$label: done in $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s"
}

# ninja ... | ninja_progress: of a long build's step lines, every 250th and
# the last one, prefixed with the script's name; everything that is not a
# step line (warnings, errors) as it is. (ninja numbers a line by the steps
# finished when it starts, so with -j2 some numbers never appear: report
# on crossing each multiple.)
ninja_progress() {
    awk -v tag="$(basename "$0")" 'BEGIN { next_at = 250 }
         /^\[[0-9]+\/[0-9]+\] / { split(substr($1, 2), a, "/");
             n = a[1] + 0; m = a[2] + 0;
             if (n >= next_at || n == m) {
                 printf "[%s] step %d of %d\n", tag, n, m;
                 while (next_at <= n) next_at += 250 }
             fflush(); next }
         { print; fflush() }'
}
