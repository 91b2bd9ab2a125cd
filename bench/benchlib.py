# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers of the benchmarks: paths, process accounting, statistics.

Every figure the suite reports is a count or a ratio to a baseline taken
in the same run; this module only supplies the raw numbers (CPU time and
RSS of a QEMU process, the simulator's stats) and the summaries (median
and spread over repetitions).
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'guest'))
import guest  # noqa: E402,F401  (re-exported for the other bench modules)

QEMU = os.environ.get('QEMU', os.path.join(TOP, 'build', 'qemu',
                                           'qemu-system-aarch64'))
CLK_TCK = os.sysconf('SC_CLK_TCK')


class Unavailable(Exception):
    """A configuration this QEMU binary cannot run (e.g. no CMDQV model)."""


# ---- the QEMU process ----

# Threads of the QEMU process that model host *hardware* (the simulated
# CMDQV engine consuming VCMDQs): on a real host that work is silicon, not
# VMM CPU, so it is reported apart.
SIM_HW_THREADS = ('tegra241-cmdqv',)


def cpu_ns(pid):
    """{'vmm': ns, 'simhw': ns}: CPU time of the live threads of @pid.

    /proc/PID/task/*/schedstat (ns resolution); threads named in
    SIM_HW_THREADS count as 'simhw'. If schedstat is missing, utime+stime
    of /proc/PID/stat (clock ticks), all as 'vmm'.
    """
    out = {'vmm': 0, 'simhw': 0}
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/schedstat') as f:
                ns = int(f.read().split()[0])
            with open(f'/proc/{pid}/task/{tid}/comm') as f:
                comm = f.read().strip()
            out['simhw' if comm in SIM_HW_THREADS else 'vmm'] += ns
        return out
    except (OSError, ValueError, IndexError):
        pass
    return {'vmm': stat_cpu_ns(pid), 'simhw': 0}


def stat_cpu_ns(pid):
    """utime+stime of /proc/PID/stat (all threads), in ns."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    # fields[0] is state (field 3); utime, stime are fields 14, 15
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // CLK_TCK


def status_kib(pid, key):
    """A kB figure of /proc/PID/status (VmRSS, VmHWM), or None."""
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def snapshot_qemu(workdir, tries=10):
    """Copy the QEMU binary to @workdir and use the copy from now on.

    build/qemu is shared: a rebuild during the run must neither break a
    measurement nor mix two binaries in one table. Waits (a few seconds)
    for a binary that is being relinked to run again.
    """
    global QEMU
    for _ in range(tries):
        try:
            subprocess.run([QEMU, '--version'], check=True,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            dst = os.path.join(workdir, 'qemu-system-aarch64')
            shutil.copy2(QEMU, dst)
            subprocess.run([dst, '--version'], check=True,
                           stdout=subprocess.DEVNULL)
            QEMU = dst
            return dst
        except (OSError, subprocess.CalledProcessError):
            time.sleep(3)
    raise RuntimeError(f'{QEMU} does not run')


def qemu_version():
    try:
        out = subprocess.run([QEMU, '--version'], stdout=subprocess.PIPE,
                             text=True, check=True).stdout
        return out.splitlines()[0].replace('QEMU emulator version ', '')
    except (OSError, subprocess.CalledProcessError, IndexError):
        return 'unknown'


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'unknown'


# ---- the simulated host ----

def sim_stats(qmp, obj='sim0'):
    return json.loads(qmp.cmd('qom-get', path=f'/objects/{obj}',
                              property='stats'))


def ioctl_total(stats):
    return sum(stats['ioctls'].values())


def stats_delta(before, after):
    """Counters that moved between two stats snapshots."""
    return {
        'ioctls': ioctl_total(after) - ioctl_total(before),
        'invalidate_ioctls': (after['ioctls'].get('IOMMU_HWPT_INVALIDATE', 0) -
                              before['ioctls'].get('IOMMU_HWPT_INVALIDATE',
                                                   0)),
        'invalidate_entries': (after['invalidate_entries'] -
                               before['invalidate_entries']),
        'vcmdq_commands': (after.get('vcmdq_commands', 0) -
                           before.get('vcmdq_commands', 0)),
    }


# ---- summaries ----

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values):
    """(min, max) of the repetitions."""
    values = [v for v in values if v is not None]
    return (min(values), max(values)) if values else (None, None)


def summary(values):
    """{'median', 'min', 'max', 'n', 'values'} of a list of repetitions."""
    lo, hi = spread(values)
    return {'median': median(values), 'min': lo, 'max': hi,
            'n': len([v for v in values if v is not None]),
            'values': list(values)}


def fmt_ratio(s, digits=2):
    """'1.23 (1.10-1.40)' for a summary, '-' when nothing was measured."""
    if not s or s['median'] is None:
        return '-'
    if s['min'] == s['max']:
        return f'{s["median"]:.{digits}f}'
    return (f'{s["median"]:.{digits}f} ({s["min"]:.{digits}f}-'
            f'{s["max"]:.{digits}f})')


def fmt_count(v, digits=0):
    if v is None:
        return '-'
    if isinstance(v, float) and not v.is_integer():
        return f'{v:.{max(digits, 1)}f}'
    return f'{int(v)}'
