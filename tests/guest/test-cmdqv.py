#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Guest boots with the Tegra241 CMDQV of the accelerated SMMUv3.

Our minimal kernel (CONFIG_TEGRA241_CMDQV=y; Debian's stock kernel does
not have the driver), device tree and ACPI (UEFI), on iommufd-sim with
-device arm-smmuv3,accel=on,cmdqv=on and a virtio-blk-pci disk the guest
checksums through nested translation (iommu.strict=1, so every unmap is
an invalidation). Checked in the guest: the tegra241-cmdqv driver took
the CMDQV (its interrupt is registered, no fallback to the SMMU CMDQ);
checked from the host while the guest runs: the guest's VINTF is mapped
and its VCMDQs are HW queues; after poweroff, from the stats file: TLB
invalidations ran from VCMDQs, with far fewer invalidation ioctls than
the same boot with cmdqv=off, no stale IOTLB hit and no live host object.
The last line compares VMM traps and host ioctls per 1,000 invalidations.
"""

import argparse
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402
import disk_check  # noqa: E402

CMDQV_SCRIPT = r'''
dmesg | grep -iE 'cmdqv|smmu' | head -20
grep -i cmdqv /proc/interrupts
check cmdqv-driver sh -c "grep -q tegra241-cmdqv /proc/interrupts"
check cmdqv-no-fallback sh -c "! dmesg | grep -q 'Falling back to standard SMMU CMDQ'"
check cmdqv-platform-device sh -c "ls /sys/bus/platform/devices | grep -qiE 'cmdqv|NVDA200C'"
echo CMDQV-QUERY
sleep 3
'''

EXPECT_CMDQV = ['cmdqv-driver', 'cmdqv-no-fallback', 'cmdqv-platform-device']
INVAL_OPS = ('TLBI_NH_ALL', 'TLBI_NH_ASID', 'TLBI_NH_VA', 'TLBI_NH_VAA',
             'TLBI_NSNH_ALL', 'ATC_INV', 'CFGI_CD', 'CFGI_CD_ALL')


def run_case(mode, cmdqv, work):
    disk = os.path.join(work, 'disk.img')
    stats = os.path.join(work, f'stats-{mode}-{cmdqv}.json')
    trace = os.path.join(work, f'trace-{mode}-{cmdqv}.log')
    size = 4 << 20
    sha = guest.make_disk(disk, size)
    live = {}

    def on_output(out, proc, qmp_path):
        if b'CMDQV-QUERY' in out and 'stats' not in live and qmp_path:
            q = guest.Qmp(qmp_path)
            if cmdqv == 'on':
                live['stats'] = json.loads(q.cmd(
                    'qom-get', path='/machine/peripheral/smmuv3.0',
                    property='cmdqv-stats'))
            else:
                live['stats'] = {}
            q.close()

    args = ['-object', f'iommufd-sim,id=sim0,stats-file={stats}',
            '-device', 'arm-smmuv3,primary-bus=pcie.0,id=smmuv3.0,accel=on,'
            f'iommufd=sim0,cmdqv={cmdqv}',
            '-trace', 'smmuv3_read_mmio', '-trace', 'smmuv3_write_mmio',
            '-trace', 'tegra241_cmdqv_read', '-trace', 'tegra241_cmdqv_write',
            '-D', trace] + disk_check.qemu_args(disk)
    script = disk_check.script(sha, size, mode)
    expect = disk_check.expect(mode)
    if cmdqv == 'on':
        script += CMDQV_SCRIPT
        expect = expect + EXPECT_CMDQV
    else:
        script += 'echo CMDQV-QUERY\nsleep 1\n'
    res = guest.boot('minimal', mode, args, script, expect, timeout=600,
                     append='iommu.strict=1', on_output=on_output, qmp=True)
    try:
        with open(stats) as f:
            res.stats = json.load(f)
    except (OSError, ValueError):
        res.stats = None
    res.live = live.get('stats')
    res.traps = {'smmu': 0, 'cmdqv': 0}
    try:
        with open(trace, errors='replace') as f:
            for line in f:
                if re.search(r'smmuv3_(read|write)_mmio', line):
                    res.traps['smmu'] += 1
                elif re.search(r'tegra241_cmdqv_(read|write)', line):
                    res.traps['cmdqv'] += 1
    except OSError:
        pass
    return res


def invalidations(stats):
    """Guest invalidation commands: forwarded by ioctl, or run from VCMDQs
    (those include their CMD_SYNCs: the count is an upper bound)."""
    fwd = stats.get('forwarded_cmds', {})
    return (sum(fwd.get(op, 0) for op in INVAL_OPS) +
            stats.get('vcmdq_commands', 0))


def host_checks(res, cmdqv):
    """(ok, reason) of what the host side must show."""
    st = res.stats
    if st is None:
        return False, 'no stats file'
    if st['live_objects'] != 0:
        return False, f'{st["live_objects"]} host objects left after poweroff'
    if st['stale_iotlb_hits'] != 0:
        return False, f'{st["stale_iotlb_hits"]} stale IOTLB hits'
    if cmdqv == 'off':
        return True, 'host clean'
    live = res.live or {}
    if not live.get('mapped') or live.get('hw_queues', 0) < 1:
        return False, f'guest VINTF/VCMDQs not on the host: {live}'
    if live.get('traps_while_mapped') != 0:
        return False, f'{live["traps_while_mapped"]} traps on the mapped page0'
    if st['vcmdq_commands'] <= 0:
        return False, 'no command ran from a VCMDQ'
    # Under TCG the simulated host hears of each PROD write (page0 as I/O
    # on the host page), and runs the queue at once.
    if not live.get('page0_io') or live.get('page0_writes_told', 0) <= 0:
        return False, f'the host was not told of PROD writes: {live}'
    if st.get('vcmdq_kicks', 0) < live['page0_writes_told']:
        return False, (f'{st.get("vcmdq_kicks", 0)} kicks on the host, '
                       f'fewer than the {live["page0_writes_told"]} PROD '
                       'writes told by then')
    if st['ioctls'].get('IOMMU_HW_QUEUE_ALLOC', 0) < live['hw_queues']:
        return False, 'fewer HW_QUEUE_ALLOC than HW queues'
    return True, (f'VINTF mapped, {live["hw_queues"]} HW queues, '
                  f'{st["vcmdq_commands"]} VCMDQ commands, '
                  f'{live["traps_while_mapped"]} traps on the mapped page0, '
                  f'{live["page0_writes_told"]} PROD writes told, '
                  f'{st["ioctls"].get("IOMMU_HWPT_INVALIDATE", 0)} '
                  'invalidation ioctls')


def per_1000(res):
    n = max(invalidations(res.stats), 1)
    traps = res.traps['smmu'] + res.traps['cmdqv']
    return (n, 1000.0 * traps / n,
            1000.0 * res.stats['ioctls'].get('IOMMU_HWPT_INVALIDATE', 0) / n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-k', '--filter', default='', help='substring of case names')
    opts = ap.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix='guest-cmdqv-') as work:
        for mode in ('dt', 'acpi'):
            name = f'minimal-{mode}-cmdqv'
            if opts.filter not in name:
                continue
            on = run_case(mode, 'on', work)
            ok, why = host_checks(on, 'on')
            if on.ok and not ok:
                on.ok, on.reason = False, why
            elif on.ok:
                on.reason += '; ' + why
            guest.report(name, on)
            passed += on.ok
            failed += not on.ok

            name = f'minimal-{mode}-cmdqv-vs-off'
            off = run_case(mode, 'off', work)
            ok, why = host_checks(off, 'off')
            if not on.ok or not on.stats:
                # Nothing to compare against: the comparison fails too.
                ok, why = False, ('no comparison: the cmdqv=on run failed '
                                  'or left no stats')
            elif off.ok and ok:
                n_on, traps_on, ioc_on = per_1000(on)
                n_off, traps_off, ioc_off = per_1000(off)
                print(f'    per 1000 invalidations: cmdqv=on {traps_on:.0f} '
                      f'VMM traps, {ioc_on:.0f} invalidation ioctls '
                      f'({n_on} invalidations); cmdqv=off {traps_off:.0f} '
                      f'traps, {ioc_off:.0f} ioctls ({n_off} invalidations)',
                      flush=True)
                inval_on = on.stats['ioctls'].get('IOMMU_HWPT_INVALIDATE', 0)
                inval_off = off.stats['ioctls'].get('IOMMU_HWPT_INVALIDATE', 0)
                ok = inval_on * 4 <= inval_off
                why = (f'invalidation ioctls {inval_on} with CMDQV vs '
                       f'{inval_off} without')
            res = off
            res.reason = off.reason + '; ' + why
            res.ok = off.ok and ok
            guest.report(name, res)
            passed += res.ok
            failed += not res.ok
    return guest.summary(passed, failed, opts.filter)


if __name__ == '__main__':
    sys.exit(main())
