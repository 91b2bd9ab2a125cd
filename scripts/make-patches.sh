#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make patches` (and `make patches-check`): see scripts/make-patches.py.
exec python3 "$(dirname "$0")/make-patches.py" "$@"
