/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Translation throughput of the simulated physical SMMUv3: an IOTLB hit
 * against a full nested walk (CD fetch + 4-level 4K stage-1 walk, every
 * fetch through the stage-2 callback) with the IOTLB and CD cache off.
 *
 * Next to it, where comparable, QEMU 10.2.2's emulated SMMUv3 walker on
 * the same tables: smmu_ptw() (stage 1, uncached) and smmu_translate()
 * (IOTLB hit), QEMU's own code built by the qemu-ptw bench library
 * (qemu-ptw.c). Without the QEMU build trees at configure time the bench
 * says why it has no QEMU figure instead of printing one.
 *
 * Each figure is the median of RUNS runs with min-max; every ratio is
 * taken between figures of this run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>

#include "smmu-hw.h"
#include "smmu-defs.h"
#ifdef HAVE_QEMU_PTW
#include "qemu-ptw.h"
#endif

#define MEM_SIZE        (8ULL << 20)
#define IPA_BASE        0x80000000ULL
#define SID             7
#define NPAGES          256
#define VA_BASE         0x00007f0000000000ULL
#define RUNS            5

typedef struct Bench {
    uint8_t *mem;
    uint64_t brk;
    SimS2 s2;
    SimSmmu *smmu;
    uint64_t root;          /* stage-1 TTB0 (an IPA) */
#ifdef HAVE_QEMU_PTW
    QemuPtw *qemu;
#endif
} Bench;

typedef struct Figure {
    double median, min, max;
} Figure;

/* An IOAS-like stage 2: one linear range */
static void *s2_lookup(void *opaque, uint64_t ipa, uint64_t len, bool write)
{
    Bench *b = opaque;

    (void)write;
    if (ipa < IPA_BASE || len > MEM_SIZE || ipa - IPA_BASE > MEM_SIZE - len) {
        return NULL;
    }
    return b->mem + (ipa - IPA_BASE);
}

static uint64_t *at(Bench *b, uint64_t ipa)
{
    return (uint64_t *)(b->mem + (ipa - IPA_BASE));
}

static uint64_t alloc_page(Bench *b)
{
    uint64_t ipa = b->brk;

    b->brk += 4096;
    if (b->brk > IPA_BASE + MEM_SIZE) {
        abort();
    }
    return ipa;
}

/* 4K granule, 48-bit VA: levels 0-3, tables made on demand */
static void map_page(Bench *b, uint64_t root, uint64_t va, uint64_t oa)
{
    uint64_t table = root;
    unsigned level;

    for (level = 0; level < 3; level++) {
        uint64_t *slot = at(b, table) + ((va >> (39 - 9 * level)) & 0x1ff);

        if (!(*slot & SIM_PTE_VALID)) {
            *slot = alloc_page(b) | SIM_PTE_VALID | SIM_PTE_TABLE;
        }
        table = *slot & SIM_PTE_OA;
    }
    at(b, table)[(va >> 12) & 0x1ff] = oa | SIM_PTE_VALID | SIM_PTE_TABLE |
                                       SIM_PTE_AF | SIM_PTE_AP1 | SIM_PTE_NG;
}

static void setup(Bench *b)
{
    uint32_t idr[6] = {
        SIM_IDR0_S1P | SIM_IDR0_S2P | SIM_IDR0_ASID16 | SIM_IDR0_VMID16 |
        SIM_FIELD_PREP(SIM_IDR0_TTF, 2),
        SIM_FIELD_PREP(SIM_IDR1_SIDSIZE, 16) |
        SIM_FIELD_PREP(SIM_IDR1_SSIDSIZE, 20),
        0, SIM_IDR3_RIL, 0,
        SIM_FIELD_PREP(SIM_IDR5_OAS, 5) | SIM_IDR5_GRAN4K,
    };
    uint64_t root, cd, vste[2];
    SimPhysSte ste;
    unsigned i;

    memset(b, 0, sizeof(*b));
    b->mem = g_malloc0(MEM_SIZE);
    b->brk = IPA_BASE;
    b->s2.lookup = s2_lookup;
    b->s2.opaque = b;
    b->s2.ias_bits = 48;
    b->smmu = sim_smmu_new(idr);

    root = b->root = alloc_page(b);
    cd = alloc_page(b);
    for (i = 0; i < NPAGES; i++) {
        map_page(b, root, VA_BASE + ((uint64_t)i << 21) + (i << 12),
                 alloc_page(b));
    }
    at(b, cd)[0] = SIM_CD0_V | SIM_CD0_AA64 | SIM_CD0_R | SIM_CD0_A |
                   SIM_CD0_EPD1 | SIM_FIELD_PREP(SIM_CD0_IPS, 5) |
                   SIM_FIELD_PREP(SIM_CD0_T0SZ, 16) |
                   SIM_FIELD_PREP(SIM_CD0_ASID, 1);
    at(b, cd)[1] = root;
    vste[0] = SIM_STE0_V | SIM_FIELD_PREP(SIM_STE0_CFG, SIM_STE_CFG_S1) | cd;
    vste[1] = 0;
    sim_ste_nested(&ste, vste, 1, 48);
    sim_smmu_install_ste(b->smmu, SID, &ste, &b->s2);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t bench_va(uint64_t i)
{
    unsigned p = i % NPAGES;

    return VA_BASE + ((uint64_t)p << 21) + (p << 12) + 0x10;
}

/* Translations per second over @n translations cycling through the pages */
static double run(Bench *b, uint64_t n)
{
    SimXlate x;
    double t0 = now();
    uint64_t i;

    for (i = 0; i < n; i++) {
        uint64_t va = bench_va(i);

        if (sim_smmu_translate(b->smmu, SID, false, 0, va, SIM_ACC_R, &x)) {
            fprintf(stderr, "translation of 0x%" PRIx64 " failed\n", va);
            exit(EXIT_FAILURE);
        }
    }
    return n / (now() - t0);
}

#ifdef HAVE_QEMU_PTW
/* The same, through QEMU's smmu_ptw(): every call a full stage-1 walk */
static double run_qemu_ptw(Bench *b, uint64_t n)
{
    double t0 = now();
    uint64_t i, pa;

    for (i = 0; i < n; i++) {
        if (qemu_ptw_walk(b->qemu, bench_va(i), &pa)) {
            fprintf(stderr, "smmu_ptw of 0x%" PRIx64 " failed\n",
                    bench_va(i));
            exit(EXIT_FAILURE);
        }
    }
    return n / (now() - t0);
}

/* ... and through QEMU's smmu_translate(): IOTLB lookup, walk on a miss */
static double run_qemu_translate(Bench *b, uint64_t n)
{
    double t0 = now();
    uint64_t i, pa;

    for (i = 0; i < n; i++) {
        if (qemu_ptw_translate(b->qemu, bench_va(i), &pa)) {
            fprintf(stderr, "smmu_translate of 0x%" PRIx64 " failed\n",
                    bench_va(i));
            exit(EXIT_FAILURE);
        }
    }
    return n / (now() - t0);
}

/* Both walkers must agree on every page before either is timed. */
static void qemu_setup(Bench *b)
{
    SimXlate x;
    uint64_t i, pa;

    b->qemu = qemu_ptw_new(b->mem, IPA_BASE, MEM_SIZE, b->root, 16, 48, 1);
    if (!b->qemu) {
        abort();
    }
    for (i = 0; i < NPAGES; i++) {
        if (qemu_ptw_walk(b->qemu, bench_va(i), &pa) ||
            sim_smmu_translate(b->smmu, SID, false, 0, bench_va(i),
                               SIM_ACC_R, &x) || pa != x.ipa) {
            fprintf(stderr, "QEMU and the simulator disagree on 0x%"
                    PRIx64 "\n", bench_va(i));
            exit(EXIT_FAILURE);
        }
    }
}
#endif

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static Figure measure(double (*fn)(Bench *, uint64_t), Bench *b, uint64_t n)
{
    double r[RUNS];
    Figure f;
    unsigned i;

    for (i = 0; i < RUNS; i++) {
        r[i] = fn(b, n);
    }
    qsort(r, RUNS, sizeof(r[0]), cmp_double);
    f.median = r[RUNS / 2];
    f.min = r[0];
    f.max = r[RUNS - 1];
    return f;
}

static void print_figure(const char *what, Figure f)
{
    printf("  %-34s %12.0f  %12.0f-%-12.0f\n", what, f.median, f.min, f.max);
}

int main(void)
{
    Bench b;
    SimSmmuStats st;
    Figure hit, walk;

    setup(&b);
    sim_smmu_set_caching(b.smmu, true);
    run(&b, NPAGES);                    /* fill the IOTLB */
    hit = measure(run, &b, 2000000);
    sim_smmu_get_stats(b.smmu, &st);
    if (st.walks != NPAGES) {
        fprintf(stderr, "hit runs walked: %" PRIu64 "\n", st.walks);
        return EXIT_FAILURE;
    }
    sim_smmu_set_caching(b.smmu, false);
    walk = measure(run, &b, 1000000);
    sim_smmu_get_stats(b.smmu, &st);

    printf("sim-walk-bench: median of %d runs\n", RUNS);
    printf("  %-34s %12s  %25s\n", "", "translations/s", "min-max");
    print_figure("sim IOTLB hit:", hit);
    print_figure("sim nested 4-level walk (no cache):", walk);
    printf("  %-34s %12.1f\n", "ratio sim hit/walk:", hit.median / walk.median);
    printf("  (%" PRIu64 " walks, %" PRIu64 " IOTLB hits in all)\n",
           st.walks, st.iotlb_hits);

#ifdef HAVE_QEMU_PTW
    {
        Figure qwalk, qhit;

        qemu_setup(&b);
        qwalk = measure(run_qemu_ptw, &b, 1000000);
        run_qemu_translate(&b, NPAGES); /* fill QEMU's IOTLB */
        qhit = measure(run_qemu_translate, &b, 2000000);
        printf("QEMU 10.2.2 hw/arm/smmu-common.c, same tables, this run:\n");
        print_figure("QEMU smmu_translate IOTLB hit:", qhit);
        print_figure("QEMU smmu_ptw stage-1 walk:", qwalk);
        printf("  %-34s %12.1f\n", "ratio QEMU hit/walk:",
               qhit.median / qwalk.median);
        printf("  %-34s %12.2f\n", "ratio sim/QEMU, IOTLB hit:",
               hit.median / qhit.median);
        printf("  %-34s %12.2f\n", "ratio sim/QEMU, uncached walk:",
               walk.median / qwalk.median);
        printf("  (QEMU guest reads: memcpy, not its flatview dispatch; "
               "sim figures include\n   the STE lookup and lock, the sim "
               "walk also the CD fetch and stage-2 lookups)\n");
        qemu_ptw_free(b.qemu);
    }
#else
    printf("QEMU 10.2.2 smmu_ptw: not comparable: %s\n", QEMU_PTW_MISSING);
#endif
    sim_smmu_free(b.smmu);
    g_free(b.mem);
    return EXIT_SUCCESS;
}
