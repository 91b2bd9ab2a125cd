#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot your own L2 kernel in the host box (make host-box).

L0: our QEMU under TCG, -M virt,virtualization=on with an emulated nesting
SMMUv3 and DISK behind it as an NVMe. L1: the box's Linux 7.2 host
(iommufd, VFIO, KVM), which hands the NVMe to vfio-pci and runs our QEMU
(cross-built for arm64) with L2_KERNEL/L2_INITRD, the NVMe passed through
by vfio-pci over iommufd. L1's console lines are printed as 'L1: ...',
L2's as 'L2: ...'; progress lines as '[host-box] ...'.

The exit status is L2's: the code of L2's init when it exits (the kernel
reports 'Attempted to kill init! exitcode=...'), or the rc of a line
'GUEST-EXIT rc=N' (tests/guest convention), and 0 when L2 powers off
without either. 1 when a level never got going, 124 on timeout.

L2 sees the NVMe behind arm-smmuv3,accel=on (SMMU=accel, the default):
its own arm-smmu-v3 driver owns the device's stage 1, which the real L1
kernel nests over the IOAS holding L2's RAM; the L1 QEMU's command line
is printed ('L1: + qemu-system-aarch64 ...') and, after L2 exits, what
the L1 QEMU saw: guest CMD_SYNCs, the batches of forwarded invalidations
and its IOMMU_HWPT_INVALIDATE calls ('L1: L2-QEMU guest CMD_SYNCs ...').
The device's MSIs are translated by L2's stage 1, which must map the
host's MSI window 1:1: by ACPI (L2_ACPI=1) the IORT's RMR node asks L2
for that and the device uses MSI-X; a device tree cannot, so there L2
gets pci=nomsi (INTx), see docs/system/arm/smmuv3-accel.rst. SMMU=none:
L2 has no vIOMMU, the
passed-through disk is translated by L1's iommufd domain alone.

Environment (make variables): L2_KERNEL, L2_INITRD (required),
L2_APPEND, DISK (default: a 4 MiB scratch disk), L2_ACCEL=kvm|tcg,
L2_MEM (default 256M), SMMU=accel|none, TIMEOUT (seconds, default
1800), BOX_HOST_KERNEL (your own L1 Image, built with
box/kernel-host.config), CMDQV=1: L0's SMMU gets the emulated Tegra241
CMDQV (cmdqv=on), which L1's tegra241-cmdqv driver takes, and L2's SMMU
gets cmdqv=on: an L2 kernel with CONFIG_TEGRA241_CMDQV then issues its
invalidations on VCMDQs that are the L1 kernel's HW queues, the L1 QEMU
traps none of them. L2_ACPI=1: L2 boots by UEFI (Debian's
qemu-efi-aarch64, put in L1's image) with ACPI tables (IORT, and the
CMDQV's NVDA200C device) instead of a device tree.
"""

import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'box'))
import box  # noqa: E402
from box import guest  # noqa: E402


def progress(msg):
    print(f'[host-box] {msg}', flush=True)


def main():
    env = os.environ
    kernel, initrd = env.get('L2_KERNEL'), env.get('L2_INITRD')
    if not kernel or not initrd:
        progress('usage: make host-box L2_KERNEL=PATH L2_INITRD=PATH '
                 '[L2_APPEND=...] [DISK=PATH] [L2_ACCEL=kvm|tcg] [CMDQV=1] '
                 '[L2_ACPI=1]')
        return 2
    for p in (kernel, initrd) + ((env['DISK'],) if env.get('DISK') else ()):
        if not os.path.isfile(p):
            progress(f'error: no such file: {p}')
            return 2
    smmu = env.get('SMMU', 'accel') or 'accel'
    if smmu not in ('accel', 'none'):
        progress(f'error: SMMU={smmu}: say accel or none')
        return 2
    flags = {}
    for name in ('CMDQV', 'L2_ACPI'):
        flags[name] = env.get(name, '0') or '0'
        if flags[name] not in ('0', '1'):
            progress(f'error: {name}={flags[name]}: say 1 or 0')
            return 2
    cmdqv, mode = flags['CMDQV'] == '1', 'acpi' if flags['L2_ACPI'] == '1' \
        else 'dt'
    if cmdqv and smmu != 'accel':
        progress('error: CMDQV=1 gives L2\'s accelerated SMMU a CMDQV: it '
                 'needs SMMU=accel')
        return 2
    accel = env.get('L2_ACCEL', 'kvm')
    if accel not in ('kvm', 'tcg'):
        progress(f'error: L2_ACCEL={accel}: say kvm or tcg')
        return 2
    try:
        timeout = int(env.get('TIMEOUT', '1800'))
    except ValueError:
        timeout = 0
    if timeout <= 0:
        progress(f"error: TIMEOUT={env.get('TIMEOUT')}: say a number of "
                 'seconds, e.g. TIMEOUT=1800')
        return 2
    t0 = time.monotonic()
    progress('preparing L1: host kernel, arm64 QEMU, initramfs '
             '(first run: about 30 minutes of builds)')
    work = tempfile.mkdtemp(prefix='host-box-')
    try:
        disk = env.get('DISK')
        if not disk:
            disk = os.path.join(work, 'disk.img')
            guest.make_disk(disk)
        files = box.qemu_l1_files()
        if mode == 'acpi':
            files.update(box.l2_efi_files())
        with open(kernel, 'rb') as f:
            files['box/l2/Image'] = (f.read(), 0o644)
        with open(initrd, 'rb') as f:
            files['box/l2/initrd'] = (f.read(), 0o644)
        append = env.get('L2_APPEND', '')
        if smmu == 'accel' and mode != 'acpi':
            append = 'pci=nomsi ' + append
        script = box.L1_LIB + (
            'nvme=$(pci_find 0x1b36 0x0010)\n'
            'v=$(to_vfio $nvme)\n'
            'echo "L1 passes $nvme ($v) to L2"\n'
            'echo "HOST-BOX-L2-START"\n' +
            box.l2_qemu_command(['$nvme'], append=append.strip(),
                                accel=accel,
                                memory=env.get('L2_MEM', '256M'),
                                smmu=smmu if smmu == 'accel' else None,
                                smmu_opts=',cmdqv=on' if cmdqv else '',
                                mode=mode, echo=True) +
            'echo "HOST-BOX-L2-END"\n' +
            (box.L2_TRACE_SUMMARY if smmu == 'accel' else ''))
        image, _ = guest.kernel_artifacts('host')
        l1_initrd = os.path.join(work, 'l1-initramfs.cpio.gz')
        guest.make_initramfs(l1_initrd, script, files=files)
        progress(f'L1 ready in {time.monotonic() - t0:.0f}s; booting L0 '
                 '(TCG) with L1')
        cmd = [guest.QEMU, '-M', 'virt,gic-version=3,virtualization=on',
               '-cpu', 'max', '-smp', '2', '-m', '2G', '-accel', 'tcg',
               '-nodefaults', '-display', 'none', '-serial', 'stdio',
               '-no-reboot', '-kernel', image, '-initrd', l1_initrd,
               '-append', 'console=ttyAMA0 panic=-1 loglevel=6',
               '-device', 'arm-smmuv3,primary-bus=pcie.0,stage=nested' +
               (',cmdqv=on' if cmdqv else ''),
               '-drive', f'if=none,id=d0,file={disk},format=raw',
               '-device', 'nvme,serial=host-box,addr=1.0,drive=d0']
        return run(cmd, t0, timeout,
                   f'{accel.upper()} in L1, {mode.upper()}, ' +
                   ('behind arm-smmuv3,accel=on' +
                    (',cmdqv=on' if cmdqv else '') if smmu == 'accel'
                    else 'no vIOMMU'))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(cmd, t0, timeout, stage_what):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    pending = b''
    stage, l2_rc, l2_seen = 'L1', None, False
    t_stage = time.monotonic()
    while True:
        left = timeout - (time.monotonic() - t0)
        if left <= 0:
            proc.kill()
            proc.wait()
            progress(f'timeout after {timeout}s (in {stage})')
            return 124
        r, _, _ = select.select([proc.stdout], [], [], min(left, 1.0))
        if not r:
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b'\n')
        for raw in lines:
            line = raw.decode(errors='replace').rstrip('\r')
            if line.startswith('L2: '):
                l2_seen = True
                print(line, flush=True)
                m = re.search(r'Attempted to kill init! exitcode=(0x[0-9a-f]+)',
                              line)
                if m:
                    l2_rc = int(m.group(1), 16) >> 8
                m = re.search(r'GUEST-EXIT rc=(\d+)', line)
                if m:
                    l2_rc = int(m.group(1))
                continue
            if 'HOST-BOX-L2-START' in line:
                progress(f'L1 up in {time.monotonic() - t_stage:.0f}s; '
                         f'booting L2 ({stage_what})')
                stage, t_stage = 'L2', time.monotonic()
                continue
            if 'HOST-BOX-L2-END' in line:
                progress(f'L2 ended after {time.monotonic() - t_stage:.0f}s')
                stage = 'L1 shutdown'
                continue
            print('L1: ' + line, flush=True)
    proc.wait()
    progress(f'done in {time.monotonic() - t0:.0f}s')
    if not l2_seen:
        progress('error: L2 printed nothing')
        return 1
    return l2_rc if l2_rc is not None else 0


if __name__ == '__main__':
    sys.exit(main())
