/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU 10.2.2's own SMMUv3 page-table walker (hw/arm/smmu-common.c,
 * compiled unmodified into the bench-only qemu-ptw library) behind an
 * interface free of QEMU types, so that sim-walk-bench can time it next
 * to the simulator. Bench-only: nothing in sim/ may use it.
 *
 * QEMU reads guest memory through its global address_space_memory; the
 * library backs that with the one buffer given to qemu_ptw_new (a plain
 * memcpy instead of QEMU's flatview dispatch), so one QemuPtw may exist
 * at a time.
 */
#ifndef BENCH_QEMU_PTW_H
#define BENCH_QEMU_PTW_H

#include <stdint.h>

typedef struct QemuPtw QemuPtw;

/*
 * A stage-1 AArch64 config as smmuv3_decode_config() builds it from a CD:
 * 4K granule, TTB0 = @ttb with T0SZ @tsz, TTB1 disabled, IPS @oas bits,
 * @asid. Guest physical memory [@ram_base, @ram_base + @ram_size) is
 * @ram. NULL if another QemuPtw exists.
 */
QemuPtw *qemu_ptw_new(void *ram, uint64_t ram_base, uint64_t ram_size,
                      uint64_t ttb, unsigned tsz, unsigned oas,
                      uint16_t asid);
void qemu_ptw_free(QemuPtw *p);

/* smmu_ptw(): one uncached stage-1 walk. 0 and *pa, or -EINVAL. */
int qemu_ptw_walk(QemuPtw *p, uint64_t iova, uint64_t *pa);
/* smmu_translate(): IOTLB lookup, walk and insert on a miss. */
int qemu_ptw_translate(QemuPtw *p, uint64_t iova, uint64_t *pa);

#endif
