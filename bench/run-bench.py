#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The benchmark suite of the accelerated SMMUv3 (make bench, bench-quick).

Runs the six measurements (see the modules: inval_bench, guest_bench),
prints a table, and writes bench/results/latest.{json,md,png}. Every
figure is a count, or a ratio to a baseline measured in the same run;
repetitions are interleaved round-robin across configurations and
reported as median (min-max). Targets are reported as met / not met;
nothing here asserts on a timing. Exit status: non-zero only if a
measurement could not be taken at all (QEMU crashed, a guest failed).
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import guest_bench  # noqa: E402
import evtq_bench  # noqa: E402
import inval_bench  # noqa: E402
from benchlib import fmt_count, fmt_ratio  # noqa: E402

RESULTS = os.path.join(benchlib.TOP, 'bench', 'results')

PROFILES = {
    'quick': {'n_inval': 4000, 'inval_reps': 3,
              'dma_bytes': 64 << 20, 'boot_reps': 3,
              'storm_events': 5000, 'storm_reps': 2,
              'evtq_log2size': 16, 'evtq_reps': 2,
              'scale_devices': (1, 8, 32), 'scale_smmus': (1, 2, 4),
              'scale_reps': 2},
    'full': {'n_inval': 100000, 'inval_reps': 3,
             'dma_bytes': 256 << 20, 'boot_reps': 7,
             'storm_events': 100000, 'storm_reps': 3,
             'evtq_log2size': 19, 'evtq_reps': 3,
             'scale_devices': (1, 8, 32), 'scale_smmus': (1, 2, 3, 4),
             'scale_reps': 3},
}


# How each figure is counted (printed under the tables).
METHOD_NOTES = [
    'Invalidation traps: counted by QEMU, the accesses to the SMMU\'s '
    'register pages (arm-smmuv3 mmio-accesses) plus the CMDQV\'s trapped '
    'pages (cmdqv-stats traps); per batch the driver writes CMDQ_PROD and '
    'reads CMDQ_CONS, and the JSON keeps its own count (driver_traps) '
    'beside QEMU\'s. In (c), writes of VCMDQ PROD and reads of its CONS go to the '
    'VINTF page0 the CMDQV maps into the guest: they are counted apart '
    '("page0 accesses") and the model\'s own trap counter (cmdqv-stats) is '
    'added to the trap count.',
    'Host ioctls and entries: deltas of the simulator\'s stats (all '
    'ioctls; entries of IOMMU_HWPT_INVALIDATE) around each cell. (d) is '
    'upstream\'s design, one ioctl per command.',
    'Mix workload: per 4 commands, 2 TLBI_NH_VA, 1 CFGI_CD, 1 ATC_INV on '
    'the edu device\'s StreamID. CFGI_CD is not a VCMDQ command (Linux\'s '
    'tegra241-cmdqv driver sends it to the SMMU\'s own CMDQ), so in (c) the '
    'mix\'s traps and ioctls are its CFGI_CDs.',
    'QEMU CPU: /proc/PID/task/*/schedstat (ns; utime+stime of '
    '/proc/PID/stat counts 10 ms ticks, too coarse for a quick cell, and '
    'is kept in the JSON as stat_cpu_ns) of all QEMU threads except the '
    'simulator\'s '
    'CMDQV engine (it stands for host silicon; its CPU is in the JSON as '
    'simhw_cpu_us_per_1k). Under qtest every guest access, trapped or not, '
    'is a protocol line that QEMU\'s main thread parses and executes, '
    'which costs more than the SMMU work of a small batch; the driver '
    'therefore makes the same lines per batch in every configuration '
    '(commands, doorbell, one completion read; (c) waits 300 us for the '
    'engine before reading CONS, see "page0 accesses", and the others '
    'idle as long between doorbell and CONS read), so the harness cost is '
    'alike and compresses the ratios towards 1. Exception: (c)\'s mix '
    'drives two queues per batch (CFGI_CD on the SMMU\'s CMDQ), twice the '
    'lines.',
    'Boot time: QEMU start to the first line of /init (GUEST-BOOTED). '
    'Host inval ioctls and VCMDQ cmds: the whole guest run (boot and '
    'read), from the simulator\'s stats-file; a guest whose invalidations '
    'go through its VCMDQ shows VCMDQ commands and no ioctls.',
    'DMA with accel+CMDQV: a physical CMDQV starts on a VCMDQ when the '
    'guest writes its PROD; the simulated one polls its queues (a thread, '
    'sim/cmdqv-hw.c), and a guest that syncs per unmap would wait for '
    'each poll. Under TCG the model therefore maps the VINTF page0 as I/O '
    'callbacks on the host page (no VM exit exists there to save) and '
    'tells the simulated host of each PROD write, which runs the queue in '
    'that call (iommufd_backend_mmap_written(); "PROD writes told", from '
    'cmdqv-stats after the read). Under KVM page0 stays mapped into the '
    'guest. "page0 traps": cmdqv-stats traps_while_mapped, the VMM traps '
    'on the mapped page0, 0 by design. "DMA MB/s vs accel": paired with '
    'accel without CMDQV in the same repetition.',
    'DMA: busybox dd (Debian\'s static arm64 1.35) takes iflag=direct but '
    'prints no transfer timing, so the guest runs bench/build/dmaread (a '
    'static arm64 program: O_DIRECT, 256 KiB reads, CLOCK_MONOTONIC around '
    'the loop).',
    'Event storm: the guest driver logs events rate-limited, so guest '
    'lines are not the count. Counted instead: on the host, the '
    'simulator\'s events.delivered/lost/host_only deltas; in QEMU, the '
    'SMMU\'s x-events-* counters (written into the guest EVTQ, dropped at '
    'a full or disabled EVTQ or an aborted write, host overflows seen); in '
    'the guest, its "EVTQ overflow detected" reports. The events are put '
    'on the host side by one inject-event count=N call; events/s: records '
    'written into the guest EVTQ over the time from that call to the last '
    'counter change, with a real guest driver consuming.',
    'EVTQ capacity: the same path with no guest (qtest, the bench\'s own '
    'driver): a guest EVTQ of 2^19 records, filled by one count= '
    'injection of as many host events; events/s: records written over the '
    'time from that call until QEMU has written the last (its counters '
    'polled every 2 ms). Then the full EVTQ drops a further 1/8 (OVFLG '
    'set), and after the guest consumes and acknowledges, a storm larger '
    'than the host vEVENTQ loses the excess there (OVFLG toggled again). '
    'Exact: injected = delivered + lost (host), delivered = written + '
    'dropped (QEMU), at each step.',
]


def log(msg):
    print(f'[bench] {msg}', file=sys.stderr, flush=True)


# ---- tables ----

def table(headers, rows):
    """A Markdown table (also readable on a terminal)."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = lambda cells: '| ' + ' | '.join(  # noqa: E731
        str(c).ljust(w) for c, w in zip(cells, widths)) + ' |'
    out = [line(headers), '|' + '|'.join('-' * (w + 2) for w in widths) + '|']
    out += [line(r) for r in rows]
    return '\n'.join(out)


def inval_table(res):
    rows = []
    for name in inval_bench.ORDER:
        c = res['configs'][name]
        if not c['available']:
            rows.append([c['label'], 'all', 'not available', '', '', '', '',
                         ''])
            continue
        for cell, v in c['cells'].items():
            sim = name != 'emulated'
            rows.append([
                c['label'], cell,
                fmt_count(v['traps_per_1k']['median'], 1),
                fmt_count(v['ioctls_per_1k']['median'], 1) if sim else 'n/a',
                fmt_count(v['invalidate_entries_per_1k']['median'], 1)
                if sim else 'n/a',
                fmt_ratio(v['cpu_ratio_vs_emulated']),
                fmt_count(v['vcmdq_commands_per_1k']['median'], 1)
                if sim else 'n/a',
                fmt_count(v['page0_accesses_per_1k']['median'], 1)])
    return table(['config', 'workload/batch', 'MMIO traps /1k',
                  'host ioctls /1k', 'host inval entries /1k',
                  'QEMU CPU vs (a)', 'VCMDQ cmds /1k',
                  'page0 accesses /1k'], rows)


def boot_table(res):
    rows = []
    for name, c in res['configs'].items():
        host = c.get('host', {})

        def med(k):
            return fmt_count(host[k]['median']) if k in host else 'n/a'

        rows.append([c['label'], fmt_ratio(c['boot_ratio_vs_none']),
                     fmt_ratio(c['boot_ratio_vs_emulated']),
                     fmt_ratio(c['dma_ratio_vs_emulated']),
                     fmt_ratio(c.get('dma_ratio_vs_accel')),
                     ','.join(c['group_type']) or '-',
                     med('invalidate_ioctls'), med('vcmdq_commands'),
                     med('traps_while_mapped'), med('page0_writes_told'),
                     c['boot_s']['n']])
    return table(['config', 'boot time vs no IOMMU',
                  'boot time vs emulated', 'DMA MB/s vs emulated',
                  'DMA MB/s vs accel', 'guest domain', 'host inval ioctls',
                  'VCMDQ cmds', 'page0 traps', 'PROD writes told', 'runs'],
                 rows)


def storm_table(res):
    rows = []
    for i, r in enumerate(res.get('runs', [])):
        rows.append([i + 1, r['injected'], r['host_delivered'],
                     r['host_lost'], r['host_only'],
                     r['written_to_guest_evtq'],
                     r['dropped_guest_evtq_full'],
                     r['guest_overflow_reports'],
                     f'{r["events_per_s_into_guest"]:.0f}',
                     'yes' if r['host_accounting_exact'] and
                     r['qemu_accounting_exact'] else 'NO'])
    return table(['rep', 'injected', 'host delivered', 'host lost',
                  'host only', 'into guest EVTQ', 'dropped (EVTQ full)',
                  'guest OVFLG reports', 'events/s into EVTQ', 'exact'],
                 rows)


def evtq_table(res):
    rows = []
    for i, r in enumerate(res.get('runs', [])):
        a = r['accounting']
        rows.append([i + 1, r['size'], f'{r["fill"]["events_per_s"]:,.0f}',
                     f'{r["fill"]["seconds"] * 1000:.0f}',
                     r['full']['dropped_full'],
                     'yes' if r['full']['ovflg_set'] else 'NO',
                     r['host_overflow']['host_lost'],
                     'yes' if r['host_overflow']['ovflg_toggled'] else 'NO',
                     a['injected'], a['qemu']['written'],
                     'yes' if a['exact'] else 'NO'])
    return table(['rep', 'guest EVTQ', 'events/s into EVTQ', 'fill ms',
                  'dropped (full)', 'OVFLG set', 'lost at host',
                  'OVFLG toggled', 'injected', 'written', 'exact'], rows)


def scale_table(res):
    rows = []
    for kind, series in res['series'].items():
        for r in series:
            rows.append([f'{r["n"]} {kind[:-1]}{"s" if r["n"] > 1 else ""}'
                         f' ({r["mode"]})',
                         fmt_count(r['peak_objects']['median']),
                         fmt_ratio(r['rss_ratio']),
                         fmt_ratio(r['boot_ratio']),
                         fmt_count(r['peak_rss_mib']['median'])])
    return table(['topology', 'peak host objects', 'RSS vs first row',
                  'boot time vs first row', 'peak RSS MiB'], rows)


def targets_lines(results):
    lines = []
    for part in ('invalidation', 'boot_dma', 'storm', 'evtq'):
        for key, t in results.get(part, {}).get('targets', {}).items():
            state = {True: 'MET', False: 'NOT MET', None: 'N/A'}[t['met']]
            lines.append(f'- {state}: {t["what"]}')
    return lines


def render(results):
    meta = results['meta']
    parts = [f'# Benchmarks ({meta["profile"]})', '',
             f'Date: {meta["date"]}; machine: {meta["nproc"]} CPUs, '
             f'{meta["cpu"]}; QEMU {meta["qemu_version"]} '
             f'({os.path.relpath(meta["qemu"], benchlib.TOP)}, built '
             f'{meta.get("qemu_mtime_utc", "?")} UTC); '
             f'load average at start {meta["loadavg"]}.', '',
             'Every figure is a count, or a ratio to a baseline measured in '
             'the same run: median (min-max) over repetitions, '
             'configurations interleaved round-robin.', '']
    if 'invalidation' in results:
        r = results['invalidation']
        parts += ['## 1. Invalidation cost (qtest guest driver), per 1,000 '
                  'invalidations', '',
                  f'{meta["n_inval"]} invalidations per cell, '
                  f'{meta["inval_reps"]} repetitions. "QEMU CPU vs (a)": '
                  'CPU time of QEMU\'s threads for the cell over the '
                  'emulated SMMUv3\'s in the same repetition (the simulated '
                  'CMDQV engine thread, which stands for host hardware, is '
                  'excluded and reported in the JSON).', '',
                  inval_table(r), '']
    if 'boot_dma' in results:
        r = results['boot_dma']
        parts += ['## 2-3. Guest boot and DMA through translation', '',
                  f'Minimal kernel, {r["mode"].upper()}, same kernel and '
                  f'initramfs for all; {r["dma_bytes"] >> 20} MiB O_DIRECT '
                  'read of a virtio-blk disk behind the SMMU, MB/s from the '
                  'guest\'s own clock. Ratios are paired within a '
                  'repetition.', '', boot_table(r), '']
    if 'storm' in results:
        r = results['storm']
        parts += ['## 4. Event storm (accel on iommufd-sim)', '',
                  f'{r["n_events"]} F_TRANSLATION faults injected per run '
                  'through QMP (pipelined) on the disk\'s physical '
                  'StreamID while the guest runs. Host columns: simulator '
                  'stats deltas. "into guest EVTQ"/"dropped": QEMU trace of '
                  'records written / dropped at a full guest EVTQ. Exact: '
                  'injected = delivered + lost + host-only and delivered = '
                  'into EVTQ + dropped.', '', storm_table(r), '']
    if 'evtq' in results:
        r = results['evtq']
        parts += ['## 6. Event path capacity (qtest, no guest)', '',
                  f'Guest EVTQ and host vEVENTQ of 2^{r["log2size"]} '
                  'records; one inject-event count= call fills it, then '
                  'a full-EVTQ storm and a host overflow. Exact: injected = '
                  'delivered + lost (host) and delivered = written + dropped '
                  '(QEMU), at every step.', '', evtq_table(r), '']
    if 'scale' in results:
        parts += ['## 5. Scale (accel on iommufd-sim)', '',
                  'virtio-blk devices behind one SMMU (device tree); SMMUs '
                  'on pxb-pcie buses, one disk each (ACPI). Peak host '
                  'objects: simulator live_objects sampled every 0.2 s; '
                  'RSS: VmHWM.', '', scale_table(results['scale']), '']
    parts += ['## Targets', ''] + targets_lines(results)
    parts += ['', '## How it is counted', ''] + [
        f'- {n}' for n in results.get('notes', []) + METHOD_NOTES]
    return '\n'.join(parts) + '\n'


# ---- plot ----

def _num(v):
    return 'NaN' if v is None else f'{v:.4f}'


def plot(results, path):
    """latest.png: one panel per measurement (gnuplot)."""
    if not shutil.which('gnuplot'):
        log('gnuplot not found: no PNG')
        return False
    work = os.path.join(RESULTS, '.plot')
    os.makedirs(work, exist_ok=True)
    term = 'pngcairo' if _has_cairo() else 'png'
    cmds = [f'set terminal {term} size 1800,1000 noenhanced font ",10"',
            f'set output "{path}"', 'set multiplot layout 2,3',
            'set key top left', 'set grid', 'set style data linespoints']
    inv = results.get('invalidation')
    if inv:
        names = [n for n in inval_bench.ORDER
                 if inv['configs'][n]['available']]
        for key in ('ioctls_per_1k', 'cpu_ratio_vs_emulated'):
            with open(os.path.join(work, f'{key}.dat'), 'w') as f:
                for b in inval_bench.BATCHES:
                    vals = []
                    for n in names:
                        v = inv['configs'][n]['cells'][f'tlbi/{b}'][key]
                        v = v['median']
                        # log axis: zero (and emulated's n/a) not drawn
                        if key == 'ioctls_per_1k' and (not v or
                                                       n == 'emulated'):
                            v = None
                        vals.append(_num(v))
                    f.write(f'{b} ' + ' '.join(vals) + '\n')
        plots = ', '.join(
            f'"{work}/ioctls_per_1k.dat" using 1:{i + 2} title '
            f'"{inv["configs"][n]["label"]}"' for i, n in enumerate(names)
            if n != 'emulated')
        cmds += ['set title "TLBI_NH_VA: host ioctls per 1,000 '
                 'invalidations (zero, e.g. VCMDQ, not drawn)"',
                 'set logscale xy 2', 'set xlabel "commands per CMD_SYNC"',
                 'set ylabel "ioctls / 1k"', 'set yrange [4:4096]',
                 f'plot {plots}', 'unset logscale y',
                 'set title "TLBI_NH_VA: QEMU CPU vs emulated SMMUv3"',
                 'set ylabel "ratio to (a)"', 'set yrange [0:*]',
                 'plot ' + ', '.join(
                     f'"{work}/cpu_ratio_vs_emulated.dat" using 1:{i + 2} '
                     f'title "{inv["configs"][n]["label"]}"'
                     for i, n in enumerate(names)),
                 'unset logscale x']
    bd = results.get('boot_dma')
    if bd:
        with open(os.path.join(work, 'boot.dat'), 'w') as f:
            for name, c in bd['configs'].items():
                b = c['boot_ratio_vs_none']
                d = c['dma_ratio_vs_emulated']
                f.write(f'"{c["label"]}" ' + ' '.join(_num(x) for x in (
                    b['median'], b['min'], b['max'], d['median'], d['min'],
                    d['max'])) + '\n')
        cmds += ['set title "Boot time vs no IOMMU; DMA MB/s vs emulated '
                 '(median, min-max)"',
                 'set xlabel ""', 'set ylabel "ratio"', 'set yrange [0:*]',
                 'set style data histogram',
                 'set style histogram errorbars gap 2 lw 1',
                 'set style fill solid 0.5', 'set xtics rotate by -20',
                 f'plot "{work}/boot.dat" using 2:3:4:xtic(1) title '
                 '"boot time / no IOMMU", "" using 5:6:7 title '
                 '"DMA MB/s / emulated"', 'set xtics norotate']
    st = results.get('storm')
    if st and st.get('runs'):
        with open(os.path.join(work, 'storm.dat'), 'w') as f:
            for i, r in enumerate(st['runs']):
                f.write(f'"rep {i + 1}" {r["injected"]} '
                        f'{r["host_delivered"]} {r["host_lost"]} '
                        f'{r["written_to_guest_evtq"]} '
                        f'{r["dropped_guest_evtq_full"]}\n')
        top = 1.5 * max(r['injected'] for r in st['runs'])
        cmds += ['set title "Event storm: accounting per repetition"',
                 'set ylabel "events"', f'set yrange [0:{top:.0f}]',
                 'set key top left horizontal',
                 'set style histogram clustered gap 2',
                 f'plot "{work}/storm.dat" using 2:xtic(1) title '
                 '"injected", "" using 3 title "host delivered", "" using 4 '
                 'title "host lost", "" using 5 title "into guest EVTQ", "" '
                 'using 6 title "dropped, guest EVTQ full"',
                 'set key top left vertical']
    cmds.append('set style data linespoints')
    sc = results.get('scale')
    if sc:
        for kind in ('devices', 'smmus'):
            with open(os.path.join(work, f'scale-{kind}.dat'), 'w') as f:
                for r in sc['series'].get(kind, []):
                    f.write(f'{r["n"]} ' + ' '.join(_num(v) for v in (
                        r['peak_objects']['median'], r['rss_ratio']['median'],
                        r['boot_ratio']['median'])) + '\n')
            cmds += [f'set title "Scale: {kind} (ratios to the first)"',
                     f'set xlabel "{kind}"',
                     'set ylabel "peak host objects"', 'set y2label "ratio"',
                     'set y2tics', 'set ytics nomirror', 'set yrange [0:*]',
                     'set y2range [0:*]',
                     f'plot "{work}/scale-{kind}.dat" using 1:2 title '
                     '"peak host objects", "" using 1:3 axes x1y2 title '
                     '"RSS", "" using 1:4 axes x1y2 title "boot time"',
                     'unset y2tics', 'unset y2label', 'set ytics mirror']
    cmds.append('unset multiplot')
    script = os.path.join(work, 'plot.gp')
    with open(script, 'w') as f:
        f.write('\n'.join(cmds) + '\n')
    r = subprocess.run(['gnuplot', script], stderr=subprocess.PIPE,
                       text=True)
    if r.returncode:
        log(f'gnuplot failed: {r.stderr[-500:]}')
        return False
    shutil.rmtree(work, ignore_errors=True)
    return True


def _has_cairo():
    r = subprocess.run(['gnuplot', '-e', 'set terminal'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return 'pngcairo' in r.stdout


# ---- main ----

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true',
                    help='the bench-quick profile (under 5 minutes)')
    ap.add_argument('--only', default='inval,boot,storm,evtq,scale',
                    help='comma-separated subset of '
                    'inval,boot,storm,evtq,scale')
    ap.add_argument('--replot', action='store_true',
                    help='re-render latest.md and latest.png from '
                    'latest.json, measuring nothing')
    opts = ap.parse_args()
    if opts.replot:
        with open(os.path.join(RESULTS, 'latest.json')) as f:
            results = json.load(f)
        with open(os.path.join(RESULTS, 'latest.md'), 'w') as f:
            f.write(render(results))
        return 0 if plot(results, os.path.join(RESULTS, 'latest.png')) \
            else 1
    profile = 'quick' if opts.quick else 'full'
    p = PROFILES[profile]
    only = set(opts.only.split(','))
    if not os.access(benchlib.QEMU, os.X_OK):
        log(f'no QEMU binary at {benchlib.QEMU} (make qemu, or QEMU=...)')
        return 2
    os.makedirs(RESULTS, exist_ok=True)
    work = guest_bench.workdir()
    qemu_path = benchlib.QEMU
    qemu_mtime = time.strftime('%Y-%m-%d %H:%M:%S',
                               time.gmtime(os.path.getmtime(qemu_path)))
    try:
        benchlib.snapshot_qemu(work)
    except RuntimeError as e:
        log(str(e))
        shutil.rmtree(work, ignore_errors=True)
        return 2
    results = {'meta': {
        'profile': profile,
        'date': datetime.datetime.now(datetime.timezone.utc)
        .strftime('%Y-%m-%d %H:%M UTC'),
        'nproc': os.cpu_count(), 'cpu': benchlib.cpu_model(),
        'qemu': qemu_path, 'qemu_mtime_utc': qemu_mtime,
        'qemu_version': benchlib.qemu_version(),
        'loadavg': ' '.join(open('/proc/loadavg').read().split()[:3]),
        **{k: (list(v) if isinstance(v, tuple) else v)
           for k, v in p.items()}}, 'notes': []}
    errors = []
    t0 = time.monotonic()
    cmdqv, why = guest_bench.cmdqv_available()
    if not cmdqv:
        results['notes'].append(
            'This QEMU has no usable Tegra241 CMDQV model, so (c) and '
            f'accel+CMDQV are "not available" ({why}).')

    def part(key, fn):
        try:
            results[key] = fn()
            for f in results[key].get('failures', []):
                errors.append(f'{key}: {f}')
        except Exception:  # a crash: record it, go on, exit non-zero
            errors.append(f'{key}: {traceback.format_exc()}')

    if 'inval' in only:
        part('invalidation',
             lambda: inval_bench.run(p['n_inval'], p['inval_reps'], log))
    if 'boot' in only:
        order = [n for n in guest_bench.BOOT_ORDER
                 if cmdqv or n != 'accel-cmdqv']
        part('boot_dma', lambda: guest_bench.run_boot_dma(
            work, p['dma_bytes'], p['boot_reps'], order, log))
        if not cmdqv:
            results['boot_dma']['configs']['accel-cmdqv'] = {
                'label': 'accel + CMDQV: not available',
                'boot_s': benchlib.summary([]),
                'boot_ratio_vs_none': benchlib.summary([]),
                'boot_ratio_vs_emulated': benchlib.summary([]),
                'dma_ratio_vs_emulated': benchlib.summary([]),
                'dma_mbps': benchlib.summary([]), 'group_type': []}
    if 'storm' in only:
        part('storm', lambda: guest_bench.run_storm(
            work, p['storm_events'], p['storm_reps'], log))
    if 'evtq' in only:
        part('evtq', lambda: evtq_bench.run(p['evtq_reps'], log,
                                            p['evtq_log2size']))
    if 'scale' in only:
        part('scale', lambda: guest_bench.run_scale(
            work, p['scale_devices'], p['scale_smmus'], p['scale_reps'],
            log))
    shutil.rmtree(work, ignore_errors=True)
    results['meta']['seconds'] = round(time.monotonic() - t0, 1)
    results['errors'] = errors

    md = render(results)
    with open(os.path.join(RESULTS, 'latest.json'), 'w') as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(RESULTS, 'latest.md'), 'w') as f:
        f.write(md)
    plot(results, os.path.join(RESULTS, 'latest.png'))
    print(md)
    print(f'({results["meta"]["seconds"]} s; results in '
          f'{os.path.relpath(RESULTS, os.getcwd())}/latest.'
          '{json,md,png})')
    if errors:
        print('\nCould not measure:', file=sys.stderr)
        for e in errors:
            print(f'  {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
