#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Lists the project's new QEMU files (paths relative to the repo root, which
# are also their paths in the QEMU tree).
set -euo pipefail
cd "$(dirname "$0")/.."
(for d in sim hw include backends tests/qtest docs/system; do
    [ -d "$d" ] && find "$d" -type f \( -name '*.c' -o -name '*.h' -o -name '*.rst' \
        -o -name 'meson.build' -o -name 'trace-events' -o -name 'Kconfig' -o -name '*.json' \)
done
# device configurations (the fuzzing build's)
[ -d configs ] && find configs -type f -name '*.mak'
) | sort
