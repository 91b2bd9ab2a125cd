# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034
# Shared settings for the project's scripts (sourced, not run).

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${SMMUV3_ACCEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smmuv3-accel}
build=$top/build

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
