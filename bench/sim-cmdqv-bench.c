/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest invalidation throughput of the simulated host, both ways a guest
 * TLBI reaches the physical SMMU:
 *
 *  - CMDQV: the guest writes TLBI_NH_VA commands and a CMD_SYNC into a
 *    VCMDQ in its own memory and bumps PROD through the mmapped VINTF
 *    page0; iommufd_sim_engine_step() (deterministic, no worker thread)
 *    consumes them, rewriting the VMID, straight to the SMMU.
 *  - ioctl: the VMM traps the CMD_SYNC and sends the TLBI_NH_VA commands
 *    before it as one IOMMU_HWPT_INVALIDATE through the vIOMMU.
 *
 * The guest stream is batches of B TLBI_NH_VA + 1 CMD_SYNC, B = 1, 8, 64;
 * "commands" counts all B + 1 guest commands on both paths, so the rates
 * compare directly. Figures are medians of RUNS runs with min-max, and
 * ratios are taken against the ioctl path at B = 1 measured in this run.
 * Only the host side is modelled: a real ioctl path also pays a VM exit
 * per trapped command and a syscall per batch, which this does not time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <glib.h>
#include <linux/iommufd.h>

#include "iommufd-sim.h"

#define RUNS            5
#define PSID            0x100
#define VSID            0x42
#define ASID            7
#define GPA_BASE        0x40000000ULL
#define GUEST_SIZE      (2ULL << 20)
#define G_CD            0x0000ULL
#define G_QUEUE         0x100000ULL     /* aligned to its length */
#define QUEUE_LOG2      12              /* 4096 entries, 64 KiB */
#define QUEUE_ENTRIES   (1u << QUEUE_LOG2)
#define MAX_BATCH       64
#define CMDS_PER_RUN    (1u << 22)      /* guest commands per timed run */

#define OP_TLBI_NH_VA   0x12ULL
#define OP_CMD_SYNC     0x46ULL
/* VINTF logical page0: VCMDQ 0 registers */
#define VCMDQ_CONS      0x0
#define VCMDQ_PROD      0x4
#define VCMDQ_CONFIG    0x8

typedef struct Bench {
    IommufdSim *sim;
    uint8_t *guest;
    void *page0;
    uint32_t dev, ioas, s2, viommu, vdev, hwq, nested;
    uint32_t prod;              /* VCMDQ PROD, index with wrap bit */
    uint64_t va;                /* next VA to invalidate */
} Bench;

typedef double (*RunFn)(Bench *b, unsigned batch);

static void check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "sim-cmdqv-bench: %s: %s\n", what, strerror(-rc));
        exit(EXIT_FAILURE);
    }
}

/* The VINTF page is shared with the engine: volatile, as MMIO would be. */
static volatile uint32_t *vcmdq_reg(Bench *b, unsigned reg) /* shared */
{
    return (volatile uint32_t *)((uint8_t *)b->page0 + reg); /* shared page */
}

/* A TEGRA241 guest as a VMM builds it, with VCMDQ 0 enabled. */
static void setup(Bench *b)
{
    struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
    struct iommu_ioas_map map = {
        .size = sizeof(map),
        .flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
                 IOMMU_IOAS_MAP_FIXED_IOVA,
        .length = GUEST_SIZE,
        .iova = GPA_BASE,
    };
    struct iommu_hwpt_alloc s2 = {
        .size = sizeof(s2),
        .flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
    };
    struct iommu_viommu_tegra241_cmdqv vdata;
    struct iommu_viommu_alloc viommu = {
        .size = sizeof(viommu),
        .type = IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
        .data_len = sizeof(vdata),
        .data_uptr = (uintptr_t)&vdata,
    };
    struct iommu_vdevice_alloc vdev = {
        .size = sizeof(vdev), .virt_id = VSID,
    };
    struct iommu_hw_queue_alloc hwq = {
        .size = sizeof(hwq),
        .type = IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
        .index = 0,
        .nesting_parent_iova = GPA_BASE + G_QUEUE,
        .length = QUEUE_ENTRIES * 16,
    };
    /* vSTE: S1 with a linear CD table at G_CD */
    struct iommu_hwpt_arm_smmuv3 vste = {
        .ste = { 1 | (5ULL << 1) | (GPA_BASE + G_CD), 0 },
    };
    struct iommu_hwpt_alloc nested = {
        .size = sizeof(nested),
        .data_type = IOMMU_HWPT_DATA_ARM_SMMUV3,
        .data_len = sizeof(vste),
        .data_uptr = (uintptr_t)&vste,
    };
    uint32_t pt;

    memset(b, 0, sizeof(*b));
    b->sim = iommufd_sim_new(NULL);
    b->guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!b->sim || b->guest == MAP_FAILED) {
        fprintf(stderr, "sim-cmdqv-bench: setup failed\n");
        exit(EXIT_FAILURE);
    }
    check(iommufd_sim_bind(b->sim, 0, PSID, &b->dev), "bind");
    check(iommufd_sim_ioctl(b->sim, IOMMU_IOAS_ALLOC, &ioas), "IOAS_ALLOC");
    b->ioas = ioas.out_ioas_id;
    map.ioas_id = b->ioas;
    map.user_va = (uintptr_t)b->guest;
    check(iommufd_sim_ioctl(b->sim, IOMMU_IOAS_MAP, &map), "IOAS_MAP");
    s2.dev_id = b->dev;
    s2.pt_id = b->ioas;
    check(iommufd_sim_ioctl(b->sim, IOMMU_HWPT_ALLOC, &s2), "HWPT_ALLOC s2");
    b->s2 = s2.out_hwpt_id;
    viommu.dev_id = b->dev;
    viommu.hwpt_id = b->s2;
    check(iommufd_sim_ioctl(b->sim, IOMMU_VIOMMU_ALLOC, &viommu),
          "VIOMMU_ALLOC");
    b->viommu = viommu.out_viommu_id;
    check(iommufd_sim_mmap(b->sim, vdata.out_vintf_mmap_length,
                           PROT_READ | PROT_WRITE, MAP_SHARED,
                           vdata.out_vintf_mmap_offset, &b->page0), "mmap");
    vdev.viommu_id = b->viommu;
    vdev.dev_id = b->dev;
    check(iommufd_sim_ioctl(b->sim, IOMMU_VDEVICE_ALLOC, &vdev),
          "VDEVICE_ALLOC");
    b->vdev = vdev.out_vdevice_id;
    hwq.viommu_id = b->viommu;
    check(iommufd_sim_ioctl(b->sim, IOMMU_HW_QUEUE_ALLOC, &hwq),
          "HW_QUEUE_ALLOC");
    b->hwq = hwq.out_hw_queue_id;
    nested.dev_id = b->dev;
    nested.pt_id = b->viommu;
    check(iommufd_sim_ioctl(b->sim, IOMMU_HWPT_ALLOC, &nested),
          "HWPT_ALLOC nested");
    b->nested = nested.out_hwpt_id;
    pt = b->nested;
    check(iommufd_sim_attach(b->sim, b->dev, &pt), "attach");
    *vcmdq_reg(b, VCMDQ_CONFIG) = 1;
    b->va = 0x10000;
}

static void teardown(Bench *b)
{
    iommufd_sim_free(b->sim);
    munmap(b->guest, GUEST_SIZE);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void tlbi_nh_va(Bench *b, uint64_t cmd[2])
{
    cmd[0] = OP_TLBI_NH_VA | ((uint64_t)ASID << 48);
    cmd[1] = b->va | 1;                 /* Leaf */
    b->va = (b->va + 0x1000) & 0xffffffffffULL;
}

/* Guest commands/s through VCMDQ 0, a CMD_SYNC after every @batch TLBIs */
static double run_vcmdq(Bench *b, unsigned batch)
{
    uint64_t *ring = (uint64_t *)(b->guest + G_QUEUE);
    unsigned n = CMDS_PER_RUN / (batch + 1), i, j, step, done;
    const uint32_t mask = QUEUE_ENTRIES - 1, wrap_mask = 2 * QUEUE_ENTRIES - 1;
    double t0 = now();

    for (i = 0; i < n; i++) {
        for (j = 0; j <= batch; j++) {
            uint64_t *cmd = ring + 2 * ((b->prod + j) & mask);

            if (j < batch) {
                tlbi_nh_va(b, cmd);
            } else {
                cmd[0] = OP_CMD_SYNC;
                cmd[1] = 0;
            }
        }
        b->prod = (b->prod + batch + 1) & wrap_mask;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        *vcmdq_reg(b, VCMDQ_PROD) = b->prod;
        /* A step stops at a CMD_SYNC or after the engine's fetch batch */
        done = 0;
        do {
            step = iommufd_sim_engine_step(b->sim);
            done += step;
        } while (step && done < batch + 1);
        if (done != batch + 1 ||
            (*vcmdq_reg(b, VCMDQ_CONS) & wrap_mask) != b->prod) {
            fprintf(stderr, "sim-cmdqv-bench: VCMDQ did not drain (CONS "
                    "0x%x, PROD 0x%x)\n", *vcmdq_reg(b, VCMDQ_CONS), b->prod);
            exit(EXIT_FAILURE);
        }
    }
    return (double)n * (batch + 1) / (now() - t0);
}

/* The same stream, each batch sent as one IOMMU_HWPT_INVALIDATE */
static double run_ioctl(Bench *b, unsigned batch)
{
    uint64_t cmds[MAX_BATCH][2];
    struct iommu_hwpt_invalidate inv = {
        .size = sizeof(inv),
        .hwpt_id = b->viommu,
        .data_uptr = (uintptr_t)cmds,
        .data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
        .entry_len = sizeof(cmds[0]),
    };
    unsigned n = CMDS_PER_RUN / (batch + 1), i, j;
    double t0 = now();
    int rc;

    for (i = 0; i < n; i++) {
        for (j = 0; j < batch; j++) {
            tlbi_nh_va(b, cmds[j]);
        }
        inv.entry_num = batch;
        rc = iommufd_sim_ioctl(b->sim, IOMMU_HWPT_INVALIDATE, &inv);
        if (rc || inv.entry_num != batch) {
            check(rc ? rc : -EIO, "HWPT_INVALIDATE");
        }
    }
    return (double)n * (batch + 1) / (now() - t0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

typedef struct Figure {
    double median, min, max;
} Figure;

static Figure measure(RunFn fn, Bench *b, unsigned batch)
{
    double r[RUNS];
    Figure f;
    unsigned i;

    fn(b, batch);                       /* warm-up, not counted */
    for (i = 0; i < RUNS; i++) {
        r[i] = fn(b, batch);
    }
    qsort(r, RUNS, sizeof(r[0]), cmp_double);
    f.median = r[RUNS / 2];
    f.min = r[0];
    f.max = r[RUNS - 1];
    return f;
}

static void print_row(const char *path, unsigned batch, Figure f,
                      double base)
{
    printf("  %-6s %5u %12.0f  %12.0f-%-12.0f %8.2f\n", path, batch,
           f.median, f.min, f.max, f.median / base);
}

int main(void)
{
    static const unsigned batches[] = { 1, 8, 64 };
    Figure ioctl[G_N_ELEMENTS(batches)], vcmdq[G_N_ELEMENTS(batches)];
    IommufdSimStats st;
    Bench b;
    unsigned i;

    setup(&b);
    for (i = 0; i < G_N_ELEMENTS(batches); i++) {
        ioctl[i] = measure(run_ioctl, &b, batches[i]);
        vcmdq[i] = measure(run_vcmdq, &b, batches[i]);
    }
    iommufd_sim_get_stats(b.sim, &st);

    printf("sim-cmdqv-bench: guest TLBI_NH_VA x B + CMD_SYNC, "
           "median of %d runs\n", RUNS);
    printf("  %-6s %5s %12s  %25s %8s\n", "path", "B", "commands/s",
           "min-max", "ratio");
    for (i = 0; i < G_N_ELEMENTS(batches); i++) {
        print_row("ioctl", batches[i], ioctl[i], ioctl[0].median);
    }
    for (i = 0; i < G_N_ELEMENTS(batches); i++) {
        print_row("vcmdq", batches[i], vcmdq[i], ioctl[0].median);
    }
    printf("  (ratio: against ioctl B=1 in this run)\n");
    printf("  (%" PRIu64 " VCMDQ commands, %" PRIu64
           " HWPT_INVALIDATE entries in all)\n",
           st.vcmdq_commands, st.invalidate_entries);
    teardown(&b);
    return EXIT_SUCCESS;
}
