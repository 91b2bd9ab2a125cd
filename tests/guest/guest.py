# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot a Linux guest under QEMU (TCG) and judge what its test script says.

A guest test is: a kernel (Debian's stock arm64 kernel or our minimal
one), a firmware mode (device tree, or ACPI through UEFI), QEMU arguments
and a shell script that runs as the guest's /test.sh. The script reports
each check as a line `GUEST-CHECK <name> ok|fail [detail]`; /init then
prints `GUEST-EXIT rc=<n>` and powers off. A test passes only if every
expected check reported ok, none failed, and the script exited 0: a
kernel that merely boots passes nothing.
"""

import gzip
import hashlib
import io
import lzma
import os
import random
import json
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.environ.get('SMMUV3_ACCEL_CACHE',
                       os.path.join(os.environ.get('XDG_CACHE_HOME',
                                                   os.path.expanduser('~/.cache')),
                                    'smmuv3-accel'))
QEMU = os.environ.get('QEMU', os.path.join(TOP, 'build', 'qemu',
                                           'qemu-system-aarch64'))
EFI = '/usr/share/qemu-efi-aarch64/QEMU_EFI.fd'

INIT = r'''#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
for m in $(cat /modules.order); do
    insmod "/lib/modules/$m" || echo "GUEST-CHECK insmod-$m fail"
done
echo GUEST-BOOTED
sh /test.sh
echo "GUEST-EXIT rc=$?"
sync
poweroff -f
'''

# Shell helpers every test script gets.
LIB = r'''
fail=0
check() {
    # check NAME COMMAND...: run COMMAND, report NAME ok/fail
    name=$1; shift
    if "$@"; then echo "GUEST-CHECK $name ok"
    else echo "GUEST-CHECK $name fail"; fail=1; fi
}
pci_sid() {
    # pci_sid SYSFS-PATH: the function's requester ID (its StreamID)
    b=$(basename $1)
    echo $(( (0x$(echo $b | cut -d: -f2) << 8) |
             (0x$(echo $b | cut -d: -f3 | cut -d. -f1) << 3) |
             $(echo $b | cut -d. -f2) ))
}
fault_probe() {
    # fault_probe IOVA NAME=SYSFS-PATH...: the host injects one
    # F_TRANSLATION at IOVA on each device (FaultInjector); each must be
    # reported by the SMMU driver with the device's own StreamID.
    iova=$1; shift
    line=""; n=0
    for a in "$@"; do
        line="$line ${a%%=*}=$(pci_sid ${a#*=})"; n=$((n + 1))
    done
    echo "GUEST-INJECT-FAULT$line"
    i=0
    while [ $i -lt 300 ] &&
          [ $(dmesg | grep -c 'event: F_TRANSLATION') -lt $n ]; do
        sleep 0.1; i=$((i + 1))
    done
    dmesg | grep -A1 'event: F_TRANSLATION'
    for a in "$@"; do
        d=${a#*=}
        check fault-${a%%=*} sh -c "dmesg | grep 'event: F_TRANSLATION' | grep \"client: $(basename $d) sid: $(printf 0x%x $(pci_sid $d)) \" | grep -q 'iova: $iova'"
    done
}
pci_find() {
    # pci_find VENDOR DEVICE: sysfs path of the first matching PCI function
    for d in /sys/bus/pci/devices/*; do
        if [ "$(cat $d/vendor)" = "$1" ] && [ "$(cat $d/device)" = "$2" ]; then
            echo $d; return 0
        fi
    done
    return 1
}
'''


def log(msg):
    print(f'[guest] {msg}', flush=True)


_SCRIPT_LOCK = threading.Lock()
_SCRIPT_VALUES = {}


def run_script(name, *args):
    """The value (last line) of scripts/@name @args, run once per process:
    the cases of a parallel run (tests/box/test-box.py -j) share it, and
    never run two builds in one build tree at once."""
    key = (name, *args)
    with _SCRIPT_LOCK:
        if key not in _SCRIPT_VALUES:
            out = subprocess.run([os.path.join(TOP, 'scripts', name), *args],
                                 check=True, stdout=subprocess.PIPE,
                                 text=True)
            _SCRIPT_VALUES[key] = out.stdout.strip().splitlines()[-1]
        return _SCRIPT_VALUES[key]


def kernel_artifacts(kind):
    """(Image path, modules dir or None) for 'stock', 'minimal',
    'minimal-64k' (64 KiB pages) or 'host' (the host box's L1 kernel)."""
    if kind == 'stock':
        d = run_script('fetch-guest-stock.sh')
        rel = os.listdir(os.path.join(d, 'lib', 'modules'))[0]
        return os.path.join(d, 'Image'), os.path.join(d, 'lib', 'modules', rel)
    if kind == 'minimal':
        return run_script('build-guest-kernel.sh'), None
    if kind == 'minimal-64k':
        return run_script('build-guest-kernel.sh', '--pages=64k'), None
    if kind == 'host':
        # BOX_HOST_KERNEL=Image: your own L1 kernel (box/kernel-host.config)
        own = os.environ.get('BOX_HOST_KERNEL')
        return own or run_script('build-host-kernel.sh'), None
    raise ValueError(kind)


def _modinfo_depends(path):
    out = subprocess.run(['modinfo', '-F', 'depends', path],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return [d for d in out.strip().split(',') if d]


def resolve_modules(moddir, names):
    """Module files for @names and their dependencies, dependencies first."""
    index = {}
    for root, _, files in os.walk(moddir):
        for f in files:
            if '.ko' in f:
                base = f.split('.ko')[0].replace('-', '_')
                index[base] = os.path.join(root, f)
    order = []

    def visit(name):
        key = name.replace('-', '_')
        if key not in index:
            raise RuntimeError(f'module {name} not found in {moddir}')
        path = index[key]
        if path in order:
            return
        for dep in _modinfo_depends(path):
            visit(dep)
        order.append(path)

    for n in names:
        visit(n)
    return order


class Cpio:
    """A newc cpio archive, gzip-compressed, as the kernel unpacks it."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1

    def _entry(self, name, mode, data=b'', nlink=1):
        name_b = name.encode() + b'\0'
        hdr = '070701' + ''.join(f'{v:08x}' for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0,
            len(name_b), 0))
        self.ino += 1
        self.buf.write(hdr.encode() + name_b)
        self.buf.write(b'\0' * ((4 - (110 + len(name_b)) % 4) % 4))
        self.buf.write(data)
        self.buf.write(b'\0' * ((4 - len(data) % 4) % 4))

    def dir(self, name):
        self._entry(name, 0o040755, nlink=2)

    def file(self, name, data, mode=0o644):
        self._entry(name, 0o100000 | mode, data)

    def finish(self):
        self._entry('TRAILER!!!', 0)
        return gzip.compress(self.buf.getvalue(), compresslevel=1)


def make_initramfs(path, script, moddir=None, modules=(), files=None):
    """@files: {path in the initramfs: (bytes, mode)}; their directories
    are made as needed."""
    c = Cpio()
    dirs = ['bin', 'dev', 'proc', 'sys', 'tmp', 'lib', 'lib/modules']
    for name in sorted(files or {}):
        parts = name.split('/')[:-1]
        for i in range(1, len(parts) + 1):
            d = '/'.join(parts[:i])
            if d not in dirs:
                dirs.append(d)
    for d in dirs:
        c.dir(d)
    for name, (data, mode) in sorted((files or {}).items()):
        c.file(name, data, mode)
    with open(run_script('fetch-busybox.sh'), 'rb') as f:
        c.file('bin/busybox', f.read(), 0o755)
    c.file('init', INIT.encode(), 0o755)
    c.file('test.sh', (LIB + script + '\nexit $fail\n').encode(), 0o755)
    names = []
    if modules:
        for p in resolve_modules(moddir, modules):
            data = open(p, 'rb').read()
            if p.endswith('.xz'):
                data = lzma.decompress(data)
            base = os.path.basename(p).split('.ko')[0] + '.ko'
            c.file(f'lib/modules/{base}', data)
            names.append(base)
    c.file('modules.order', ('\n'.join(names) + '\n').encode())
    with open(path, 'wb') as f:
        f.write(c.finish())


def make_disk(path, size=4 << 20, seed=1):
    """A raw disk of pseudo-random bytes; returns its sha256."""
    rnd = random.Random(seed)
    data = rnd.randbytes(size)
    with open(path, 'wb') as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


class Qmp:
    """A minimal QMP client over a unix socket."""

    def __init__(self, path, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.buf = b''
        self._recv()                      # greeting
        self.cmd('qmp_capabilities')

    def _recv(self):
        while b'\n' not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError('QMP closed')
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def cmd(self, name, **args):
        self.sock.sendall(json.dumps({'execute': name,
                                      'arguments': args}).encode() + b'\n')
        while True:
            msg = self._recv()
            if 'event' in msg:
                continue
            if 'error' in msg:
                raise RuntimeError(f'QMP {name}: {msg["error"]}')
            return msg['return']

    def close(self):
        self.sock.close()


F_TRANSLATION = 0x10


class FaultInjector:
    """The host side of fault_probe (an on_output callback of boot()).

    When the guest prints `GUEST-INJECT-FAULT name=sid ...` (its devices'
    own StreamIDs), each StreamID is looked up among the simulated host's
    live vDEVICEs over QMP: exactly one device must have it as vSID, be
    attached to a nested HWPT, and sit on a pSID other than its vSID (so
    that the vSID rewrite of the event is observable). Then one
    F_TRANSLATION at @iova is injected on that pSID. .found maps each name
    to the host's device record; .error says what went wrong."""

    MARKER = b'GUEST-INJECT-FAULT '

    def __init__(self, iova, sim='/objects/sim0'):
        self.iova, self.sim = iova, sim
        self.done = False
        self.error = None
        self.found = {}

    def __call__(self, buf, proc, qmp_path):
        if self.done or self.MARKER not in buf:
            return
        rest = buf[buf.index(self.MARKER) + len(self.MARKER):]
        if b'\n' not in rest:
            return              # the rest of the line is still to come
        self.done = True
        try:
            want = dict(p.split('=') for p in
                        rest.split(b'\n')[0].decode().split())
            q = Qmp(qmp_path)
            stats = json.loads(q.cmd('qom-get', path=self.sim,
                                     property='stats'))
            for name, sid in want.items():
                sid = int(sid, 0)
                devs = [d for d in stats['devices']
                        if d['vdevice'] and d['vsid'] == sid]
                if len(devs) != 1:
                    raise RuntimeError(
                        f'{name}: {len(devs)} host devices with vSID '
                        f'{sid:#x} (the guest StreamID): {stats["devices"]}')
                d = devs[0]
                if d['attached_kind'] != 'nested' or d['psid'] == sid:
                    raise RuntimeError(f'{name}: host device {d} is not '
                                       f'nested on a pSID of its own')
                self.found[name] = d
            for d in self.found.values():
                q.cmd('qom-set', path=self.sim, property='inject-event',
                      value=f'psid={d["psid"]:#x},smmu={d["smmu"]},'
                            f'event={F_TRANSLATION:#x},addr={self.iova:#x}')
            q.close()
        except Exception as e:  # reported as a failed check by the test
            self.error = f'{e}'

    def checks(self, names):
        """(name, ok, detail) host checks: every device was found."""
        if self.error or not self.done:
            return [('qmp-inject', False,
                     self.error or 'the guest never asked for the faults')]
        return [('inject-' + n, n in self.found,
                 f'vSID {self.found[n]["vsid"]:#x} -> pSID '
                 f'{self.found[n]["psid"]:#x} on host SMMU '
                 f'{self.found[n]["smmu"]}' if n in self.found else 'missing')
                for n in names]


class Result:
    def __init__(self, ok, reason, log_text, checks, seconds):
        self.ok, self.reason, self.log, self.checks = ok, reason, log_text, checks
        self.seconds = seconds


def judge(log_text, expect):
    checks = {}
    rc = None
    for line in log_text.splitlines():
        line = line.strip()
        i = line.find('GUEST-CHECK ')
        if i >= 0:
            parts = line[i:].split()
            if len(parts) >= 3:
                checks[parts[1]] = (parts[2] == 'ok' and
                                    checks.get(parts[1], True))
        i = line.find('GUEST-EXIT rc=')
        if i >= 0:
            rc = line[i + len('GUEST-EXIT rc='):].split()[0]
    failed = [k for k, v in checks.items() if not v]
    missing = [k for k in expect if k not in checks]
    if 'GUEST-BOOTED' not in log_text:
        return False, 'the guest never reached /init', checks
    if rc is None:
        return False, 'the guest script never finished', checks
    if failed:
        return False, 'failed checks: ' + ', '.join(failed), checks
    if missing:
        return False, 'checks never reported: ' + ', '.join(missing), checks
    if rc != '0':
        return False, f'guest script exited {rc}', checks
    return True, f'{len(checks)} checks ok', checks


def boot(kernel, mode, qemu_args, script, expect, timeout=180,
         modules=(), append='', workdir=None, on_output=None,
         machine_opts='', qmp=False, allow_reboot=False, files=None,
         memory='1G'):
    """Boot and judge. @mode is 'dt' or 'acpi'. Returns a Result."""
    image, moddir = kernel_artifacts(kernel)
    work = workdir or tempfile.mkdtemp(prefix='guest-')
    initrd = os.path.join(work, 'initramfs.cpio.gz')
    make_initramfs(initrd, script, moddir, modules if moddir else (), files)
    machine = 'virt,gic-version=3,acpi=' + ('on' if mode == 'acpi' else 'off')
    if machine_opts:
        machine += ',' + machine_opts
    cmd = [QEMU, '-M', machine,
           '-cpu', 'max', '-smp', '2', '-m', memory, '-accel', 'tcg',
           '-nodefaults', '-display', 'none', '-serial', 'stdio',
           '-kernel', image, '-initrd', initrd,
           '-append', 'console=ttyAMA0 panic=-1 loglevel=6 ' +
           ('acpi=force ' if mode == 'acpi' else '') + append]
    if mode == 'acpi':
        cmd += ['-bios', EFI]
    if not allow_reboot:
        cmd += ['-no-reboot']
    qmp_path = os.path.join(work, 'qmp.sock')
    if qmp:
        cmd += ['-qmp', f'unix:{qmp_path},server=on,wait=off']
    cmd += qemu_args
    # GUEST_LIVE=1: print the console as it comes (long boots, debugging)
    live = os.environ.get('GUEST_LIVE', '0') not in ('', '0')
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    out = bytearray()
    reason = None
    while True:
        left = timeout - (time.monotonic() - t0)
        if left <= 0:
            reason = f'timeout after {timeout}s'
            proc.kill()
            break
        r, _, _ = select.select([proc.stdout], [], [], min(left, 0.5))
        if r:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
            if live:
                sys.stdout.write(chunk.decode(errors='replace'))
                sys.stdout.flush()
            if on_output:
                try:
                    on_output(bytes(out), proc, qmp_path if qmp else None)
                except Exception as e:  # a harness bug fails this run only
                    reason = f'harness callback failed: {e!r}'
                    proc.kill()
                    break
    proc.wait()
    secs = time.monotonic() - t0
    text = out.decode(errors='replace')
    ok, why, checks = judge(text, expect)
    if reason:
        ok, why = False, reason + '; ' + why
    elif proc.returncode != 0:
        ok, why = False, f'QEMU exited {proc.returncode}; ' + why
    if not workdir:
        shutil.rmtree(work, ignore_errors=True)
    return Result(ok, why, text, checks, secs)


def apply_checks(res, checks, prefix='host check'):
    """Print host-side (name, ok, detail) checks; the first failure fails
    @res if the guest itself passed."""
    for name, ok, detail in checks:
        print(f'    {"ok  " if ok else "FAIL"} {name}: {detail}', flush=True)
        if not ok and res.ok:
            res.ok, res.reason = False, f'{prefix} {name}: {detail}'
    return res


def summary(passed, failed, filter_text=''):
    """Print the closing 'N passed, N failed' line; returns the exit status.
    A run that ran no case fails: a -k filter that matches nothing, or a
    test file whose case list came out empty, must not look like a pass."""
    if passed + failed == 0:
        what = f'matches -k {filter_text!r}' if filter_text else 'was listed'
        print(f'error: no case {what}', flush=True)
        failed = 1
    print(f'{passed} passed, {failed} failed', flush=True)
    return 1 if failed else 0


def run_cases(cases, filter_text=''):
    """Run (name, fn) cases whose name contains @filter_text; report each
    and end with the 'N passed, N failed' line. Returns the exit status."""
    passed = failed = 0
    for name, fn in cases:
        if filter_text not in name:
            continue
        res = fn()
        report(name, res)
        passed += res.ok
        failed += not res.ok
    return summary(passed, failed, filter_text)


def report(name, res, cmdline_hint=''):
    status = 'PASS' if res.ok else 'FAIL'
    print(f'{status}: {name} ({res.seconds:.1f}s) {res.reason}', flush=True)
    if not res.ok:
        print(f'----- serial log of {name} -----')
        print(res.log)
        print(f'----- end of {name} -----', flush=True)
