# SPDX-License-Identifier: GPL-2.0-or-later
"""Measurements 2-5: full Linux guests under TCG.

2+3. Boot and DMA: one guest run = boot (QEMU start to /init's
     GUEST-BOOTED line) then an O_DIRECT read of a virtio-blk disk behind
     the SMMU, timed by the guest itself (bench/build dmaread, a static
     arm64 program: CLOCK_MONOTONIC around the read loop). The same kernel
     and initramfs for every configuration; runs round-robin.
4.   Event storm: faults injected on the disk's physical StreamID in one
     inject-event count=N call while the guest runs; the accounting comes
     from the simulator (injected = delivered + lost + host_only) and
     from QEMU's x-events-* counters of what became of each record
     (delivered = written into the guest EVTQ + dropped at a full or
     disabled EVTQ or an aborted write).
5.   Scale: N virtio-blk devices behind one SMMU, and N SMMUs (pxb-pcie
     buses, ACPI): peak host objects, peak RSS of QEMU, boot time.
"""

import json
import os
import tempfile
import time

import benchlib
import guest_vm
from guest_vm import GuestRun

VIRTIO = 'disable-legacy=on,iommu_platform=on'
SMMU = 'arm-smmuv3,primary-bus={bus},id=smmu{i}'
ACCEL = ',accel=on,iommufd=sim0'


def sim(extra=''):
    return ['-object', 'iommufd-sim,id=sim0' + extra]


# name -> (label, QEMU args before the disks, firmware mode)
BOOT_CONFIGS = {
    'none': ('no IOMMU', []),
    'emulated': ('emulated SMMUv3', ['-device', SMMU.format(bus='pcie.0',
                                                            i=0)]),
    'accel': ('accel (iommufd-sim)', sim() + [
        '-device', SMMU.format(bus='pcie.0', i=0) + ACCEL + ',cmdqv=off']),
    'accel-cmdqv': ('accel + CMDQV', sim() + [
        '-device', SMMU.format(bus='pcie.0', i=0) + ACCEL + ',cmdqv=on']),
}
BOOT_ORDER = ('none', 'emulated', 'accel', 'accel-cmdqv')


def disk_args(disk, i=0, bus='pcie.0', addr=None):
    dev = f'virtio-blk-pci,drive=d{i},bus={bus},{VIRTIO}'
    if addr:
        dev += f',addr={addr}'
    return ['-drive', f'if=none,id=d{i},file={disk},format=raw,readonly=on',
            '-device', dev]


def cmdqv_available():
    """(True, '') if this QEMU has the Tegra241 CMDQV model, else
    (False, why): cmdqv=on refused, or no CMDQV MMIO region."""
    from qtest_client import QtestVM
    try:
        with QtestVM(sim() + ['-device', SMMU.format(bus='pcie.0', i=0) +
                              ACCEL + ',cmdqv=on']) as vm:
            if vm.mtree_base('tegra241-cmdqv') is None:
                return False, 'no tegra241-cmdqv MMIO region'
            return True, ''
    except (benchlib.Unavailable, RuntimeError, OSError) as e:
        return False, str(e)


# ---- 2 + 3: boot and DMA ----

BOOT_SCRIPT = r'''
dev=$(pci_find 0x1af4 0x1042)
grp=$(basename "$(readlink "$dev/iommu_group" 2>/dev/null)" 2>/dev/null)
type=$(cut -d' ' -f1 /sys/kernel/iommu_groups/$grp/type 2>/dev/null)
echo "BENCH-GROUP type=$type"
/bin/dmaread /dev/vda @BYTES@ 262144
echo BENCH-QUERY
read -r go
'''


def run_boot_dma(work, dma_bytes, reps, order, log, mode='dt'):
    kernel = guest_vm.kernel('minimal')
    initrd = os.path.join(work, 'boot-initrd.gz')
    dmaread = open(guest_vm.dmaread_binary(), 'rb').read()
    guest_vm.make_initramfs(initrd,
                            BOOT_SCRIPT.replace('@BYTES@', str(dma_bytes)),
                            [('bin/dmaread', dmaread, 0o755)])
    disk = guest_vm.sparse_disk(os.path.join(work, 'disk.img'), dma_bytes)
    raw = {n: [] for n in order}
    failures = []
    for rep in range(reps):
        for name in order:
            log(f'boot+dma: {name} rep {rep + 1}/{reps}')
            stats_file = os.path.join(work, 'boot-stats.json')
            if os.path.exists(stats_file):
                os.unlink(stats_file)
            args = [a.replace('iommufd-sim,id=sim0',
                              f'iommufd-sim,id=sim0,stats-file={stats_file}')
                    for a in BOOT_CONFIGS[name][1]]
            cmdqv = {}

            def query(run, line, cmdqv=cmdqv, name=name):
                # the CMDQV's own counters once the read is done
                if 'BENCH-QUERY' not in line:
                    return
                if name == 'accel-cmdqv':
                    try:
                        cmdqv.update(json.loads(run.connect_qmp().cmd(
                            'qom-get', path='/machine/peripheral/smmu0',
                            property='cmdqv-stats')))
                    except (OSError, EOFError, RuntimeError, ValueError) as e:
                        cmdqv['error'] = str(e)
                run.type_line('go')

            r = GuestRun(kernel, initrd, mode, args + disk_args(disk),
                         timeout=600, on_line=query).run()
            dma = r.value('BENCH-DMA')
            grp = r.value('BENCH-GROUP') or {}
            host = _host_counts(stats_file)
            if not r.ok() or not dma or r.mark('GUEST-BOOTED') is None:
                failures.append(f'{name} rep {rep + 1}: {r.reason or ""} '
                                f'{r.log[-800:]}')
                raw[name].append(None)
            else:
                raw[name].append({
                    'boot_s': r.mark('GUEST-BOOTED'),
                    'total_s': r.seconds,
                    'dma_mbps': int(dma['bytes']) / (int(dma['ns']) / 1e9) /
                    1e6,
                    'group_type': grp.get('type', ''),
                    'peak_rss_kib': r.peak_rss_kib, **host,
                    **({'traps_while_mapped': cmdqv['traps_while_mapped'],
                        'page0_writes_told': cmdqv['page0_writes_told'],
                        'tcg_page0_accesses': cmdqv['tcg_page0_accesses']}
                       if 'traps_while_mapped' in cmdqv else {})})
            r.cleanup()
    return summarize_boot(raw, order, dma_bytes, mode, failures)


def _host_counts(path):
    """What the simulated host saw of a whole guest run (stats-file)."""
    try:
        with open(path) as f:
            st = json.load(f)
    except (OSError, ValueError):
        return {}
    return {'vcmdq_commands': st.get('vcmdq_commands', 0),
            'vcmdq_kicks': st.get('vcmdq_kicks', 0),
            'invalidate_ioctls': st['ioctls'].get('IOMMU_HWPT_INVALIDATE', 0),
            'invalidate_entries': st.get('invalidate_entries', 0),
            'translations': st.get('translations', 0),
            'iotlb_hits': st.get('iotlb_hits', 0),
            'stale_iotlb_hits': st.get('stale_iotlb_hits', 0)}


def _paired(raw, name, base, key):
    return [a[key] / b[key] if a and b else None
            for a, b in zip(raw[name], raw[base])]


def summarize_boot(raw, order, dma_bytes, mode, failures):
    out = {'mode': mode, 'dma_bytes': dma_bytes, 'configs': {},
           'failures': failures}
    for name in order:
        runs = raw[name]
        c = {'label': BOOT_CONFIGS[name][0],
             'boot_s': benchlib.summary([r and r['boot_s'] for r in runs]),
             'dma_mbps': benchlib.summary([r and r['dma_mbps']
                                           for r in runs]),
             'group_type': sorted({r['group_type'] for r in runs if r}),
             'host': {k: benchlib.summary([r.get(k) for r in runs if r])
                      for k in ('vcmdq_commands', 'vcmdq_kicks',
                                'invalidate_ioctls', 'invalidate_entries',
                                'translations', 'iotlb_hits',
                                'stale_iotlb_hits', 'traps_while_mapped',
                                'page0_writes_told', 'tcg_page0_accesses')
                      if any(r and k in r for r in runs)},
             'boot_ratio_vs_none': benchlib.summary(
                 _paired(raw, name, 'none', 'boot_s')),
             'dma_ratio_vs_emulated': benchlib.summary(
                 _paired(raw, name, 'emulated', 'dma_mbps')),
             'dma_ratio_vs_accel': benchlib.summary(
                 _paired(raw, name, 'accel', 'dma_mbps')),
             'boot_ratio_vs_emulated': benchlib.summary(
                 _paired(raw, name, 'emulated', 'boot_s'))}
        out['configs'][name] = c
    t = {}
    a = out['configs'].get('accel')
    if a and a['boot_ratio_vs_emulated']['median'] is not None:
        t['boot_accel_within_10pct'] = {
            'met': a['boot_ratio_vs_emulated']['median'] <= 1.10,
            'what': 'boot: accel within 10% of emulated (median of paired '
                    'ratios accel/emulated <= 1.10)'}
        t['dma_accel_ge_emulated'] = {
            'met': a['dma_ratio_vs_emulated']['median'] >= 1.0,
            'what': 'DMA: accel MB/s at least emulated (median of paired '
                    'ratios >= 1.00)'}
    q = out['configs'].get('accel-cmdqv')
    if q and q['dma_ratio_vs_accel']['median'] is not None:
        traps = q['host'].get('traps_while_mapped', {}).get('max')
        t['dma_cmdqv_ge_0.9_accel'] = {
            'met': q['dma_ratio_vs_accel']['median'] >= 0.9 and traps == 0,
            'what': 'DMA: accel+CMDQV MB/s at least 0.9 x accel (median of '
                    'paired ratios >= 0.90), with 0 traps on the mapped '
                    f'page0 (most in a run: {traps})'}
    out['targets'] = t
    return out


# ---- 4: event storm ----

STORM_SCRIPT = r'''
dev=$(pci_find 0x1af4 0x1042)
/bin/dmaread /dev/vda 1048576 65536 >/dev/null
bdf=$(basename "$dev")
bus=$((0x$(echo $bdf | cut -d: -f2)))
slot=$((0x$(echo $bdf | cut -d: -f3 | cut -d. -f1)))
fn=$(echo $bdf | cut -d. -f2)
echo "BENCH-STORM-READY sid=$(( (bus << 8) | (slot << 3) | fn ))"
read -r go
ovf=$(dmesg | grep -c 'EVTQ overflow')
logged=$(dmesg | grep -c 'event 0x10 received')
echo "BENCH-STORM-GUEST ovf=$ovf logged=$logged"
'''

F_TRANSLATION = 0x10
# What QEMU made of the host's events (arm-smmuv3 x-events-* counters)
SMMU_EVENT_COUNTERS = ('written', 'dropped-full', 'dropped-disabled',
                       'dropped-abort', 'host-overflows')


def smmu_event_counters(q, smmu='smmu0'):
    return {k: int(q.cmd('qom-get', path=f'/machine/peripheral/{smmu}',
                         property=f'x-events-{k}'))
            for k in SMMU_EVENT_COUNTERS}


class Storm:
    """Injects the storm once the guest is ready; ends the guest script.

    One inject-event with count=N puts N faults on the host side in one
    call (the host's vEVENTQ takes what its depth allows, the rest are
    lost there); QEMU then drains them into the guest EVTQ while the
    guest's driver consumes. Done when QEMU has accounted for every
    delivered record (written or dropped) and its counters stop moving.
    """

    def __init__(self, n_events):
        self.n = n_events
        self.error = None
        self.result = None

    def __call__(self, run, line):
        if 'BENCH-STORM-READY sid=' not in line or self.result:
            return
        try:
            self.result = self.inject(run, int(line.split('sid=')[1]))
        except Exception as e:  # reported as a failed measurement
            self.error = f'{type(e).__name__}: {e}'
            self.result = {}
        run.type_line('go')

    def inject(self, run, vsid):
        q = run.connect_qmp()
        st0 = benchlib.sim_stats(q)
        devs = [d for d in st0['devices'] if d.get('vdevice') and
                d.get('vsid') == vsid]
        if len(devs) != 1:
            raise RuntimeError(f'no vDEVICE with vSID {vsid:#x}')
        psid = devs[0]['psid']
        ev0 = dict(st0['events'])
        c0 = smmu_event_counters(q)
        t0 = time.monotonic()
        q.cmd('qom-set', path='/objects/sim0', property='inject-event',
              value=f'psid={psid:#x},event={F_TRANSLATION:#x},'
                    f'addr=0x10000000,count={self.n},step=0x1000')
        t_inject = time.monotonic() - t0
        st1 = benchlib.sim_stats(q)
        delivered = st1['events']['delivered'] - ev0['delivered']
        last, t_last = None, time.monotonic()
        while time.monotonic() - t_last < 2.0:
            c = smmu_event_counters(q)
            if c != last:
                last, t_last = c, time.monotonic()
            handled = sum(c[k] - c0[k] for k in SMMU_EVENT_COUNTERS
                          if k != 'host-overflows')
            if handled >= delivered:
                t_last = time.monotonic()
                break
            time.sleep(0.002)
        t_drain = t_last - t0
        c = {k: last[k] - c0[k] for k in SMMU_EVENT_COUNTERS}
        ev = {k: st1['events'][k] - ev0[k] for k in ev0}
        return {'injected': self.n, 'inject_s': t_inject, 'drain_s': t_drain,
                'host_delivered': ev['delivered'], 'host_lost': ev['lost'],
                'host_only': ev['host_only'], 'qemu': c}


def run_storm(work, n_events, reps, log):
    kernel = guest_vm.kernel('minimal')
    initrd = os.path.join(work, 'storm-initrd.gz')
    dmaread = open(guest_vm.dmaread_binary(), 'rb').read()
    guest_vm.make_initramfs(initrd, STORM_SCRIPT,
                            [('bin/dmaread', dmaread, 0o755)])
    disk = guest_vm.sparse_disk(os.path.join(work, 'storm.img'), 1 << 20)
    runs, failures = [], []
    for rep in range(reps):
        log(f'event storm: {n_events} events, rep {rep + 1}/{reps}')
        storm = Storm(n_events)
        r = GuestRun(kernel, initrd, 'dt', BOOT_CONFIGS['accel'][1] +
                     disk_args(disk), timeout=900, on_line=storm).run()
        g = r.value('BENCH-STORM-GUEST')
        res = storm.result
        if storm.error or not res or not g or not r.ok():
            failures.append(f'rep {rep + 1}: {storm.error or r.reason} '
                            f'{r.log[-600:]}')
            r.cleanup()
            continue
        c = res.pop('qemu')
        written = c['written']
        res.update({
            'written_to_guest_evtq': written,
            'dropped_guest_evtq_full': c['dropped-full'],
            'dropped_guest_evtq_disabled': c['dropped-disabled'],
            'dropped_evtq_abort': c['dropped-abort'],
            'host_overflows_seen': c['host-overflows'],
            'guest_overflow_reports': int(g.get('ovf', 0)),
            'guest_logged_events': int(g.get('logged', 0)),
            'events_per_s_into_guest': written / res['drain_s'],
        })
        res['host_accounting_exact'] = (
            res['host_delivered'] + res['host_lost'] + res['host_only'] ==
            res['injected'])
        res['qemu_accounting_exact'] = (
            written + c['dropped-full'] + c['dropped-disabled'] +
            c['dropped-abort'] == res['host_delivered'])
        runs.append(res)
        r.cleanup()
    out = {'n_events': n_events, 'runs': runs, 'failures': failures}
    if runs:
        out['events_per_s'] = benchlib.summary(
            [x['events_per_s_into_guest'] for x in runs])
        out['delivered_fraction'] = benchlib.summary(
            [x['written_to_guest_evtq'] / x['injected'] for x in runs])
        out['targets'] = {'storm_accounting_exact': {
            'met': all(x['host_accounting_exact'] and
                       x['qemu_accounting_exact'] for x in runs),
            'what': 'event storm: injected = delivered + lost + host-only '
                    '(host) and delivered = written + dropped at a full '
                    'guest EVTQ (QEMU), every repetition'}}
    return out


# ---- 5: scale ----

SCALE_SCRIPT = r'''
n=0
for d in /sys/block/vd*; do
    dd if=/dev/${d##*/} of=/dev/null bs=4k count=1 2>/dev/null &&
        n=$((n + 1))
done
echo "BENCH-SCALE disks=$n smmus=$(ls /sys/class/iommu | grep -c '^smmu3')"
'''


def scale_devices_args(disk, n):
    """@n virtio-blk functions behind one accel SMMU (8 per slot)."""
    args = sim() + ['-device', SMMU.format(bus='pcie.0', i=0) + ACCEL +
                    ',cmdqv=off']
    for i in range(n):
        slot, fn = 1 + i // 8, i % 8
        args += ['-drive', f'if=none,id=d{i},file={disk},format=raw,'
                 'readonly=on',
                 '-device', f'virtio-blk-pci,drive=d{i},bus=pcie.0,{VIRTIO},'
                 f'addr={slot:02x}.{fn}' +
                 (',multifunction=on' if fn == 0 and n > 1 else '')]
    return args


def scale_smmus_args(disk, n):
    """@n accel SMMUs, one virtio-blk each: pcie.0, then pxb-pcie buses."""
    args = sim(f',smmus={n}')
    for i in range(1, n):
        args += ['-device', f'pxb-pcie,id=pcie.{i},bus_nr={i * 16},'
                 'bus=pcie.0']
    for i in range(n):
        args += ['-device', SMMU.format(bus=f'pcie.{i}', i=i) + ACCEL +
                 ',cmdqv=off']
    for i in range(n):
        if i == 0:
            args += disk_args(disk, 0)
        else:
            args += ['-device', f'pcie-root-port,id=port{i},bus=pcie.{i},'
                     f'chassis={i}']
            args += disk_args(disk, i, bus=f'port{i}')
    return args


def run_scale(work, devices, smmus, reps, log):
    kernel = guest_vm.kernel('minimal')
    initrd = os.path.join(work, 'scale-initrd.gz')
    guest_vm.make_initramfs(initrd, SCALE_SCRIPT)
    disk = guest_vm.sparse_disk(os.path.join(work, 'scale.img'), 1 << 20)
    cases = ([('devices', n, 'dt', scale_devices_args(disk, n))
              for n in devices] +
             [('smmus', n, 'acpi', scale_smmus_args(disk, n))
              for n in smmus])
    raw = {(k, n): [] for k, n, _, _ in cases}
    failures = []
    for rep in range(reps):
        for kind, n, mode, args in cases:
            log(f'scale: {n} {kind} ({mode}) rep {rep + 1}/{reps}')
            r = GuestRun(kernel, initrd, mode, args, timeout=900,
                         sample_objects=True).run()
            v = r.value('BENCH-SCALE') or {}
            if not r.ok() or not v:
                failures.append(f'{kind}={n} rep {rep + 1}: {r.reason} '
                                f'{r.log[-600:]}')
                raw[(kind, n)].append(None)
            else:
                raw[(kind, n)].append({
                    'boot_s': r.mark('GUEST-BOOTED'),
                    'peak_rss_kib': r.peak_rss_kib,
                    'peak_objects': r.peak_objects,
                    'disks_seen': int(v.get('disks', 0)),
                    'smmus_seen': int(v.get('smmus', 0))})
            r.cleanup()
    out = {'series': {}, 'failures': failures}
    for kind, ns in (('devices', devices), ('smmus', smmus)):
        base = raw.get((kind, ns[0])) if ns else None
        rows = []
        for n in ns:
            runs = raw[(kind, n)]
            rows.append({
                'n': n, 'mode': 'dt' if kind == 'devices' else 'acpi',
                'peak_objects': benchlib.summary(
                    [r and r['peak_objects'] for r in runs]),
                'peak_rss_mib': benchlib.summary(
                    [r and r['peak_rss_kib'] / 1024 for r in runs]),
                'rss_ratio': benchlib.summary(
                    [a['peak_rss_kib'] / b['peak_rss_kib'] if a and b
                     else None for a, b in zip(runs, base)]),
                'boot_ratio': benchlib.summary(
                    [a['boot_s'] / b['boot_s'] if a and b else None
                     for a, b in zip(runs, base)]),
                'boot_s': benchlib.summary([r and r['boot_s']
                                            for r in runs]),
                'disks_seen': [r and r['disks_seen'] for r in runs],
                'smmus_seen': [r and r['smmus_seen'] for r in runs]})
        out['series'][kind] = rows
    return out


def workdir():
    return tempfile.mkdtemp(prefix='bench-guests-')
