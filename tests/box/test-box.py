#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The host box. L0 boots the L1 host kernel on an emulated nesting
SMMUv3 (DT, virtualization=on); L1 hands an NVMe and a virtio-blk disk to
vfio-pci, then
- l1-boot: runs the differential conformance cases against its real
  /dev/iommu. Each conformance-<case> compares them, observation by
  observation, with the same case on iommufd-sim: a difference fails it.
- l1-no-fwb, l1-no-fwb-acpi: L0's SMMU without S2FWB (s2fwb=off): by
  device tree the real kernel refuses every vIOMMU, by ACPI it nests
  because the IORT's root complex is CANWBS; the conformance cases match
  iommufd-sim configured the same way, observation for observation.
- l2-passthrough: runs our QEMU (arm64, KVM) with both disks passed
  through by vfio-pci over iommufd; the L2 minimal kernel reads each disk
  and checks its sha256 against the image L0 was given.
- l2-accel, l2-accel-stock: the same behind arm-smmuv3,accel=on, plus an
  emulated virtio-blk behind it, with L2's minimal and Debian's kernel; a
  real fault reported by L2's driver; one IOMMU_HWPT_INVALIDATE per batch
  in the L1 QEMU's trace. By device tree, with INTx (pci=nomsi).
- l2-accel-acpi, l2-accel-stock-acpi: the same with L2 booted by UEFI and
  ACPI: the IORT's RMR makes L2 map the host MSI window 1:1, and the
  passed-through disks' MSI-X vectors must take interrupts with no fault.
- l2-accel-acpi-tcg: l2-accel-acpi with L2 under TCG in L1 (QEMU, not
  KVM's irqfd, delivers the passed-through devices' MSIs).
- l2-accel-two-smmus: ACPI L2 with two arm-smmuv3,accel=on (one on a
  pxb-pcie), one passed-through disk behind each: each SMMU its own host
  objects, both disks read and on MSI-X.
- l2-accel-reboot: a reboot of L2 releases and rebuilds the host objects.
- l2-accel-unplug: L1 unplugs the NVMe from a running L2 (Debian's
  kernel, behind a root port); a second L2 binds the same device.
- l1-cmdqv: L0's SMMU has the emulated Tegra241 CMDQV (cmdqv=on): L1's
  tegra241-cmdqv driver runs its own invalidations on VINTF0's VCMDQs,
  and cmdqv-uapi drives the kernel's CMDQV uAPI as a VMM would (vIOMMU,
  vDEVICE, page0 mmap, HW queue, commands, an illegal one reported as a
  vEVENT); L0's counters show what reached its CMDQV. l1-cmdqv-acpi: the
  same with L1 booted by UEFI, the CMDQV found through ACPI.
- l2-cmdqv: the product on that host: L2 (minimal kernel) behind
  arm-smmuv3,accel=on,cmdqv=on with both disks passed through; L2's
  tegra241-cmdqv driver runs its TLB invalidations on VCMDQs that are the
  real kernel's HW queues over a guest VINTF of L0's CMDQV, through the
  host page0 mapped into L2: L0 counts them, the L1 QEMU sees no trap on
  that page and forwards no TLBI_NH. vcmdq-ill, in L2, puts an illegal
  command on a VCMDQ through /dev/mem: L0 stops the queue, the real
  kernel's vEVENT and the L1 QEMU bring it to L2's driver, which reports
  and skips it; the queue recovers. A second L2 then starts on the same
  VINTF (the first one's exit released everything), writes to the NVMe
  and reboots: the reset releases and rebuilds the host objects, and the
  second boot runs on the CMDQV again. l2-cmdqv-off: the same L2 with
  cmdqv=off, for the figures (traps and ioctls per 1000 invalidations,
  DMA throughput on/off). l2-cmdqv-64k: l2-cmdqv with an L2 kernel of
  64 KiB pages (on L1's 4 KiB). l2-cmdqv-acpi: l2-cmdqv with L2 booted by
  UEFI, its CMDQV found as the ACPI device NVDA200C, MSI-X for the disks.
  These two leave out the second L2 and its reboot (l2-cmdqv has them).

  tests/box/test-box.py [-k FILTER] [-j JOBS]   (JOBS: cases side by side,
  default $BOX_JOBS or 2)
"""

import argparse
import concurrent.futures
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import box  # noqa: E402
from box import guest  # noqa: E402
import disk_check  # noqa: E402

L1_SCRIPT = box.L1_LIB + r'''
check smmu-probed sh -c 'ls /sys/class/iommu | grep -q smmu'
check kvm-present test -c /dev/kvm
check iommufd-present test -c /dev/iommu
nvme=$(pci_find 0x1b36 0x0010)
vblk=$(pci_find 0x1af4 0x1042)
v0=$(to_vfio $nvme)
v1=$(to_vfio $vblk)
echo "L1 vfio cdevs: nvme $v0 virtio-blk $v1"
check vfio-cdevs sh -c "test -c $v0 && test -c $v1"
/box/conformance-real $v0 $v1 > /tmp/conf.txt
echo "CONF-EXIT rc=$?"
sed 's/^/CONF /' /tmp/conf.txt
'''

EXPECT = ['smmu-probed', 'kvm-present', 'iommufd-present', 'vfio-cdevs']

L2_SCRIPT = r'''
wait_blk() {
    i=0
    while [ ! -b $1 ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
    test -b $1
}
check l2-nvme-present wait_blk /dev/nvme0n1
check l2-vblk-present wait_blk /dev/vda
check l2-nvme-checksum sh -c "sha256sum /dev/nvme0n1 | grep -q ^@NVME@"
check l2-vblk-checksum sh -c "sha256sum /dev/vda | grep -q ^@VBLK@"
'''
L2_EXPECT = ['l2-nvme-present', 'l2-vblk-present', 'l2-nvme-checksum',
             'l2-vblk-checksum']


# The kernel's tegra241-cmdqv driver took the CMDQV: it found it (DT
# node or ACPI NVDA200C), its probe requested the error interrupt, and it
# did not fall back to the SMMU's own CMDQ. (Debian's stock 7.2 has no
# CONFIG_TEGRA241_CMDQV: it never looks, and says nothing.)
CMDQV_IN_USE = ("grep -q tegra241-cmdqv /proc/interrupts && "
                "! dmesg | grep -q 'Falling back to standard SMMU CMDQ'")

L1_CMDQV_SCRIPT = box.L1_LIB + r'''
@DESCRIBED@
check smmu-probed sh -c 'ls /sys/class/iommu | grep -q smmu'
check cmdqv-driver sh -c "@CMDQV_IN_USE@"
dmesg | grep -i -e cmdqv -e vintf -e vcmdq
nvme=$(pci_find 0x1b36 0x0010)
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check host-dma sh -c 'dd if=/dev/nvme0n1 of=/dev/null bs=64k 2>/dev/null'
v0=$(to_vfio $nvme)
v1=$(to_vfio $(pci_find 0x1af4 0x1042))
check cmdqv-uapi /box/cmdqv-uapi $v0
echo L1-CMDQV-STATS
/box/conformance-real $v0 $v1 > /tmp/conf.txt
echo "CONF-EXIT rc=$?"
sed 's/^/CONF /' /tmp/conf.txt
'''
L1_CMDQV_EXPECT = ['cmdqv-described', 'smmu-probed', 'cmdqv-driver',
                   'host-dma', 'cmdqv-uapi']
# How L1 found the CMDQV: its device tree node, or (UEFI) its ACPI device
# and no such node.
L1_CMDQV_DESCRIBED = {
    'dt': "check cmdqv-described sh -c 'ls -d /proc/device-tree/cmdqv@*'",
    'acpi': "check cmdqv-described sh -c 'ls /sys/bus/acpi/devices | "
            "grep NVDA200C && ! ls -d /proc/device-tree/cmdqv@* 2>/dev/null'",
}
# What cmdqv-uapi runs on its VINTF's queue: TLBI_NH_ASID, ATC_INV and
# CMD_SYNC, then (the illegal CFGI_STE skipped) two CMD_SYNCs.
CMDQV_UAPI_COMMANDS = 5


class L0Stats:
    """An on_output callback of guest.boot(): when L1 prints @marker,
    read the L0 SMMU's "cmdqv-stats" over QMP into .stats."""

    def __init__(self, marker=b'L1-CMDQV-STATS'):
        self.marker = marker
        self.stats = None
        self.error = 'L1 never asked for the counters'

    def __call__(self, buf, proc, qmp_path):
        if self.stats is not None or self.marker not in buf:
            return
        try:
            q = guest.Qmp(qmp_path)
            self.stats = json.loads(q.cmd('qom-get',
                                          path='/machine/peripheral/smmu0',
                                          property='cmdqv-stats'))
            q.close()
            self.error = None
        except Exception as e:  # reported as a failed check by the test
            self.stats, self.error = {}, f'{e}'


def l1_cmdqv(mode='dt'):
    """L1 on an L0 SMMU with the emulated CMDQV, described by the device
    tree or (@mode 'acpi', UEFI) by ACPI: IORT and the NVDA200C device."""
    work = tempfile.mkdtemp(prefix='box-cmdqv-')
    args, _ = box.l0_args(work, smmu_opts=',cmdqv=on')
    files = {}
    for name in ('cmdqv-uapi', 'conformance-real'):
        with open(box.tool(name), 'rb') as f:
            files['box/' + name] = (f.read(), 0o755)
    l0 = L0Stats()
    script = L1_CMDQV_SCRIPT.replace('@DESCRIBED@', L1_CMDQV_DESCRIBED[mode])\
        .replace('@CMDQV_IN_USE@', CMDQV_IN_USE)
    res = guest.boot('host', mode, args, script, L1_CMDQV_EXPECT,
                     timeout=600, machine_opts='virtualization=on',
                     files=files, workdir=work, qmp=True, on_output=l0)
    shutil.rmtree(work, ignore_errors=True)
    if l0.error:
        return guest.apply_checks(res, [('l0-cmdqv-stats', False, l0.error)])
    # The same conformance cases on iommufd-sim with a CMDQV like L0's.
    real = [ln.split('CONF ', 1)[1] for ln in res.log.splitlines()
            if ln.startswith('CONF ')]
    diffs = [(case, d) for case, d in box.divergences(
        real, box.sim_observations(cmdqv=True)) if d]
    for case, diff in diffs:
        for step, r, s in diff:
            print(f'    {case} {step}\n      real: {r}\n      sim:  {s}',
                  flush=True)
    st = l0.stats
    v0, users = st['vintfs'][0], st['vintfs'][1:]
    print(f'    L0 CMDQV: {st["commands"]} commands, VINTF0 (host) '
          f'{v0["commands"]}, guest VINTFs '
          f'{sum(v["commands"] for v in users)}, {st["errors"]} errors, '
          f'{st["irqs"]} interrupts', flush=True)
    return guest.apply_checks(res, [
        ('conformance-cmdqv', 'CONF-EXIT rc=0' in res.log and real and
         not diffs, f'{len(real)} real observations, '
         f'{sum(len(d) for _, d in diffs)} divergences from iommufd-sim '
         f'with a CMDQV'),
        ('l0-host-vintf', v0['hyp_own'] == 1 and v0['enabled'] == 1 and
         v0['commands'] > 0, f'VINTF0 {v0}'),
        ('l0-guest-vintf-commands',
         sum(v['commands'] for v in users) == CMDQV_UAPI_COMMANDS,
         f'{[v["commands"] for v in users]} (want {CMDQV_UAPI_COMMANDS} '
         f'in all)'),
        ('l0-guest-vintf-error', st['errors'] == 1 and st['irqs'] >= 1,
         f'errors={st["errors"]} irqs={st["irqs"]}'),
        ('l0-guest-vintf-released',
         all(not v['enabled'] and not v['hyp_own'] for v in users),
         f'{users}'),
    ], prefix='L0 check')


# L2 behind the accelerated SMMU with the CMDQV: its disks read as in
# l2-accel, then two O_DIRECT reads of each whole disk, timed (each is DMA
# through nested translation, then invalidations: with the CMDQV they go
# to the VCMDQs); then it waits while the L1 QEMU's counters are read over
# its monitor (a pipe), and L1 stops it.
L2_WAIT_BLK, L2_DISK_CHECKS = L2_SCRIPT.split('}\n', 1)
L2_CMDQV_SCRIPT = L2_WAIT_BLK + '}\n' + r"""
if grep -q box.second /proc/cmdline; then
    wait_blk /dev/nvme0n1
    last=$(( $(cat /sys/block/nvme0n1/size) - 1 ))
    if dd if=/dev/nvme0n1 bs=512 skip=$last count=1 2>/dev/null | grep -q BOX-BOOT2; then
        echo "L2 second boot"
        check l2b-boot2-cmdqv-driver sh -c "@CMDQV_IN_USE@"
        check l2b-boot2-direct-reads dd if=/dev/nvme0n1 of=/dev/null bs=64k iflag=direct
        exit $fail
    fi
    check l2b-nvme-present test -b /dev/nvme0n1
    check l2b-nvme-checksum sh -c "sha256sum /dev/nvme0n1 | grep -q ^@NVME@"
    check l2b-cmdqv-driver sh -c "@CMDQV_IN_USE@"
    # a DMA write through the VCMDQ-invalidated stage 1, then a reset
    printf 'BOX-BOOT2' | dd of=/dev/nvme0n1 bs=512 seek=$last conv=notrunc 2>/dev/null
    sync
    echo "L2 first boot done: rebooting"
    reboot -f
fi
""" + L2_DISK_CHECKS + r"""
check l2-smmu-probed sh -c 'ls /sys/class/iommu | grep -q smmu'
@CMDQV_CHECK@
dmesg | grep -i -e cmdqv -e vintf -e vcmdq
t0=$(cut -d' ' -f1 /proc/uptime)
check l2-direct-reads sh -c 'for i in 1 2; do dd if=/dev/nvme0n1 of=/dev/null bs=64k iflag=direct 2>/dev/null && dd if=/dev/vda of=/dev/null bs=64k iflag=direct 2>/dev/null || exit 1; done'
t1=$(cut -d' ' -f1 /proc/uptime)
echo "L2-DMA $(( 1024 * ($(cat /sys/block/nvme0n1/size) + $(cat /sys/block/vda/size)) )) bytes from $t0 to $t1"
@CMDQV_ILL@
echo "L2 GUEST-STATS-NOW"
sleep 600
"""
L2_CMDQV_CHECK = {
    True: 'check l2-cmdqv-driver sh -c "@CMDQV_IN_USE@"',
    False: "",
}
# cmdqv=on: an illegal command (CFGI_STE, vSID 0x42) on VCMDQ 1, which
# L2's driver enabled but, with one CPU, does not use: the hardware (L0)
# stops the queue, the real L1 kernel reports it as a vEVENT, the L1 QEMU
# makes it L2's LVCMDQ_ERR_MAP bit and interrupt, and L2's driver prints
# it, turns it into a CMD_SYNC and acknowledges: the queue runs on.
# (The CMDQV's base: its device tree node's unit address, or the
# resource of its ACPI platform device.)
L2_CMDQV_ILL = r"""
cmdqv=$(ls -d /proc/device-tree/cmdqv@* 2>/dev/null | head -1)
cmdqv=${cmdqv##*@}
[ -n "$cmdqv" ] || cmdqv=$(grep NVDA200C /proc/iomem | head -1 | sed 's/^ *//; s/-.*//')
echo "L2 CMDQV at 0x$cmdqv"
check l2-vcmdq-ill-recovered /vcmdq-ill $cmdqv 1
dmesg | grep -A2 -e 'CMDQ error' -e 'unexpected error reported'
check l2-vcmdq-ill-reported sh -c "dmesg | grep -q 'CMDQ error (cons 0x01[0-9a-f]*): Illegal command'"
check l2-vcmdq-ill-command sh -c "dmesg | grep -A1 'skipping command in error state' | grep -q 0x0000004200000003"
"""
L2_CMDQV_ILL_EXPECT = ['l2-vcmdq-ill-recovered', 'l2-vcmdq-ill-reported',
                       'l2-vcmdq-ill-command']
L2_CMDQV_EXPECT = L2_EXPECT + ['l2-smmu-probed', 'l2-direct-reads',
                               'l1-l2-stopped']
# cmdqv=on: after the first L2 exits, a second L2 starts on the device,
# the CMDQV again: the first one's exit must have released its HW queues,
# vIOMMU and VINTF on the host (L0 sees the VINTF released in between).
# That one writes a marker to the NVMe and reboots: the reset releases
# and rebuilds them, and its second boot runs on the CMDQV again.
L2_CMDQV_SECOND_EXPECT = ['l2b-nvme-present', 'l2b-nvme-checksum',
                          'l2b-cmdqv-driver', 'l2b-boot2-cmdqv-driver',
                          'l2b-boot2-direct-reads']
L1_CMDQV_L2 = r"""
wait_log() {
    i=0
    while ! grep -q "$1" /tmp/l2.log 2>/dev/null && [ $i -lt 1500 ]; do
        sleep 0.2; i=$((i + 1))
    done
}
mkfifo /tmp/mon.in /tmp/mon.out
cat /tmp/mon.out > /tmp/mon.log &
(@L2@) &
wait_log GUEST-STATS-NOW
echo "qom-get /machine/peripheral/smmu0 cmdqv-stats" > /tmp/mon.in
i=0; while ! grep -q -e traps_while_mapped -e rror /tmp/mon.log && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
echo "L1-QEMU-CMDQV $(grep -o '{.*}' /tmp/mon.log | tail -1 | sed 's/\\//g')"
echo quit > /tmp/mon.in
i=0; while pidof qemu-system-aarch64 > /dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
check l1-l2-stopped sh -c '! pidof qemu-system-aarch64'
"""
# The figures of the last l2-cmdqv and l2-cmdqv-off runs, for the ratio.
CMDQV_FIGURES = {}


def l1_no_fwb(mode):
    """L1 on an L0 SMMU with s2fwb=off (stage=nested without IDR3.FWB):
    Linux nests only for CANWBS devices then, which only the IORT can say
    (ACPI: the virt machine's root complex is CANWBS). The conformance
    cases against L1's /dev/iommu must match iommufd-sim configured the
    same way: by ACPI the vIOMMU is allocated, by device tree every
    IOMMU_VIOMMU_ALLOC is EOPNOTSUPP."""
    work = tempfile.mkdtemp(prefix='box-nofwb-')
    args, _ = box.l0_args(work, smmu_opts=',s2fwb=off')
    with open(box.tool('conformance-real'), 'rb') as f:
        files = {'box/conformance-real': (f.read(), 0o755)}
    res = guest.boot('host', mode, args, L1_SCRIPT, EXPECT, timeout=600,
                     machine_opts='virtualization=on', files=files,
                     workdir=work)
    shutil.rmtree(work, ignore_errors=True)
    real = [ln.split('CONF ', 1)[1] for ln in res.log.splitlines()
            if ln.startswith('CONF ')]
    acpi = mode == 'acpi'
    diffs = [(case, d) for case, d in box.divergences(
        real, box.sim_observations(fwb=False, canwbs=acpi)) if d]
    for case, diff in diffs:
        for step, r, s in diff:
            print(f'    {case} {step}\n      real: {r}\n      sim:  {s}',
                  flush=True)
    alloc = [ln for ln in real if ln.startswith('viommu-alloc smmuv3 ')]
    want = 'rc=0' if acpi else 'rc=EOPNOTSUPP'
    return guest.apply_checks(res, [
        ('conformance-no-fwb', 'CONF-EXIT rc=0' in res.log and real and
         not diffs, f'{len(real)} real observations, '
         f'{sum(len(d) for _, d in diffs)} divergences from iommufd-sim '
         f'without FWB{"" if acpi else " or CANWBS"}'),
        ('l1-nesting', bool(alloc) and alloc[0].split()[2] == want,
         f'{alloc[0] if alloc else "no viommu-alloc observation"} (want '
         f'{want}: {"CANWBS" if acpi else "neither FWB nor CANWBS"})'),
    ], prefix='L1 check')


def l2_cmdqv(cmdqv=True, accel='kvm', kernel='minimal', mode='dt',
             second=True):
    """L2 behind arm-smmuv3,accel=on,cmdqv=on (@cmdqv) or cmdqv=off, on
    L0's emulated CMDQV either way: the figures of one against the other
    (@kernel 'minimal'; 'minimal-64k': the same L2 with 64 KiB pages;
    'stock': Debian's). @mode 'acpi': L2 boots by UEFI and finds the SMMU
    and the CMDQV in ACPI (IORT, NVDA200C). @second (with @cmdqv): a
    second L2 on the same VINTF, rebooted once; the variants of
    l2-cmdqv leave it out, it does not depend on the page size or the
    firmware and it costs two L2 boots."""
    second = second and cmdqv
    work = tempfile.mkdtemp(prefix='box-l2c-')
    args, sums = box.l0_args(work, smmu_opts=',cmdqv=on')
    l2_initrd = os.path.join(work, 'l2-initrd.gz')
    image_path, moddir = guest.kernel_artifacts(kernel)
    l2_files = {}
    if cmdqv:
        with open(box.tool('vcmdq-ill'), 'rb') as f:
            l2_files['vcmdq-ill'] = (f.read(), 0o755)
    guest.make_initramfs(l2_initrd, disk_check.firmware_check(mode) +
                         L2_CMDQV_SCRIPT
                         .replace('@CMDQV_CHECK@', L2_CMDQV_CHECK[cmdqv])
                         .replace('@CMDQV_IN_USE@', CMDQV_IN_USE)
                         .replace('@CMDQV_ILL@', L2_CMDQV_ILL if cmdqv
                                  else '')
                         .replace('@NVME@', sums['nvme'])
                         .replace('@VBLK@', sums['vblk']), moddir,
                         ['nvme', 'virtio_blk'] if moddir else (),
                         files=l2_files)
    files = box.qemu_l1_files()
    if mode == 'acpi':
        files.update(box.l2_efi_files())
    with open(image_path, 'rb') as f:
        files['box/l2/Image'] = (f.read(), 0o644)
    with open(l2_initrd, 'rb') as f:
        files['box/l2/initrd'] = (f.read(), 0o644)
    l2 = box.l2_qemu_command(
        ['$nvme', '$vblk'], accel=accel, append=l2_msi_append(mode),
        smmu='accel', mode=mode,
        smmu_opts=',cmdqv=on' if cmdqv else ',cmdqv=off', echo=True,
        extra=['-chardev', 'pipe,id=mon0,path=/tmp/mon',
               '-mon', 'chardev=mon0,mode=readline',
               '-trace', 'smmuv3_write_mmio', '-trace', 'smmuv3_read_mmio'],
        log='/tmp/l2.log')
    l2b = ''
    if second:
        l2b = box.l2_qemu_command(
            ['$nvme'], accel=accel,
            append=(l2_msi_append(mode) + ' box.second').strip(),
            smmu='accel', smmu_opts=',cmdqv=on', prefix='L2B', reboot=True,
            mode=mode) + \
            '(' + box.L2_TRACE_SUMMARY.strip() + ') | sed "s/^/L2B-/"\n'
    script = (box.L1_LIB + box.L1_BIND_DISKS +
              L1_CMDQV_L2.replace('@L2@', l2.strip().replace('\n', '; ')) +
              box.L2_TRACE_SUMMARY +
              "echo \"L1-SMMU-TRAPS $(grep -c -e smmuv3_write_mmio "
              "-e smmuv3_read_mmio " + box.L2_TRACE + ")\"\n" +
              ('echo L1-CMDQV-STATS1\nsleep 5\n' + l2b if cmdqv else '') +
              'echo L1-CMDQV-STATS2\n')
    l0 = L0Stats(b'L1-CMDQV-STATS2')
    l0_first = L0Stats(b'L1-CMDQV-STATS1')
    expect = L2_CMDQV_EXPECT + ['firmware-' + mode] + (
        ['l2-cmdqv-driver'] + L2_CMDQV_ILL_EXPECT if cmdqv else []) + (
        L2_CMDQV_SECOND_EXPECT if second else [])

    def on_output(buf, proc, qmp_path):
        l0_first(buf, proc, qmp_path)
        if l0_first.stats is not None or not cmdqv:
            l0(buf, proc, qmp_path)
    res = guest.boot('host', 'dt', args, script, expect,
                     timeout=600, machine_opts='virtualization=on',
                     files=files, memory='2G', workdir=work, qmp=True,
                     on_output=on_output)
    shutil.rmtree(work, ignore_errors=True)
    n = l2_summary(res)
    n2 = l2_summary_of('\n'.join(ln[4:] for ln in res.log.splitlines()
                                 if ln.startswith('L2B-')))
    l1, smmu_traps, dma = None, None, None
    for line in res.log.splitlines():
        if line.startswith('L1-QEMU-CMDQV '):
            try:
                l1 = json.loads(line.split(' ', 1)[1])
            except ValueError:
                pass
        elif line.startswith('L1-SMMU-TRAPS '):
            smmu_traps = int(line.split()[1])
        elif 'L2-DMA ' in line:
            w = line.split('L2-DMA ', 1)[1].split()
            dma = int(w[0]) / max(float(w[5]) - float(w[3]), 0.01)
    if not res.ok or not n:
        return res
    if l0.error or (cmdqv and l1 is None) or smmu_traps is None or \
            dma is None:
        return guest.apply_checks(res, [
            ('l0-cmdqv-stats', not l0.error, l0.error or 'ok'),
            ('l1-qemu-cmdqv-stats', l1 is not None or not cmdqv,
             'no cmdqv-stats from the L1 QEMU monitor'),
            ('l1-qemu-trace', smmu_traps is not None and dma is not None,
             'no SMMU trap count or L2 DMA timing')])
    # The first L2's figures; with cmdqv=on the second L2 comes after.
    st = l0_first.stats if cmdqv else l0.stats
    users = st['vintfs'][1:]
    l2_cmds = sum(v['commands'] for v in users)
    l2_syncs = sum(v['syncs'] for v in users)
    inval = (l2_cmds - l2_syncs) if cmdqv else n['TLBIs on the SMMU CMDQ']
    traps = smmu_traps + (sum(l1['traps'].values()) if cmdqv else 0)
    fig = {'invalidations': inval, 'traps': traps,
           'ioctls': n['IOMMU_HWPT_INVALIDATE'], 'dma': dma}
    if kernel == 'minimal' and mode == 'dt':  # the on/off pair
        CMDQV_FIGURES[cmdqv] = fig
    print(f'    L0 CMDQV: {st["commands"]} commands, VINTF0 (L1 host) '
          f'{st["vintfs"][0]["commands"]}, guest VINTFs (L2) {l2_cmds} '
          f'({l2_syncs} CMD_SYNC), {st["errors"]} errors', flush=True)
    print(f'    L1 QEMU CMDQV: {l1}', flush=True)
    print(f'    L2 TLB invalidations {inval}: L1 QEMU traps {traps} (SMMU '
          f'{smmu_traps}), IOMMU_HWPT_INVALIDATE {fig["ioctls"]}; '
          f'L2 O_DIRECT reads {dma / 1e6:.2f} MB/s', flush=True)
    if cmdqv:
        checks = [
            ('l0-l2-vcmdq-commands', l2_cmds > l2_syncs,
             f'{l2_cmds} L2 commands ran on guest VINTFs of L0'),
            ('l0-l2-vcmdq-one-error', st['errors'] == 1 and
             st['irqs'] >= 1, f'errors={st["errors"]} irqs={st["irqs"]} '
             '(vcmdq-ill\'s command only)'),
            ('l1-error-to-l2', l1['vevents'] >= 1 and l1['irqs'] >= 1,
             f'vevents={l1["vevents"]} irqs={l1["irqs"]}'),
            ('l1-page0-mapped', l1['mapped'] and l1['hw_queues'] >= 1,
             f'mapped={l1["mapped"]} hw_queues={l1["hw_queues"]}'),
            ('l1-page0-no-trap', l1['traps_while_mapped'] == 0,
             f'{l1["traps_while_mapped"]} traps on the mapped VINTF page0'),
            # The TLBIs a guest VCMDQ takes (TLBI_NH_ASID/VA) never reach
            # the SMMU CMDQ; the driver sends the others (its reset's
            # TLBI_NSNH_ALL) there, as on hardware.
            ('l1-no-tlbi-nh-forwarded',
             n['TLBI_NHs on the SMMU CMDQ'] == 0 and
             n['TLBIs on the SMMU CMDQ'] <= n['STE installs'] and
             n['STE installs'] > 0 and not n['failed'],
             f'{n["TLBI_NHs on the SMMU CMDQ"]} TLBI_NHs and '
             f'{n["TLBIs on the SMMU CMDQ"]} TLBIs in all on the SMMU '
             f'CMDQ, {n["STE installs"]} STE installs'),
            ('l1-no-destroy-refused', 'IOMMU_DESTROY of id' not in res.log,
             'the L1 QEMU destroyed every host object it asked to'),
            ('l0-first-l2-released',
             all(not v['enabled'] for v in users), f'{users}')]
        if second:
            checks.append(('l1-l2b-reboot-rebuilt',
                           n2 is not None and n2['host objects made'] == 2 and
                           n2['host objects released'] == 2 and
                           n2['TLBI_NHs on the SMMU CMDQ'] == 0,
                           'second L2: ' + (f'host objects made '
                           f'{n2["host objects made"]}, released '
                           f'{n2["host objects released"]}, TLBI_NHs on the '
                           f'SMMU CMDQ {n2["TLBI_NHs on the SMMU CMDQ"]}'
                           if n2 else 'no trace summary')))
            if l0.error or not l0.stats:
                checks.append(('l0-second-l2-stats', False, l0.error))
            else:
                again = [b['commands'] - a['commands'] for a, b in
                         zip(users, l0.stats['vintfs'][1:])]
                checks.append(('l0-second-l2-same-vintf',
                               [i for i, d in enumerate(again) if d] ==
                               [i for i, v in enumerate(users) if v['commands']],
                               f'commands per guest VINTF, first L2: '
                               f'{[v["commands"] for v in users]}, second: '
                               f'{again}'))
    else:
        checks = [
            ('l0-no-guest-vintf', l2_cmds == 0,
             f'{l2_cmds} commands on guest VINTFs of L0'),
            ('l1-tlbis-forwarded', inval > 0 and fig['ioctls'] > 0 and
             not n['failed'], f'{inval} TLBIs, {fig["ioctls"]} '
             'IOMMU_HWPT_INVALIDATE')]
    res = guest.apply_checks(res, checks, prefix='L0/L1 check')
    return res


def l2_passthrough(accel='kvm'):
    """L1 runs L2 with the NVMe and the virtio disk passed through."""
    work = tempfile.mkdtemp(prefix='box-l2-')
    args, sums = box.l0_args(work)
    l2_initrd = os.path.join(work, 'l2-initrd.gz')
    guest.make_initramfs(l2_initrd, L2_SCRIPT.replace('@NVME@', sums['nvme'])
                         .replace('@VBLK@', sums['vblk']))
    files = box.qemu_l1_files()
    with open(guest.run_script('build-guest-kernel.sh'), 'rb') as f:
        files['box/l2/Image'] = (f.read(), 0o644)
    with open(l2_initrd, 'rb') as f:
        files['box/l2/initrd'] = (f.read(), 0o644)
    script = box.L1_LIB + box.L1_BIND_DISKS + box.l2_qemu_command(['$nvme', '$vblk'], accel=accel)
    res = guest.boot('host', 'dt', args, script, L2_EXPECT, timeout=600,
                     machine_opts='virtualization=on', files=files,
                     memory='2G', workdir=work)
    shutil.rmtree(work, ignore_errors=True)
    return res


# Behind the same accelerated SMMU: the NVMe (00:01.0) and virtio-blk
# (00:02.0) passed through, and an emulated virtio-blk of L1's QEMU
# (00:03.0, /dev/vdb) whose DMA QEMU translates by walking L2's stage 1.
L2_ACCEL_SCRIPT = L2_SCRIPT + r'''
check l2-smmu-probed sh -c 'ls /sys/class/iommu | grep -q smmu'
check l2-emu-present wait_blk /dev/vdb
check l2-emu-checksum sh -c "sha256sum /dev/vdb | grep -q ^@EMU@"
for d in nvme:01 vblk:02 emu:03; do
    dev=/sys/bus/pci/devices/0000:00:${d#*:}.0
    grp=$(basename "$(readlink $dev/iommu_group)")
    echo "${d%%:*} $dev iommu group $grp type $(cat /sys/kernel/iommu_groups/$grp/type)"
    check l2-${d%%:*}-translated grep -qE '^DMA' /sys/kernel/iommu_groups/$grp/type
done
'''
# The emulated disk: the first MiB of the L2 kernel image, made in L1.
EMU_DISK = ('head -c 1048576 /box/l2/Image > /tmp/emu.img\n',
            ['-drive', 'if=none,id=emu,file=/tmp/emu.img,format=raw',
             '-device', 'virtio-blk-pci,drive=emu,disable-legacy=on,'
             'iommu_platform=on,addr=3.0'])
# A real fault: the NVMe, its driver unbound, fetches a command from an
# IOVA its DMA domain does not map. L0's SMMU raises F_TRANSLATION, L1's
# kernel hands it to the vEVENTQ with the vSID, L1's QEMU puts it in L2's
# EVTQ and L2's SMMU driver prints it, naming the device and its SID.
FAULT_IOVA = '0x12340000'
L2_FAULT_SCRIPT = r'''
echo $(pci_find 0x1b36 0x0010 | xargs basename) > /sys/bus/pci/drivers/nvme/unbind
/nvme-dma $(pci_find 0x1b36 0x0010) @IOVA@
i=0
while ! dmesg | grep -q 'event: F_TRANSLATION' && [ $i -lt 50 ]; do
    sleep 0.2; i=$((i + 1))
done
dmesg | grep -A1 'event: '
check l2-fault-reported sh -c "dmesg | grep -q 'event: F_TRANSLATION client: 0000:00:01.0 sid: 0x8 ssid: 0x0 iova: @IOVA@'"
'''.replace('@IOVA@', FAULT_IOVA)
L2_ACCEL_SCRIPT += L2_FAULT_SCRIPT
L2_ACCEL_EXPECT = L2_EXPECT + ['l2-smmu-probed', 'l2-emu-present',
                               'l2-emu-checksum', 'l2-nvme-translated',
                               'l2-vblk-translated', 'l2-emu-translated',
                               'l2-fault-reported']


# Guest reboot: the first boot reads the disks, writes a marker into the
# last sector of the passed-through virtio disk (a DMA write through
# nested translation) and reboots; the reset releases every host object
# (the L1 QEMU's trace: host objects released), the second boot builds
# them again, finds the marker and reads the NVMe once more.
L2_REBOOT_SCRIPT = r'''
wait_blk() {
    i=0
    while [ ! -b $1 ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
    test -b $1
}
wait_blk /dev/vda
if dd if=/dev/vda bs=512 skip=8191 count=1 2>/dev/null | grep -q BOX-BOOT2; then
    echo "L2 second boot"
    check l2-boot2-marker true
    check l2-boot2-smmu-probed sh -c 'ls /sys/class/iommu | grep -q smmu'
    check l2-boot2-nvme-present wait_blk /dev/nvme0n1
    check l2-boot2-nvme-checksum sh -c "sha256sum /dev/nvme0n1 | grep -q ^@NVME@"
else
    check l2-boot1-vblk-checksum sh -c "sha256sum /dev/vda | grep -q ^@VBLK@"
    check l2-boot1-nvme-present wait_blk /dev/nvme0n1
    check l2-boot1-nvme-checksum sh -c "sha256sum /dev/nvme0n1 | grep -q ^@NVME@"
    printf 'BOX-BOOT2' | dd of=/dev/vda bs=512 seek=8191 conv=notrunc 2>/dev/null
    sync
    echo "L2 first boot done: rebooting"
    reboot -f
fi
'''
L2_REBOOT_EXPECT = ['l2-boot1-vblk-checksum', 'l2-boot1-nvme-present',
                    'l2-boot1-nvme-checksum', 'l2-boot2-marker',
                    'l2-boot2-smmu-probed', 'l2-boot2-nvme-present',
                    'l2-boot2-nvme-checksum']


# Hot-unplug: the NVMe sits behind a root port of L2 (hot-pluggable);
# when L2 has read it, L1 unplugs it (device_del on the L1 QEMU's
# monitor) and, with that L2 still running, starts a second L2 on the
# same device: only a device whose host objects and VFIO binding were all
# released can be bound again.
L2_UNPLUG_SCRIPT = L2_REBOOT_SCRIPT.split('wait_blk /dev/vda', 1)[0] + r'''
if grep -q box.second /proc/cmdline; then
    check l2b-nvme-present wait_blk /dev/nvme0n1
    check l2b-nvme-checksum sh -c "sha256sum /dev/nvme0n1 | grep -q ^@NVME@"
else
    check l2-nvme-present wait_blk /dev/nvme0n1
    check l2-nvme-checksum sh -c "sha256sum /dev/nvme0n1 | grep -q ^@NVME@"
    dev=$(pci_find 0x1b36 0x0010)
    echo "L2 unplug $dev now: GUEST-UNPLUG-NOW"
    i=0; while [ $i -lt 600 ] && test -e "$dev"; do sleep 0.1; i=$((i + 1)); done
    check l2-nvme-removed sh -c "! test -e $dev"
    echo "L2 GUEST-UNPLUG-DONE"
    sleep 600
fi
'''
L2_UNPLUG_EXPECT = ['l2-nvme-present', 'l2-nvme-checksum', 'l2-nvme-removed',
                    'l2b-nvme-present', 'l2b-nvme-checksum',
                    'l1-l2-stopped']
L1_UNPLUG = r'''
wait_log() {
    i=0
    while ! grep -q "$1" /tmp/l2.log 2>/dev/null && [ $i -lt 1500 ]; do
        sleep 0.2; i=$((i + 1))
    done
}
mkfifo /tmp/mon.in /tmp/mon.out
cat /tmp/mon.out > /dev/null &
(@L2A@) &
wait_log GUEST-UNPLUG-NOW
echo "device_del pt0" > /tmp/mon.in
wait_log GUEST-UNPLUG-DONE
@L2B@
echo quit > /tmp/mon.in
i=0; while pidof qemu-system-aarch64 > /dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
check l1-l2-stopped sh -c '! pidof qemu-system-aarch64'
'''


def l2_unplug(accel='kvm'):
    """Hot-unplug of a passed-through device releases it (Debian's L2)."""
    work = tempfile.mkdtemp(prefix='box-l2u-')
    args, sums = box.l0_args(work)
    l2_initrd = os.path.join(work, 'l2-initrd.gz')
    image_path, moddir = guest.kernel_artifacts('stock')
    guest.make_initramfs(l2_initrd, L2_UNPLUG_SCRIPT.replace('@NVME@',
                                                             sums['nvme']),
                         moddir, ['nvme'])
    files = box.qemu_l1_files()
    with open(image_path, 'rb') as f:
        files['box/l2/Image'] = (f.read(), 0o644)
    with open(l2_initrd, 'rb') as f:
        files['box/l2/initrd'] = (f.read(), 0o644)
    first = box.l2_qemu_command(
        # (pciehp polls: with pci=nomsi its INTx never got the slot
        # powered off in L2)
        ['$nvme'], accel=accel, append='pci=nomsi pciehp.pciehp_poll_mode=1',
        smmu='accel', echo=True,
        extra=['-chardev', 'pipe,id=mon0,path=/tmp/mon',
               '-mon', 'chardev=mon0,mode=readline',
               '-device', 'pcie-root-port,id=rp1,chassis=1,slot=1,addr=1.0'],
        bus='rp1', log='/tmp/l2.log')
    second = box.l2_qemu_command(['$nvme'], accel=accel,
                                 append='pci=nomsi box.second', prefix='L2B')
    script = box.L1_LIB + r'''
nvme=$(pci_find 0x1b36 0x0010)
to_vfio $nvme > /dev/null
''' + L1_UNPLUG.replace('@L2A@', first.strip().replace('\n', '; '))\
        .replace('@L2B@', second) + box.L2_TRACE_SUMMARY
    res = guest.boot('host', 'dt', args, script, L2_UNPLUG_EXPECT,
                     timeout=600, machine_opts='virtualization=on',
                     files=files, memory='2G', workdir=work)
    shutil.rmtree(work, ignore_errors=True)
    n = l2_summary(res)
    if n and n['devices released'] != 1:
        res.ok, res.reason = False, 'the unplug released no host device'
    return res


def l2_summary(res):
    """The L2-QEMU trace summary's numbers, by name (box.L2_TRACE_SUMMARY),
    printed; None (and @res failed) if the boot failed or has none."""
    n = l2_summary_of(res.log) if res.ok else None
    if res.ok and not n:
        res.ok, res.reason = False, 'no L2-QEMU trace summary'
    if n:
        print(f'    L1 QEMU: {n}', flush=True)
    return n


def l2_summary_of(log):
    for line in log.splitlines():
        if line.startswith('L2-QEMU guest CMD_SYNCs'):
            out = {}
            for part in line[len('L2-QEMU '):].split(', '):
                name, _, num = part.rpartition(' ')
                out[name] = int(num)
            return out
    return None


def l2_msi_append(mode):
    """L2's kernel arguments for the passed-through devices' interrupts.
    By ACPI the IORT's RMR node makes L2 map the host's MSI window 1:1 in
    its stage 1 and they use MSI-X; a device tree cannot ask for that:
    INTx (pci=nomsi)."""
    return '' if mode == 'acpi' else 'pci=nomsi'


# ACPI L2: the passed-through devices' MSI-X reach L2 through the nested
# translation (the L0 SMMU walks L2's 1:1 map of the host MSI window,
# then the L1 kernel's stage 2 to L1's ITS; L1's KVM injects into L2's
# vITS at the doorbell the L1 QEMU's SMMU names), and no MSI faults.
L2_MSI_SCRIPT = r'''
msi_count() {
    t=0
    for irq in $(ls $1/msi_irqs 2>/dev/null); do
        c=$(awk -v irq="$irq:" '$1 == irq { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts)
        t=$((t + ${c:-0}))
    done
    echo $t
}
for d in @MSI_DEVS@; do
    dev=/sys/bus/pci/devices/${d#*:}
    grp=$(basename "$(readlink $dev/iommu_group)")
    cat /sys/kernel/iommu_groups/$grp/reserved_regions
    check l2-${d%%:*}-msi-window grep -q '^0x0*8000000 0x0*80fffff direct' /sys/kernel/iommu_groups/$grp/reserved_regions
    n=$(msi_count $dev)
    echo "${d%%:*} MSI vectors: $(ls $dev/msi_irqs 2>/dev/null | wc -l), interrupts $n"
    check l2-${d%%:*}-msix test "$n" -gt 0
done
grep -i msi /proc/interrupts
check l2-no-msi-fault sh -c "! dmesg | grep 'event: ' | grep -q 'iova: 0x80'"
'''
# The passed-through disks of l2-accel (name:BDF).
L2_MSI_DEVS = 'nvme:0000:00:01.0 vblk:0000:00:02.0'
L2_MSI_EXPECT = ['l2-nvme-msi-window', 'l2-vblk-msi-window', 'l2-nvme-msix',
                 'l2-vblk-msix', 'l2-no-msi-fault']


def l2_accel(kernel='minimal', reboot=False, accel='kvm', append=None,
             mode='dt'):
    """L1 runs L2 (@kernel: 'minimal' or Debian's 'stock') behind
    arm-smmuv3,accel=on with the NVMe and the virtio disk passed through:
    the L2 kernel's SMMU driver owns their stage 1, the real L1 kernel
    nests it over the IOAS of L2's RAM. @reboot: the reboot case. @mode
    'acpi': L2 boots by UEFI and finds its SMMU in the IORT, and the
    passed-through devices use MSI-X (L2_MSI_SCRIPT)."""
    if append is None:
        append = l2_msi_append(mode)
    work = tempfile.mkdtemp(prefix='box-l2a-')
    args, sums = box.l0_args(work)
    l2_initrd = os.path.join(work, 'l2-initrd.gz')
    with open(box.tool('nvme-dma'), 'rb') as f:
        l2_files = {'nvme-dma': (f.read(), 0o755)}
    image_path, moddir = guest.kernel_artifacts(kernel)
    with open(image_path, 'rb') as f:
        image = f.read()
    emu_sum = hashlib.sha256(image[:1 << 20]).hexdigest()
    l2_script = L2_REBOOT_SCRIPT if reboot else L2_ACCEL_SCRIPT
    expect = (L2_REBOOT_EXPECT if reboot else L2_ACCEL_EXPECT) + \
        ['firmware-' + mode]
    if mode == 'acpi' and not reboot:
        # (before the fault test, which unbinds the NVMe)
        head, sep, tail = l2_script.partition(L2_FAULT_SCRIPT)
        l2_script = head + L2_MSI_SCRIPT.replace('@MSI_DEVS@', L2_MSI_DEVS) + \
            sep + tail
        expect += L2_MSI_EXPECT
    guest.make_initramfs(l2_initrd, disk_check.firmware_check(mode) +
                         l2_script
                         .replace('@NVME@', sums['nvme'])
                         .replace('@VBLK@', sums['vblk'])
                         .replace('@EMU@', emu_sum), moddir,
                         ['nvme', 'virtio_blk'] if moddir else (),
                         files=l2_files)
    files = box.qemu_l1_files()
    if mode == 'acpi':
        files.update(box.l2_efi_files())
    files['box/l2/Image'] = (image, 0o644)
    with open(l2_initrd, 'rb') as f:
        files['box/l2/initrd'] = (f.read(), 0o644)
    script = box.L1_LIB + box.L1_BIND_DISKS + EMU_DISK[0] + box.l2_qemu_command(['$nvme', '$vblk'], accel=accel,
                                       append=append, smmu='accel',
                                       echo=True, extra=EMU_DISK[1],
                                       reboot=reboot, mode=mode) + \
        box.L2_TRACE_SUMMARY
    res = guest.boot('host', 'dt', args, script, expect,
                     timeout=600, machine_opts='virtualization=on',
                     files=files, memory='2G', workdir=work)
    shutil.rmtree(work, ignore_errors=True)
    n = l2_summary(res)
    if n:
        if not n['IOMMU_HWPT_INVALIDATE'] or not n['STE installs']:
            res.ok, res.reason = False, 'nothing was forwarded to the host'
        elif (n['batches not one call'] or n['calls outside a batch'] or
              n['batches'] != n['IOMMU_HWPT_INVALIDATE']):
            res.ok, res.reason = False, 'not one IOMMU_HWPT_INVALIDATE per batch'
        elif n['failed']:
            res.ok, res.reason = False, 'the host refused an STE'
        elif not reboot and not n['events from the host']:
            res.ok, res.reason = False, 'no event came from the host vEVENTQ'
        elif reboot and (n['host objects released'] < 2 or
                         n['host objects made'] < 2):
            res.ok, res.reason = False, ('the reboot did not release and '
                                         'rebuild the host objects')
    return res


# Two accelerated SMMUs in L2 (ACPI: a device tree does not describe
# pxb-pcie buses): the NVMe behind smmu0 on pcie.0, the virtio disk
# behind smmu1 on a pxb-pcie (00:10.0: bus 8, root port 08:00.0, the disk
# 09:00.0);
# each SMMU gets its own host objects (vIOMMU over its S2) on the one L0
# SMMU, both disks are read through their own nested translation and
# interrupt by MSI-X.
L2_TWO_SMMUS_DEVS = 'nvme:0000:00:01.0 vblk:0000:09:00.0'
L2_TWO_SMMUS_SCRIPT = L2_SCRIPT + r'''
check l2-two-smmus sh -c 'test $(ls /sys/class/iommu | grep -c smmu) -eq 2'
for d in @MSI_DEVS@; do
    dev=/sys/bus/pci/devices/${d#*:}
    grp=$(basename "$(readlink $dev/iommu_group)")
    echo "${d%%:*} ${d#*:} behind $(basename "$(readlink $dev/iommu)") group $grp type $(cat /sys/kernel/iommu_groups/$grp/type)"
    check l2-${d%%:*}-translated grep -qE '^DMA' /sys/kernel/iommu_groups/$grp/type
done
check l2-different-smmus sh -c 'test "$(readlink /sys/bus/pci/devices/0000:00:01.0/iommu)" != "$(readlink /sys/bus/pci/devices/0000:09:00.0/iommu)"'
''' + L2_MSI_SCRIPT
L2_TWO_SMMUS_EXPECT = L2_EXPECT + ['l2-two-smmus', 'l2-nvme-translated',
                                   'l2-vblk-translated',
                                   'l2-different-smmus'] + L2_MSI_EXPECT


def l2_two_smmus(kernel='minimal', accel='kvm'):
    """L2 (ACPI) with two arm-smmuv3,accel=on, one passed-through disk
    behind each (L2_TWO_SMMUS_SCRIPT)."""
    work = tempfile.mkdtemp(prefix='box-l2s-')
    args, sums = box.l0_args(work)
    l2_initrd = os.path.join(work, 'l2-initrd.gz')
    image_path, moddir = guest.kernel_artifacts(kernel)
    guest.make_initramfs(l2_initrd, disk_check.firmware_check('acpi') +
                         L2_TWO_SMMUS_SCRIPT
                         .replace('@MSI_DEVS@', L2_TWO_SMMUS_DEVS)
                         .replace('@NVME@', sums['nvme'])
                         .replace('@VBLK@', sums['vblk']), moddir,
                         ['nvme', 'virtio_blk'] if moddir else ())
    files = box.qemu_l1_files()
    files.update(box.l2_efi_files())
    with open(image_path, 'rb') as f:
        files['box/l2/Image'] = (f.read(), 0o644)
    with open(l2_initrd, 'rb') as f:
        files['box/l2/initrd'] = (f.read(), 0o644)
    extra = ['-device', 'pxb-pcie,id=pcie.1,bus_nr=8,bus=pcie.0,addr=0x10',
             '-device', 'arm-smmuv3,primary-bus=pcie.1,accel=on,id=smmu1',
             '-device', 'pcie-root-port,id=rp1,bus=pcie.1,chassis=1']
    script = box.L1_LIB + box.L1_BIND_DISKS + box.l2_qemu_command(
        [('$nvme', 'pcie.0'), ('$vblk', 'rp1')], accel=accel, smmu='accel', echo=True,
        extra=extra, mode='acpi') + box.L2_TRACE_SUMMARY
    res = guest.boot('host', 'dt', args, script,
                     L2_TWO_SMMUS_EXPECT + ['firmware-acpi'], timeout=600,
                     machine_opts='virtualization=on', files=files,
                     memory='2G', workdir=work)
    shutil.rmtree(work, ignore_errors=True)
    n = l2_summary(res)
    if n:
        res = guest.apply_checks(res, [
            ('l1-two-hosts-objects', n['host objects made'] == 2 and
             n['host objects released'] == 2,
             f'host objects made {n["host objects made"]}, released '
             f'{n["host objects released"]} (want 2: one set per SMMU)'),
            ('l1-one-call-per-batch', n['IOMMU_HWPT_INVALIDATE'] > 0 and
             n['batches'] == n['IOMMU_HWPT_INVALIDATE'] and
             not n['batches not one call'] and
             not n['calls outside a batch'] and not n['failed'],
             f'{n["batches"]} batches, {n["IOMMU_HWPT_INVALIDATE"]} '
             'IOMMU_HWPT_INVALIDATE')], prefix='L1 check')
    return res


class CaseOutput:
    """sys.stdout while the cases run in threads: what a case's thread
    prints goes to that case's buffer, printed whole when it ends, so
    that two cases running side by side do not mix their lines."""

    def __init__(self, real):
        self.real = real
        self.local = threading.local()

    def write(self, text):
        buf = getattr(self.local, 'buf', None)
        if buf is None:
            return self.real.write(text)
        buf.append(text)
        return len(text)

    def flush(self):
        if getattr(self.local, 'buf', None) is None:
            self.real.flush()


def conformance_case(filter_text):
    """l1-boot and the conformance-<case> comparisons: the real
    observations of one L1 boot against iommufd-sim's. Returns (passed,
    failed)."""
    passed = failed = 0
    work = tempfile.mkdtemp(prefix='box-')
    args, _ = box.l0_args(work)
    with open(box.tool('conformance-real'), 'rb') as f:
        files = {'box/conformance-real': (f.read(), 0o755)}
    res = guest.boot('host', 'dt', args, L1_SCRIPT, EXPECT, timeout=900,
                     machine_opts='virtualization=on', files=files,
                     workdir=work)
    shutil.rmtree(work, ignore_errors=True)
    real = [ln.split('CONF ', 1)[1] for ln in res.log.splitlines()
            if ln.startswith('CONF ')]
    if 'CONF-EXIT rc=0' not in res.log and res.ok:
        res.ok, res.reason = False, 'conformance-real did not exit 0'
    if filter_text in 'l1-boot':
        guest.report('l1-boot', res)
        passed += res.ok
        failed += not res.ok
    sim = box.sim_observations()
    cases = box.divergences(real, sim)
    ndiv = 0
    for case, diff in cases:
        name = f'conformance-{case}'
        if filter_text not in name:
            continue
        ndiv += len(diff)
        print(f'{"PASS" if not diff else "FAIL"}: {name} '
              f'({len(diff)} divergences)', flush=True)
        for step, r, s in diff:
            print(f'    {case} {step}\n      real: {r}\n      sim:  {s}',
                  flush=True)
        passed += not diff
        failed += bool(diff)
    print(f'conformance: {len(cases)} cases, {len(real)} real observations, '
          f'{len(sim)} sim observations, {ndiv} divergences', flush=True)
    return passed, failed


def cmdqv_figures():
    """The l2-cmdqv and l2-cmdqv-off figures side by side."""
    if True not in CMDQV_FIGURES or False not in CMDQV_FIGURES:
        return
    on, off = CMDQV_FIGURES[True], CMDQV_FIGURES[False]

    def per_k(f, key):
        return 1000 * f[key] / max(f['invalidations'], 1)
    print(f'l2-cmdqv figures per 1000 L2 TLB invalidations: cmdqv=on '
          f'{per_k(on, "traps"):.0f} traps, {per_k(on, "ioctls"):.0f} '
          f'ioctls; cmdqv=off {per_k(off, "traps"):.0f} traps, '
          f'{per_k(off, "ioctls"):.0f} ioctls; L2 DMA cmdqv=on/off '
          f'{on["dma"] / off["dma"]:.2f}', flush=True)


def box_cases():
    """(name, function returning a Result), the longest first so that
    the cases running side by side end close together."""
    cases = []
    for name, kernel, reboot, mode, accel in (
            ('l2-accel-acpi-tcg', 'minimal', False, 'acpi', 'tcg'),
            ('l2-accel-stock-acpi', 'stock', False, 'acpi', 'kvm'),
            ('l2-accel-stock', 'stock', False, 'dt', 'kvm'),
            ('l2-accel-reboot', 'minimal', True, 'dt', 'kvm'),
            ('l2-accel-acpi', 'minimal', False, 'acpi', 'kvm'),
            ('l2-accel', 'minimal', False, 'dt', 'kvm')):
        cases.append((name, functools.partial(
            l2_accel, kernel, reboot, mode=mode, accel=accel)))
    for name, on, kernel, mode in (
            ('l2-cmdqv', True, 'minimal', 'dt'),
            ('l2-cmdqv-acpi', True, 'minimal', 'acpi'),
            ('l2-cmdqv-64k', True, 'minimal-64k', 'dt'),
            ('l2-cmdqv-off', False, 'minimal', 'dt')):
        cases.append((name, functools.partial(
            l2_cmdqv, on, kernel=kernel, mode=mode,
            second=name == 'l2-cmdqv')))
    cases += [('l2-accel-unplug', l2_unplug),
              ('l2-accel-two-smmus', l2_two_smmus),
              ('l2-passthrough', l2_passthrough),
              ('l1-cmdqv', functools.partial(l1_cmdqv, 'dt')),
              ('l1-cmdqv-acpi', functools.partial(l1_cmdqv, 'acpi')),
              ('l1-no-fwb', functools.partial(l1_no_fwb, 'dt')),
              ('l1-no-fwb-acpi', functools.partial(l1_no_fwb, 'acpi'))]
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-k', default='')
    # Each case is one L0 (TCG, two vCPUs) that is mostly one busy vCPU
    # running L1 or L2: two side by side use both cores of a 2-core
    # machine. BOX_JOBS=1 runs them one after the other.
    ap.add_argument('-j', type=int,
                    default=int(os.environ.get('BOX_JOBS', '2')))
    opts = ap.parse_args()
    out = CaseOutput(sys.stdout)
    lock = threading.Lock()

    def run(job):
        out.local.buf = []
        t0 = time.monotonic()
        try:
            if job is None:
                counts = conformance_case(opts.k)
            else:
                name, fn = job
                try:
                    res = fn()
                except Exception as e:  # a harness bug fails this case only
                    res = guest.Result(False, f'harness error: {e!r}', '',
                                       [], time.monotonic() - t0)
                guest.report(name, res)
                counts = (int(res.ok), int(not res.ok))
        finally:
            text, out.local.buf = ''.join(out.local.buf), None
            with lock:
                out.real.write(text)
                out.real.flush()
        return counts

    jobs = [j for j in box_cases() if opts.k in j[0]]
    if opts.k in 'l1-boot' or 'conformance-'.startswith(opts.k) or \
            opts.k.startswith('conformance-'):
        jobs.insert(0, None)    # the L1 boot of the conformance cases
    sys.stdout = out
    try:
        with concurrent.futures.ThreadPoolExecutor(max(opts.j, 1)) as pool:
            counts = list(pool.map(run, jobs))
    finally:
        sys.stdout = out.real
    cmdqv_figures()
    return guest.summary(sum(c[0] for c in counts),
                         sum(c[1] for c in counts), opts.k)


if __name__ == '__main__':
    sys.exit(main())
