# SPDX-License-Identifier: GPL-2.0-or-later
"""Counted checks for the test scripts that check.sh counts: one line per
check ("ok   NAME: detail" or "FAIL NAME: detail"), and the summary line
"N passed, N failed" that check.sh reads."""


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f'{"ok  " if ok else "FAIL"} {name}: {detail}', flush=True)
        return ok

    def summary(self):
        """Print the summary line; the exit status for it."""
        print(f'{self.passed} passed, {self.failed} failed', flush=True)
        return 1 if self.failed else 0
