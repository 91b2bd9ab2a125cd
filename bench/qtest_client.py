# SPDX-License-Identifier: GPL-2.0-or-later
"""A QEMU under the qtest accelerator, driven from Python.

QEMU is started with `-qtest unix:PATH -accel qtest`: it connects to a
socket this module listens on and takes the qtest line protocol
(docs/devel/testing/qtest.rst: `writel ADDR VAL`, `readl ADDR`,
`write ADDR SIZE 0xDATA`, `clock_step NS`, each answered by `OK [...]`).
A QMP socket is opened next to it for qom-get/qom-set and HMP.

Requests can be pipelined: `send()` queues lines, `flush()` sends them in
one write and reads as many replies, so a batch of guest memory writes
plus a doorbell costs one round trip.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import benchlib
from benchlib import Unavailable, guest


class QtestError(RuntimeError):
    pass


class QtestVM:
    def __init__(self, args, machine='virt,gic-version=3', memory='256M',
                 timeout=30):
        self.work = tempfile.mkdtemp(prefix='bench-qtest-')
        qtest_path = os.path.join(self.work, 'qtest.sock')
        qmp_path = os.path.join(self.work, 'qmp.sock')
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(qtest_path)
        srv.listen(1)
        srv.settimeout(timeout)
        cmd = [benchlib.QEMU, '-machine', machine, '-accel', 'qtest',
               '-cpu', 'max', '-m', memory, '-nodefaults', '-display', 'none',
               '-qtest', f'unix:{qtest_path}', '-qtest-log', '/dev/null',
               '-qmp', f'unix:{qmp_path},server=on,wait=off'] + list(args)
        self.stderr_path = os.path.join(self.work, 'stderr')
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=open(self.stderr_path, 'wb'))
        except OSError:
            srv.close()
            shutil.rmtree(self.work, ignore_errors=True)
            raise
        self.pid = self.proc.pid
        try:
            self.sock, _ = srv.accept()
        except OSError:
            self.proc.wait(timeout=timeout)
            err = self.stderr()
            self.close()
            raise Unavailable(err.strip().splitlines()[-1] if err.strip()
                              else 'QEMU did not start')
        finally:
            srv.close()
        self.sock.settimeout(timeout)
        self.rbuf = b''
        self.pending = []
        try:
            self.qmp = guest.Qmp(qmp_path, timeout=timeout)
        except (OSError, EOFError):
            # Devices are realized after the qtest socket connects: a
            # configuration QEMU refuses ends here.
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            err = self.stderr().strip()
            self.close()
            raise Unavailable(err.splitlines()[0] if err
                              else 'QEMU exited at start-up')

    def stderr(self):
        try:
            with open(self.stderr_path, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    # ---- the line protocol ----

    def _readline(self):
        while b'\n' not in self.rbuf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise QtestError('qtest connection closed: ' +
                                 self.stderr()[-500:])
            self.rbuf += chunk
        line, self.rbuf = self.rbuf.split(b'\n', 1)
        return line.decode()

    def _reply(self):
        while True:
            line = self._readline()
            if line.startswith('IRQ'):      # only with irq_intercept
                continue
            if not line.startswith('OK'):
                raise QtestError(f'qtest: {line}')
            return line[3:]

    def send(self, line):
        self.pending.append(line)

    def flush(self):
        """Send every queued line, return their replies in order."""
        if not self.pending:
            return []
        n = len(self.pending)
        self.sock.sendall(('\n'.join(self.pending) + '\n').encode())
        self.pending = []
        return [self._reply() for _ in range(n)]

    def call(self, line):
        self.send(line)
        return self.flush()[-1]

    def writel(self, addr, val):
        self.call(f'writel 0x{addr:x} 0x{val:x}')

    def writeq(self, addr, val):
        self.call(f'writeq 0x{addr:x} 0x{val:x}')

    def readl(self, addr):
        return int(self.call(f'readl 0x{addr:x}'), 16)

    def readq(self, addr):
        return int(self.call(f'readq 0x{addr:x}'), 16)

    def memwrite(self, addr, data):
        self.call(self.write_line(addr, data))

    @staticmethod
    def write_line(addr, data):
        return f'write 0x{addr:x} 0x{len(data):x} 0x{data.hex()}'

    def clock_step(self, ns):
        self.call(f'clock_step {ns}')

    # ---- QMP/HMP ----

    def hmp(self, line):
        return self.qmp.cmd('human-monitor-command', **{'command-line': line})

    def mtree_base(self, name):
        """Start address of the MemoryRegion called @name, or None."""
        for line in self.hmp('info mtree').splitlines():
            line = line.rstrip()
            if line.endswith('): ' + name) or line.endswith(' ' + name):
                head = line.strip().split('-', 1)[0]
                try:
                    return int(head, 16)
                except ValueError:
                    continue
        return None

    def close(self):
        for f in (getattr(self, 'qmp', None), getattr(self, 'sock', None)):
            try:
                if f:
                    f.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def wait_until(pred, timeout=10.0, interval=0.0):
    """Poll @pred until true; False after @timeout seconds."""
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            return False
        if interval:
            time.sleep(interval)
    return True
