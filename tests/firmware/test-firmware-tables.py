#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The firmware descriptions QEMU generates for the accelerated SMMUv3.

Like QEMU's bios-tables-test, every case compares what the machine hands
to firmware with an expected copy kept in tests/firmware/expected/, so
that any change to the tables fails a test until the expected files are
updated on purpose (--update, then review the diff):
- ACPI: the IORT and the DSDT, read from the machine's fw_cfg file
  etc/acpi/tables over the qtest protocol (as the firmware's table loader
  would get them; checksums are filled in by the loader, so are 0 here).
  On a mismatch the decompiled (iasl -d) difference is shown.
- Device tree: the blob of -machine dumpdtb=, decompiled with dtc.
Beside the comparison, each case checks what the guest drivers rely on,
read from the tables themselves: the SMMUv3 node identifiers are the
arm-smmuv3 identifier= properties, each Tegra241 CMDQV is an NVDA200C
device whose _UID is its SMMU's identifier, the root complexes' ID
mappings reach the right SMMU, each accelerated SMMU has an RMR node for
the host MSI window over exactly its StreamIDs (the emulated SMMU none),
the root complex is CANWBS;
in the device tree the CMDQV node and the
SMMU's compatible strings, and the PCI host's iommu-map. Ends with
"N passed, N failed".
"""

import argparse
import difflib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, 'bench'))
import qtest_client  # noqa: E402
from benchlib import QEMU  # noqa: E402

EXPECTED = os.path.join(HERE, 'expected')
FW_CFG = 0x09020000             # -M virt: data at +0, selector at +8
FW_CFG_FILE_DIR = 0x19

SIM1 = ['-object', 'iommufd-sim,id=sim0']
SIM2 = ['-object', 'iommufd-sim,id=sim0,smmus=2']
ACCEL = 'arm-smmuv3,primary-bus=pcie.0,accel=on,iommufd=sim0'
PXB = ['-device', 'pxb-pcie,id=pcie.1,bus_nr=8,bus=pcie.0']

# name: (QEMU arguments, {'smmus': the identifier= of each SMMU in IORT
# order (None: not set), 'cmdqvs': the identifier= of each CMDQV's SMMU})
CASES = {
    'accel-cmdqv': (SIM1 + ['-device', ACCEL + ',cmdqv=on,identifier=5'],
                    {'smmus': [5], 'cmdqvs': [5], 'dt_smmus': 1,
                     'dt_cmdqvs': 1}),
    'accel-two-smmus': (SIM2 + PXB +
                        ['-device', ACCEL + ',cmdqv=off,identifier=3',
                         '-device', 'arm-smmuv3,primary-bus=pcie.1,accel=on,'
                         'iommufd=sim0,cmdqv=off,identifier=9'],
                        # pxb-pcie buses are ACPI-only on -M virt
                        {'smmus': [3, 9], 'cmdqvs': [], 'dt_smmus': 1,
                         'dt_cmdqvs': 0}),
    'accel-default-id': (SIM1 + ['-device', ACCEL + ',cmdqv=on'],
                         {'smmus': [None], 'cmdqvs': [None], 'dt_smmus': 1,
                          'dt_cmdqvs': 1}),
    # QEMU's emulated SMMUv3: no host MSI window, so no RMR
    'emulated': (['-device', 'arm-smmuv3,primary-bus=pcie.0'],
                 {'smmus': [None], 'cmdqvs': [], 'dt_smmus': 1,
                  'dt_cmdqvs': 0, 'rmrs': False}),
}
# The host MSI window an accelerated SMMU's RMR node names (Linux's
# software MSI region: hw/arm/smmuv3.h SMMUV3_ACCEL_HOST_MSI_*).
HOST_MSI = (0x8000000, 0x100000)


def fw_cfg_select(vm, key):
    # The selector is a big-endian register: the device swaps a CPU store.
    vm.call(f'writew 0x{FW_CFG + 8:x} 0x{struct.unpack("<H", struct.pack(">H", key))[0]:x}')


def fw_cfg_read(vm, n):
    """@n bytes of the selected item, pipelined in batches (a batch's
    replies must fit the socket buffers while the batch is sent)."""
    out = bytearray()
    while len(out) < n:
        for _ in range(min(256, n - len(out))):
            vm.send(f'readb 0x{FW_CFG:x}')
        out += bytes(int(r, 16) for r in vm.flush())
    return bytes(out)


def fw_cfg_file(vm, name):
    fw_cfg_select(vm, FW_CFG_FILE_DIR)
    count = struct.unpack('>I', fw_cfg_read(vm, 4))[0]
    entries = fw_cfg_read(vm, 64 * count)
    for i in range(count):
        size, sel = struct.unpack('>IH', entries[64 * i:64 * i + 6])
        fname = entries[64 * i + 8:64 * i + 64].split(b'\0')[0].decode()
        if fname == name:
            fw_cfg_select(vm, sel)
            return fw_cfg_read(vm, size)
    raise RuntimeError(f'no fw_cfg file {name}')


def acpi_tables(blob):
    """{signature: table bytes} of the tables in etc/acpi/tables."""
    tables, off = {}, 0
    while off + 8 <= len(blob):
        sig = blob[off:off + 4]
        length = struct.unpack('<I', blob[off + 4:off + 8])[0]
        if sig.isalnum() and 36 <= length <= len(blob) - off:
            tables.setdefault(sig.decode(), blob[off:off + length])
            off += length
        else:
            off += 1            # alignment padding between tables
    return tables


def iort_smmu_ids(iort):
    """Identifiers of the IORT's SMMUv3 nodes (type 4), in node order."""
    count, offset = struct.unpack('<II', iort[36:44])
    ids = []
    for _ in range(count):
        ntype, nlen, _rev, ident = struct.unpack('<BHBI', iort[offset:offset + 8])
        if ntype == 4:
            ids.append(ident)
        offset += nlen
    return ids


def iort_rc_smmu_targets(iort):
    """For each root complex node (type 2): the identifiers of the nodes its
    ID mappings output to."""
    count, offset = struct.unpack('<II', iort[36:44])
    nodes, rcs = {}, []
    for _ in range(count):
        ntype, nlen, _rev, ident, nmap, moff = struct.unpack(
            '<BHBIII', iort[offset:offset + 16])
        nodes[offset] = (ntype, ident)
        if ntype == 2:
            outs = []
            for m in range(nmap):
                e = offset + moff + 20 * m
                outs.append(struct.unpack('<I', iort[e + 12:e + 16])[0])
            rcs.append(outs)
        offset += nlen
    return [[nodes.get(o, (None, None))[1] for o in outs
             if nodes.get(o, (None,))[0] == 4] for outs in rcs]


def iort_nodes(iort):
    """[(offset, type, revision, identifier, [(input base, count, output
    base, output offset)], node bytes)] of the IORT's nodes."""
    count, offset = struct.unpack('<II', iort[36:44])
    out = []
    for _ in range(count):
        ntype, nlen, rev, ident, nmap, moff = struct.unpack(
            '<BHBIII', iort[offset:offset + 16])
        maps = []
        for m in range(nmap):
            e = offset + moff + 20 * m
            ib, n, ob, oref = struct.unpack('<IIII', iort[e:e + 16])
            maps.append((ib, n + 1, ob, oref))
        out.append((offset, ntype, rev, ident, maps,
                    iort[offset:offset + nlen]))
        offset += nlen
    return out


def check_rmrs(res, name, iort, accel):
    """Each accelerated SMMU has one RMR node (type 6) over exactly the
    StreamIDs its root complex sends it, identity, with one descriptor:
    the host MSI window, not remappable (Linux then maps it 1:1 in every
    DMA domain of those devices); RMRs need table revision >= 5 (E.d).
    The emulated SMMU has none."""
    nodes = iort_nodes(iort)
    smmus = [n for n in nodes if n[1] == 4]
    rc_maps = [m for n in nodes if n[1] == 2 for m in n[4]]
    rmrs = [n for n in nodes if n[1] == 6]
    idents = [n[3] for n in nodes]
    problems = []
    if not accel:
        if rmrs:
            problems.append(f'{len(rmrs)} RMR nodes')
    else:
        if iort[8] < 5:
            problems.append(f'table revision {iort[8]}')
        if len(idents) != len(set(idents)):
            problems.append(f'node identifiers {idents} not unique')
        for smmu in smmus:
            mine = [r for r in rmrs if r[4] and
                    all(m[3] == smmu[0] for m in r[4])]
            want = sorted((m[0], m[1]) for m in rc_maps if m[3] == smmu[0])
            if len(mine) != 1:
                problems.append(f'SMMU {smmu[3]}: {len(mine)} RMR nodes')
                continue
            r = mine[0]
            got = sorted((m[0], m[1]) for m in r[4])
            flags, ndesc, doff = struct.unpack('<III', r[5][16:28])
            descs = [struct.unpack('<QQ', r[5][doff + 20 * i:
                                             doff + 20 * i + 16])
                     for i in range(ndesc)]
            if got != want or any(m[0] != m[2] for m in r[4]):
                problems.append(f'SMMU {smmu[3]}: RMR StreamIDs {got}, '
                                f'its root complex ranges {want}')
            if descs != [HOST_MSI] or flags & 1:
                problems.append(f'SMMU {smmu[3]}: RMR ranges '
                                f'{[(hex(a), hex(b)) for a, b in descs]} '
                                f'flags {flags:#x}')
        if len(rmrs) != len(smmus):
            problems.append(f'{len(rmrs)} RMR nodes for {len(smmus)} SMMUs')
    res.check(f'{name}-iort-rmr', not problems,
              '; '.join(problems) or
              (f'{len(rmrs)} RMR nodes, host MSI window '
               f'{HOST_MSI[0]:#x}+{HOST_MSI[1]:#x} over each SMMU\'s '
               'StreamIDs' if accel else 'no RMR node'))


def dsdt_cmdqv_uids(dsdt):
    """_UID strings of the NVDA200C devices in the DSDT's AML."""
    uids, pos = [], 0
    while True:
        i = dsdt.find(b'NVDA200C', pos)
        if i < 0:
            return uids
        j = dsdt.find(b'_UID', i)
        # Name(_UID, "n"): 08 '_UID' 0D 'n' 00
        if j < 0 or dsdt[j + 4] != 0x0d:
            uids.append(None)
        else:
            uids.append(dsdt[j + 5:dsdt.index(b'\0', j + 5)].decode())
        pos = i + 8


def run_qemu_acpi(args):
    with qtest_client.QtestVM(args, machine='virt,gic-version=3,acpi=on') as vm:
        return acpi_tables(fw_cfg_file(vm, 'etc/acpi/tables'))


def run_qemu_dt(args, work):
    dtb = os.path.join(work, 'virt.dtb')
    subprocess.run([QEMU, '-M', 'virt,gic-version=3,dtb-randomness=off,'
                    f'dumpdtb={dtb}',
                    '-cpu', 'max', '-m', '256M', '-nodefaults', '-display',
                    'none'] + args, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, timeout=60)
    out = subprocess.run(['dtc', '-q', '-I', 'dtb', '-O', 'dts', dtb],
                         check=True, stdout=subprocess.PIPE, text=True)
    return out.stdout


def decompile(data, sig, work):
    """iasl -d text of @data, or None without iasl."""
    if not shutil.which('iasl'):
        return None
    path = os.path.join(work, f'{sig}.aml')
    with open(path, 'wb') as f:
        f.write(data)
    subprocess.run(['iasl', '-d', path], cwd=work, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    try:
        text = open(os.path.join(work, f'{sig}.dsl')).read()
    except OSError:
        return None
    # Drop iasl's banner (dates, versions, paths).
    return ''.join(ln for ln in text.splitlines(True)
                   if not ln.lstrip().startswith('*') and
                   not ln.startswith('/*'))


class Results:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail):
        print(f'{"ok  " if ok else "FAIL"} {name}: {detail}', flush=True)
        self.passed += bool(ok)
        self.failed += not ok


def compare(res, name, got, path, update, work, sig=None):
    if update:
        mode = 'wb' if isinstance(got, bytes) else 'w'
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, mode) as f:
            f.write(got)
        print(f'     updated {os.path.relpath(path, TOP)}')
    try:
        want = open(path, 'rb' if isinstance(got, bytes) else 'r').read()
    except OSError:
        res.check(name, False, f'no expected file {os.path.relpath(path, TOP)}'
                  ' (run with --update and review it)')
        return
    same = got == want
    res.check(name, same, f'{len(got)} bytes, same as '
              f'{os.path.relpath(path, TOP)}' if same else
              f'differs from {os.path.relpath(path, TOP)}')
    if not same:
        if isinstance(got, bytes):
            a = decompile(want, sig + '-want', work)
            b = decompile(got, sig + '-got', work)
        else:
            a, b = want, got
        if a is not None and b is not None:
            sys.stdout.writelines(difflib.unified_diff(
                a.splitlines(True), b.splitlines(True), 'expected', 'got'))


def run_case(res, name, args, want, update, work):
    tables = run_qemu_acpi(args)
    for sig in ('IORT', 'DSDT'):
        if sig not in tables:
            res.check(f'{name}-acpi-{sig}', False, 'table missing')
            continue
        compare(res, f'{name}-acpi-{sig}', tables[sig],
                os.path.join(EXPECTED, name, sig), update, work, sig)
    iort, dsdt = tables.get('IORT', b''), tables.get('DSDT', b'')
    ids = iort_smmu_ids(iort) if iort else []
    res.check(f'{name}-iort-identifiers',
              len(ids) == len(want['smmus']) and
              all(w is None or w == g for w, g in zip(want['smmus'], ids)) and
              len(set(ids)) == len(ids),
              f'SMMUv3 node identifiers {ids}, wanted {want["smmus"]}')
    targets = iort_rc_smmu_targets(iort) if iort else []
    flat = sorted({t for outs in targets for t in outs})
    res.check(f'{name}-iort-rc-mappings', flat == sorted(ids),
              f'root complex ID mappings reach SMMUs {flat}')
    if iort:
        check_rmrs(res, name, iort, want.get('rmrs', True))
        # The root complex's memory access flags: CPM, DACS and CANWBS
        # (bit 2), which a nesting host without S2FWB relies on.
        flags = [n[5][23] for n in iort_nodes(iort) if n[1] == 2]
        res.check(f'{name}-iort-rc-canwbs', flags and
                  all(f & 0x7 == 0x7 for f in flags),
                  f'root complex memory access flags '
                  f'{[hex(f) for f in flags]} (want CPM|DACS|CANWBS)')
    uids = dsdt_cmdqv_uids(dsdt)
    # A CMDQV's _UID must be its SMMU's IORT identifier.
    wanted_uids = [str(ids[want['smmus'].index(c)]) if c is not None
                   else (str(ids[0]) if ids else '?')
                   for c in want['cmdqvs']]
    res.check(f'{name}-dsdt-cmdqv-uid', uids == wanted_uids,
              f'NVDA200C _UIDs {uids}, wanted {wanted_uids}')

    dts = run_qemu_dt(args, work)
    compare(res, f'{name}-dt', dts, os.path.join(EXPECTED, name, 'virt.dts'),
            update, work)
    nodes = dt_nodes(dts)
    smmus = {n['phandle']: n for n in nodes.values()
             if 'arm,smmu-v3' in n['compatible']}
    res.check(f'{name}-dt-smmus', len(smmus) == want['dt_smmus'],
              f'{len(smmus)} arm,smmu-v3 nodes, wanted {want["dt_smmus"]}')
    # A CMDQV: the SMMU says nvidia,tegra264-smmu and points at the node.
    pairs = [(n, nodes.get(n.get('nvidia,cmdqv'))) for n in smmus.values()
             if n.get('nvidia,cmdqv')]
    good = [c for n, c in pairs if c and 'nvidia,tegra264-cmdqv' in
            c['compatible'] and 'nvidia,tegra264-smmu' in n['compatible']]
    res.check(f'{name}-dt-cmdqv', len(good) == want['dt_cmdqvs'] and
              len(pairs) == len(good),
              f'{len(good)} SMMUs with a nvidia,tegra264-cmdqv node, wanted '
              f'{want["dt_cmdqvs"]}')
    maps = re.findall(r'iommu-map = <0x00 (0x[0-9a-f]+) 0x00 0x10000>;', dts)
    res.check(f'{name}-dt-iommu-map',
              bool(maps) and all(int(m, 16) in smmus for m in maps),
              f'PCI RIDs mapped to SMMU phandles {maps}')


def dt_nodes(dts):
    """{phandle: {'compatible': [...], 'nvidia,cmdqv': phandle}} of the
    nodes of a decompiled device tree that have a phandle."""
    out = {}
    for block in re.findall(r'\n\t+[\w,@.-]+ \{\n(.*?)\n\t+\};', dts,
                            re.S):
        ph = re.search(r'\bphandle = <(0x[0-9a-f]+)>;', block)
        if not ph:
            continue
        comp = re.search(r'compatible = "([^"]*)";', block)
        ref = re.search(r'nvidia,cmdqv = <(0x[0-9a-f]+)>;', block)
        out[int(ph.group(1), 16)] = {
            'phandle': int(ph.group(1), 16),
            'compatible': comp.group(1).split('\\0') if comp else [],
            'nvidia,cmdqv': int(ref.group(1), 16) if ref else None,
        }
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-k', '--filter', default='')
    ap.add_argument('--update', action='store_true',
                    help='write the expected files from this QEMU')
    opts = ap.parse_args()
    res = Results()
    with tempfile.TemporaryDirectory(prefix='fw-tables-') as work:
        ran = 0
        for name, (args, want) in CASES.items():
            if opts.filter not in name:
                continue
            ran += 1
            try:
                run_case(res, name, args, want, opts.update, work)
            except Exception as e:  # a harness failure fails the case
                res.check(name, False, f'{type(e).__name__}: {e}')
    if not ran:
        print(f'error: no case matches -k {opts.filter!r}')
        res.failed += 1
    print(f'{res.passed} passed, {res.failed} failed')
    return 1 if res.failed else 0


if __name__ == '__main__':
    sys.exit(main())
