# SPDX-License-Identifier: GPL-2.0-or-later
"""A Linux guest under TCG for the benchmarks, with a console both ways.

Built on tests/guest/guest.py (kernels, busybox initramfs, QMP client) but
with what a benchmark needs on top: the host can type into the guest's
serial console (to tell its script a host-side phase is over), every
console line is timestamped on arrival (boot time = QEMU start to the
line /init prints, GUEST-BOOTED), and while the guest runs a sampler
records peak RSS of QEMU and peak live host objects of the simulator.
"""

import os
import select
import shutil
import subprocess
import tempfile
import threading
import time

import benchlib
from benchlib import guest

BENCH_BUILD = os.path.join(benchlib.TOP, 'build', 'bench')

DMAREAD_C = r'''
/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Read N bytes of a block device with O_DIRECT; print the guest's timing. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long long total = atoll(argv[2]), done = 0;
    size_t bs = argc > 3 ? (size_t)atoll(argv[3]) : 256 * 1024;
    struct timespec a, b;
    void *buf;
    int fd = open(argv[1], O_RDONLY | O_DIRECT);

    if (fd < 0 || posix_memalign(&buf, 4096, bs)) {
        perror("dmaread");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    while (done < total) {
        ssize_t n = read(fd, buf, bs);
        if (n <= 0) {
            perror("dmaread: read");
            return 1;
        }
        done += n;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("BENCH-DMA bytes=%lld ns=%lld\n", done,
           (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
    return 0;
}
'''


def dmaread_binary():
    """The static arm64 O_DIRECT reader, built once into build/bench."""
    os.makedirs(BENCH_BUILD, exist_ok=True)
    src = os.path.join(BENCH_BUILD, 'dmaread.c')
    out = os.path.join(BENCH_BUILD, 'dmaread')
    if not os.path.exists(out) or open(src).read() != DMAREAD_C:
        with open(src, 'w') as f:
            f.write(DMAREAD_C)
        subprocess.run(['aarch64-linux-gnu-gcc', '-static', '-O2', '-o', out,
                        src], check=True)
    return out


def make_initramfs(path, script, extra_files=()):
    """guest.py's initramfs, plus (name, bytes, mode) files."""
    c = guest.Cpio()
    for d in ('bin', 'dev', 'proc', 'sys', 'tmp', 'lib', 'lib/modules'):
        c.dir(d)
    with open(guest.run_script('fetch-busybox.sh'), 'rb') as f:
        c.file('bin/busybox', f.read(), 0o755)
    c.file('init', guest.INIT.encode(), 0o755)
    c.file('test.sh', (guest.LIB + script + '\nexit $fail\n').encode(),
           0o755)
    c.file('modules.order', b'\n')
    for name, data, mode in extra_files:
        c.file(name, data, mode)
    with open(path, 'wb') as f:
        f.write(c.finish())


class GuestRun:
    """One boot. @on_line(run, line) is called for each console line."""

    def __init__(self, kernel_image, initrd, mode, args, timeout=300,
                 on_line=None, sample_objects=False, trace=(),
                 smp=2):
        self.work = tempfile.mkdtemp(prefix='bench-guest-')
        self.qmp_path = os.path.join(self.work, 'qmp.sock')
        self.trace_path = os.path.join(self.work, 'trace.log')
        machine = 'virt,gic-version=3,acpi=' + ('on' if mode == 'acpi'
                                                 else 'off')
        cmd = [benchlib.QEMU, '-M', machine, '-cpu', 'max',
               '-smp', str(smp), '-m', '1G', '-accel', 'tcg', '-nodefaults',
               '-display', 'none', '-serial', 'stdio', '-no-reboot',
               '-kernel', kernel_image, '-initrd', initrd,
               '-append', 'console=ttyAMA0 panic=-1 loglevel=6 ' +
               ('acpi=force' if mode == 'acpi' else ''),
               '-qmp', f'unix:{self.qmp_path},server=on,wait=off']
        if mode == 'acpi':
            cmd += ['-bios', guest.EFI]
        if trace:
            cmd += ['-D', self.trace_path, '-msg', 'timestamp=on']
            for t in trace:
                cmd += ['-trace', t]
        cmd += list(args)
        self.cmd = cmd
        self.timeout = timeout
        self.on_line = on_line
        self.sample_objects = sample_objects
        self.lines = []             # (seconds since start, text)
        self.marks = {}             # first time a marker was seen
        self.peak_rss_kib = 0
        self.peak_objects = 0
        self.stats = None           # last sim stats seen
        self.qmp = None
        self._stop = threading.Event()

    def mark(self, name):
        return self.marks.get(name)

    def type_line(self, text):
        """Type a line into the guest's serial console."""
        self.proc.stdin.write(text.encode() + b'\n')
        self.proc.stdin.flush()

    def connect_qmp(self):
        if self.qmp is None:
            self.qmp = guest.Qmp(self.qmp_path, timeout=30)
        return self.qmp

    def _sampler(self):
        q = None
        while not self._stop.is_set():
            rss = benchlib.status_kib(self.proc.pid, 'VmHWM')
            if rss:
                self.peak_rss_kib = max(self.peak_rss_kib, rss)
            if self.sample_objects:
                try:
                    if q is None:
                        q = guest.Qmp(self.qmp_path, timeout=30)
                    st = benchlib.sim_stats(q)
                    self.stats = st
                    self.peak_objects = max(self.peak_objects,
                                            st['live_objects'])
                except (OSError, EOFError, RuntimeError, ValueError):
                    pass
            self._stop.wait(0.2)
        if q:
            q.close()

    def run(self):
        self.t0 = time.monotonic()
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT)
        except OSError:
            self.cleanup()
            raise
        sampler = threading.Thread(target=self._sampler, daemon=True)
        sampler.start()
        buf = b''
        self.reason = None
        while True:
            left = self.timeout - (time.monotonic() - self.t0)
            if left <= 0:
                self.reason = f'timeout after {self.timeout}s'
                self.proc.kill()
                break
            r, _, _ = select.select([self.proc.stdout], [], [],
                                    min(left, 0.5))
            if not r:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            now = time.monotonic() - self.t0
            while b'\n' in buf:
                raw, buf = buf.split(b'\n', 1)
                line = raw.decode(errors='replace').rstrip('\r')
                self.lines.append((now, line))
                for m in ('GUEST-BOOTED', 'GUEST-EXIT'):
                    if m in line and m not in self.marks:
                        self.marks[m] = now
                if self.on_line:
                    self.on_line(self, line)
        self.proc.wait()
        self.seconds = time.monotonic() - self.t0
        self._stop.set()
        sampler.join(timeout=5)
        if self.qmp:
            self.qmp.close()
        self.log = '\n'.join(text for _, text in self.lines)
        return self

    def value(self, key):
        """The last `KEY ...` console line's words as a dict of k=v."""
        for _, line in reversed(self.lines):
            i = line.find(key + ' ')
            if i >= 0:
                return dict(w.split('=', 1) for w in line[i:].split()[1:]
                            if '=' in w)
        return None

    def trace_lines(self):
        try:
            with open(self.trace_path, errors='replace') as f:
                return f.read().splitlines()
        except OSError:
            return []

    def ok(self):
        return (self.reason is None and 'GUEST-EXIT rc=0' in self.log)

    def cleanup(self):
        shutil.rmtree(self.work, ignore_errors=True)


def kernel(kind='minimal'):
    return guest.kernel_artifacts(kind)[0]


def sparse_disk(path, size):
    with open(path, 'wb') as f:
        f.truncate(size)
    return path
