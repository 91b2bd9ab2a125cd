# SPDX-License-Identifier: GPL-2.0-or-later
"""The host box: L0 (our QEMU under TCG, an emulated nesting SMMUv3 with
an NVMe and a virtio-blk disk behind it) running L1, a real Linux 7.2
iommufd/VFIO/KVM host (scripts/build-host-kernel.sh).

This module holds what the box tests share: L0's command line, the L1
shell helpers that hand the disks to vfio-pci, and the differential
conformance report (the real kernel's answers against iommufd-sim's).
"""

import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'guest'))
import guest  # noqa: E402

TOP = guest.TOP

# L0's SMMU and the two passthrough disks, at the StreamIDs the
# simulator's side of the conformance uses (tests/conformance/host-sim.c).
NVME_ID = ('0x1b36', '0x0010')
VIRTIO_BLK_ID = ('0x1af4', '0x1042')


def l0_args(work, disk_size=4 << 20, smmu_opts=''):
    """L0 devices: the nesting SMMUv3 on pcie.0 (plus @smmu_opts, e.g.
    ',cmdqv=on' for the emulated Tegra241 CMDQV), an NVMe at 00:01.0
    (StreamID 0x8) and a modern virtio-blk at 00:02.0 (0x10).
    Returns (args, {disk name: sha256})."""
    sums = {}
    args = ['-device', 'arm-smmuv3,primary-bus=pcie.0,stage=nested,id=smmu0'
            + smmu_opts]
    for i, (name, dev) in enumerate((
            ('nvme', 'nvme,serial=box-nvme,addr=1.0'),
            # (virtio DMA goes through the SMMU only with iommu_platform)
            ('vblk', 'virtio-blk-pci,disable-legacy=on,iommu_platform=on,'
                     'addr=2.0'))):
        path = os.path.join(work, f'{name}.img')
        sums[name] = guest.make_disk(path, disk_size, seed=10 + i)
        args += ['-drive', f'if=none,id={name},file={path},format=raw',
                 '-device', f'{dev},drive={name}']
    return args, sums


# L1 shell helpers (after guest.LIB's pci_find/check).
L1_LIB = r'''
to_vfio() {
    # to_vfio SYSFS-PATH: hand the function to vfio-pci, print its cdev
    d=$1; b=$(basename $d)
    echo vfio-pci > $d/driver_override
    [ -e $d/driver ] && echo $b > $d/driver/unbind
    echo $b > /sys/bus/pci/drivers_probe
    i=0
    while [ ! -d $d/vfio-dev ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    echo /dev/vfio/devices/$(ls $d/vfio-dev 2>/dev/null)
}
'''


# L1: both disks of l0_args() to vfio-pci, their sysfs paths in $nvme and
# $vblk (after L1_LIB).
L1_BIND_DISKS = r'''
nvme=$(pci_find 0x1b36 0x0010)
vblk=$(pci_find 0x1af4 0x1042)
to_vfio $nvme > /dev/null
to_vfio $vblk > /dev/null
'''


def tool(name):
    d = guest.run_script('build-box-tools.sh')
    return os.path.join(d, name)


def sim_observations(cmdqv=False, fwb=True, canwbs=True):
    """The conformance cases' lines on iommufd-sim (built for this host);
    @cmdqv: with the CMDQV of an L0 SMMU with cmdqv=on; not @fwb: an L0
    SMMU with s2fwb=off; not @canwbs: L1's devices not CANWBS (an L1
    booted by device tree: no IORT)."""
    build = guest.run_script('build-sim.sh')
    exe = os.path.join(build, 'tests', 'conformance', 'conformance-sim')
    env = dict(os.environ, CONF_SIM_CMDQV='1' if cmdqv else '0',
               CONF_SIM_NO_FWB='0' if fwb else '1',
               CONF_SIM_NO_CANWBS='0' if canwbs else '1')
    out = subprocess.run([exe], check=True, stdout=subprocess.PIPE,
                         text=True, env=env).stdout
    return out.splitlines()


def parse(lines):
    """{case: {step: rest}} in order, from '<case> <step> rest' lines."""
    cases = {}
    for line in lines:
        parts = line.strip().split(' ', 2)
        if len(parts) < 3:
            continue
        cases.setdefault(parts[0], {})[parts[1]] = parts[2]
    return cases


def divergences(real_lines, sim_lines):
    """[(case, [(step, real, sim)])] for every case; a step whose line
    differs, or is missing on one side, is a divergence."""
    real, sim = parse(real_lines), parse(sim_lines)
    out = []
    for case in list(real) + [c for c in sim if c not in real]:
        r, s = real.get(case, {}), sim.get(case, {})
        diff = [(step, r.get(step, '(missing)'), s.get(step, '(missing)'))
                for step in list(r) + [t for t in s if t not in r]
                if r.get(step) != s.get(step)]
        out.append((case, diff))
    return out


def elf_needed(path):
    """DT_NEEDED names and the interpreter of an ELF file (readelf)."""
    out = subprocess.run(['readelf', '-d', '-l', '-W', path], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    needed, interp = [], None
    for line in out.splitlines():
        if '(NEEDED)' in line and '[' in line:
            needed.append(line.split('[', 1)[1].split(']', 1)[0])
        if 'Requesting program interpreter:' in line:
            interp = line.split(':', 1)[1].strip().rstrip(']')
    return needed, interp


_L1_FILES_LOCK = threading.Lock()
_L1_FILES = {}


def qemu_l1_files():
    """The cross-built qemu-system-aarch64 (stripped) and every library it
    loads, from the arm64 sysroot, as initramfs files for L1 (a new dict
    each call; read once per process)."""
    with _L1_FILES_LOCK:
        if not _L1_FILES:
            _L1_FILES.update(_read_qemu_l1_files())
        return dict(_L1_FILES)


def _read_qemu_l1_files():
    build = guest.run_script('build-qemu.sh', '--host=arm64')
    sysroot = guest.run_script('fetch-arm64-sysroot.sh')
    libdir = os.path.join(sysroot, 'usr', 'lib', 'aarch64-linux-gnu')
    exe = os.path.join(build, 'qemu-system-aarch64')
    stripped = exe + '.stripped'
    if (not os.path.exists(stripped) or
            os.path.getmtime(stripped) < os.path.getmtime(exe)):
        subprocess.run(['aarch64-linux-gnu-strip', '-o', stripped, exe],
                       check=True)
    files = {}
    with open(stripped, 'rb') as f:
        files['box/qemu-system-aarch64'] = (f.read(), 0o755)
    todo, _ = elf_needed(exe)
    _, interp = elf_needed(exe)
    seen = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = os.path.realpath(os.path.join(libdir, name))
        if not os.path.exists(path):
            raise FileNotFoundError(f'{name} (needed by QEMU) not in {libdir}')
        with open(path, 'rb') as f:
            files[f'lib/aarch64-linux-gnu/{name}'] = (f.read(), 0o755)
        todo += elf_needed(path)[0]
    if interp:
        with open(os.path.realpath(os.path.join(libdir,
                                                os.path.basename(interp))),
                  'rb') as f:
            files[interp.lstrip('/')] = (f.read(), 0o755)
    return files


# UEFI for an L2 booted by ACPI (l2_qemu_command's mode 'acpi'): Debian's
# qemu-efi-aarch64 (scripts/setup-deps.sh installs it), in L1's image.
L2_EFI = '/box/efi.fd'


def l2_efi_files():
    """The L1 initramfs files an ACPI L2 needs: its UEFI firmware."""
    with open(guest.EFI, 'rb') as f:
        return {L2_EFI.lstrip('/'): (f.read(), 0o644)}


# The L1 QEMU's trace of an accelerated SMMU: every guest command and
# every host call of smmuv3-accel.c.
L2_TRACE = '/tmp/l2-qemu.trace'
L2_TRACE_ARGS = ['-trace', "'smmuv3_accel_*'", '-trace', 'smmuv3_cmdq_opcode',
                 '-D', L2_TRACE]


def l2_qemu_command(devices, kernel='/box/l2/Image', initrd='/box/l2/initrd',
                    append='', accel='kvm', memory='256M', smmu=None,
                    echo=False, extra=(), reboot=False, bus=None,
                    log=None, prefix='L2', smmu_opts='', mode='dt'):
    """The L1 shell command that runs L2 on our QEMU with @devices (L1
    shell expressions of sysfs paths) passed through by vfio-pci over
    iommufd; L2's console lines come out prefixed 'L2: '. @smmu='accel'
    puts them behind arm-smmuv3,accel=on (upstream's command line: the
    SMMU takes its iommufd from the VFIO devices), traced to L2_TRACE.
    @echo: print the command line first ('+ qemu-system-aarch64 ...').
    @extra: more L1 QEMU arguments (emulated devices). @reboot: let L2
    reboot (a reset), instead of -no-reboot. @bus: the devices' bus (a
    device given as (path, bus) has its own).
    @log: also copy L2's console to that L1 file. @prefix: of its lines.
    @smmu_opts: more arm-smmuv3 options (',cmdqv=on'). @mode 'acpi': L2
    boots by UEFI (L2_EFI, which l2_efi_files() puts in L1) and finds its
    SMMU in the IORT; 'dt': by the device tree."""
    cpu = 'host' if accel == 'kvm' else 'max'
    machine = 'virt,gic-version=3' + (',acpi=on' if mode == 'acpi' else '')
    cmd = ['/box/qemu-system-aarch64', '-M', machine,
           '-accel', accel, '-cpu', cpu, '-smp', '1', '-m', memory,
           '-nodefaults', '-display', 'none', '-serial', 'stdio',
           '-object', 'iommufd,id=ifd0'] + ([] if reboot else ['-no-reboot'])
    if smmu == 'accel':
        cmd += ['-device', 'arm-smmuv3,primary-bus=pcie.0,accel=on,id=smmu0' +
                smmu_opts]
        cmd += L2_TRACE_ARGS
    cmd += list(extra)
    for i, d in enumerate(devices):
        d, dbus = d if isinstance(d, tuple) else (d, bus)
        cmd += ['-device', f'vfio-pci,sysfsdev={d},iommufd=ifd0,id=pt{i}' +
                (f',bus={dbus}' if dbus else '')]
    if mode == 'acpi':
        cmd += ['-bios', L2_EFI]
        append = 'acpi=force ' + append
    cmd += ['-kernel', kernel, '-initrd', initrd, '-append',
            f'"console=ttyAMA0 panic=-1 {append}"']
    line = ' '.join(cmd)
    show = ''
    if echo:
        show = ('echo "+ ' + line.replace('"', '').replace("'", '') +
                '"\n')
    # (L1's console is a tty: sed's output is line buffered.)
    tee = f' | tee {log}' if log else ''
    return ('ulimit -l unlimited\n' + show + line +
            f' 2>&1 < /dev/null{tee} | sed "s/^/{prefix}: /"\n')


# After an accelerated L2 exits, from L2_TRACE: the guest's CMD_SYNCs,
# the batches of forwarded commands they closed (a command the host has
# no vDEVICE for is done locally and counts for none), the
# IOMMU_HWPT_INVALIDATE calls, and the batches not issued as exactly one
# call. One line: 'L2-QEMU guest CMD_SYNCs N, batches N, ...'.
L2_TRACE_SUMMARY = r"""
awk '
/(^|:)smmuv3_cmdq_opcode/ {
    if ($0 ~ /CMD_SYNC/) {
        syncs++
        if (open && calls != 1) bad++
        open = 0; calls = 0
        if (pend > 0) { batches++; open = 1 }
        pend = 0
    } else if ($0 ~ /TLBI_NH_|TLBI_NSNH_ALL|CFGI_CD|ATC_INV/) {
        pend++; fwd++
        if ($0 ~ /TLBI_/) tlbis++
        if ($0 ~ /TLBI_NH_/) nh++
    }
}
/(^|:)smmuv3_accel_cmd_local / { pend--; fwd-- }
/(^|:)smmuv3_accel_invalidate / { inv++; if (open) calls++; else stray++ }
/(^|:)smmuv3_accel_install_ste / { ste++ }
/(^|:)smmuv3_accel_install_failed / { stefail++ }
/(^|:)smmuv3_accel_event / { events++ }
/(^|:)smmuv3_accel_host_up / { ups++ }
/(^|:)smmuv3_accel_host_down / { downs++ }
/(^|:)smmuv3_accel_unplug / { unplugs++ }
END {
    if (open && calls != 1) bad++
    printf "L2-QEMU guest CMD_SYNCs %d, forwarded commands %d, ", syncs, fwd
    printf "TLBIs on the SMMU CMDQ %d, TLBI_NHs on the SMMU CMDQ %d, ", tlbis, nh
    printf "batches %d, IOMMU_HWPT_INVALIDATE %d, ", batches, inv
    printf "batches not one call %d, calls outside a batch %d, ", bad, stray
    printf "STE installs %d, failed %d, events from the host %d, ", ste, stefail, events
    printf "host objects made %d, host objects released %d, ", ups, downs
    printf "devices released %d\n", unplugs
}' """ + L2_TRACE + "\n"

