/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NVIDIA Tegra241 CMDQV for the host-accelerated SMMUv3
 * (arm-smmuv3,accel=on,cmdqv=on|auto).
 *
 * The guest sees a CMDQV with one VINTF (VINTF0), the host's number of
 * VCMDQs per VINTF and its SID slots. What is trapped and what is mapped:
 *  - the config page (global and VINTF0 registers), the global VCMDQ
 *    page0/page1 aliases and the VINTF0 logical page1 (queue BASE) trap
 *    here and are emulated;
 *  - the VINTF0 logical page0 (PROD, CONS, CONFIG, STATUS, GERROR(N) of
 *    the guest's queues) is, while the guest has its VINTF enabled, the
 *    host VINTF's page0, mmapped from the iommufd and mapped into the
 *    guest as RAM: queue accesses never reach QEMU, and the host CMDQV
 *    runs the guest's queues itself. While the VINTF is disabled page0
 *    traps and is kept in a shadow.
 *
 * Host objects. The vIOMMU of type TEGRA241_CMDQV (allocated through the
 * viommu_alloc hook when smmuv3-accel.c brings the host up) owns the
 * page0 mmap, a TEGRA241 vEVENTQ (from the first VINTF enable on) and
 * one HW_QUEUE per guest VCMDQ whose BASE is valid while mapped to the
 * enabled VINTF. HW queues are made in
 * ascending index order and destroyed in descending order; host_down
 * releases HW queues, the mmap, then the vEVENTQ, before smmuv3-accel.c
 * destroys the vIOMMU. Guest-written page0 registers survive HW queue
 * allocation and release (the host resets them, we put them back).
 *
 * Which host. On the simulated host the host CMDQV is known at realize
 * (smmuv3-accel.c binds a device for the probe) and the guest sees its
 * geometry. On /dev/iommu nothing is known before the first VFIO device,
 * yet the window must exist when the machine maps it: cmdqv=on then
 * offers upstream QEMU's fixed geometry (version 1, one VINTF, 2 VCMDQs,
 * 16 SID slots) and every VFIO device behind the SMMU must be behind a
 * host CMDQV that has at least that (check_host); cmdqv=auto there means
 * off, since nothing decides it at realize.
 *
 * Contiguity. The host runs a guest queue from the physical pages behind
 * it, so IOMMU_HW_QUEUE_ALLOC wants the queue physically contiguous
 * (else EFAULT). Guest RAM is contiguous within one page of its memory
 * backend: SMMU_IDR1.CMDQS (which Linux sizes its VCMDQs and its CMDQ
 * by) is capped to that page, and a queue is aligned to its size, so no
 * queue crosses a backend page. Hugepage-backed RAM gives bigger queues.
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/sysbus.h"
#include "hw/irq.h"
#include "system/memory.h"
#include "system/address-spaces.h"
#include "system/hostmem.h"
#include "system/iommufd.h"
#include "system/tcg.h"
#include "smmuv3-accel.h"
#include "smmuv3-accel-vevent.h"
#include "tegra241-cmdqv.h"
#include "tegra241-cmdqv-regs.h"
#include "trace.h"
#include <linux/iommufd.h>

#define VCMDQ_PAGE0_REGS        6
#define VCMDQ_PAGE1_SIZE        0x10
#define CMDQV_MAX_VCMDQS        128         /* CMDQ_ERR_MAP covers 128 */
#define CMDQV_MAX_SIDS          16
#define CMDQV_VEVENTQ_DEPTH     32

/* What cmdqv=on offers on /dev/iommu (upstream QEMU's guest geometry). */
#define CMDQV_FIXED_VERSION     1
#define CMDQV_FIXED_LOG2VCMDQS  1
#define CMDQV_FIXED_LOG2VSIDS   4

/* The five 64 KiB pages of the window, for the trap statistics. */
enum {
    CMDQV_PAGE_CONFIG,
    CMDQV_PAGE_VCMDQ0,
    CMDQV_PAGE_VCMDQ1,
    CMDQV_PAGE_VINTF0,
    CMDQV_PAGE_VINTF1,
    CMDQV_NR_PAGES,
};

static const char *const cmdqv_page_names[CMDQV_NR_PAGES] = {
    "config", "vcmdq-page0", "vcmdq-page1", "vintf-page0", "vintf-page1",
};

typedef struct Tegra241CMDQV {
    SMMUv3State *smmu;
    IOMMUFDBackend *be;         /* NULL until a host device is known */
    struct iommu_hw_info_tegra241_cmdqv info;   /* what the guest sees */
    unsigned nr_vcmdqs;         /* of VINTF0, and of the whole CMDQV */
    unsigned nr_sids;

    MemoryRegion mmio;          /* the window: a container */
    MemoryRegion regs;          /* everything that traps */
    MemoryRegion *page0_ram;    /* the host page0 over VINTF0 page0 */
    bool page0_io;              /* page0_ram is I/O on it, see page0_io_ops */
    GPtrArray *retired_ram;     /* see cmdqv_page0_ram_retire */
    qemu_irq irq;

    /* Host objects, while the vIOMMU exists. */
    uint32_t viommu_id;
    void *page0;                /* mmap of the host VINTF page0 */
    uint64_t page0_len;
    uint32_t veventq_id;
    int veventq_fd;
    uint32_t hw_queue[CMDQV_MAX_VCMDQS];        /* HW_QUEUE id, 0: none */
    uint64_t hw_queue_base[CMDQV_MAX_VCMDQS];   /* BASE it was made for */

    /* Guest-visible registers. */
    uint32_t config;
    uint32_t vintf_int_mask[2];
    uint32_t cmdq_alloc[CMDQV_MAX_VCMDQS];
    uint32_t vintf_config;
    bool mapped;                /* page0 is the host's: VINTF enabled */
    uint32_t sid_match[CMDQV_MAX_SIDS];
    uint32_t sid_replace[CMDQV_MAX_SIDS];
    uint64_t base[CMDQV_MAX_VCMDQS];
    uint64_t cons_indx_base[CMDQV_MAX_VCMDQS];
    uint32_t shadow[CMDQV_MAX_VCMDQS][VCMDQ_PAGE0_REGS];  /* when !mapped */
    bool init_err[CMDQV_MAX_VCMDQS];
    uint64_t err_latched[2];    /* reported by the host, until acked */

    /* Statistics ("cmdqv-stats" property of the SMMU). */
    uint64_t traps[CMDQV_NR_PAGES];
    uint64_t traps_mapped;      /* on VINTF0 page0 while it is mapped */
    uint64_t tcg_page0_accesses;    /* to page0_ram, when I/O */
    uint64_t page0_written;     /* PROD writes the host was told of */
    uint64_t irqs;
    uint64_t vevents;
} Tegra241CMDQV;

/* ---- page0: the host page while mapped, the shadow otherwise ---- */

static uint32_t cmdqv_page0_get(Tegra241CMDQV *c, unsigned l, hwaddr reg)
{
    uint32_t *p;

    if (!c->mapped) {
        return c->shadow[l][reg / 4];
    }
    p = (uint32_t *)((uint8_t *)c->page0 + l * CMDQV_VCMDQ_STRIDE + reg);
    return le32_to_cpu(qatomic_read(p));
}

static void cmdqv_page0_set(Tegra241CMDQV *c, unsigned l, hwaddr reg,
                            uint32_t val)
{
    uint32_t *p;

    if (!c->mapped) {
        c->shadow[l][reg / 4] = val;
        return;
    }
    p = (uint32_t *)((uint8_t *)c->page0 + l * CMDQV_VCMDQ_STRIDE + reg);
    qatomic_set(p, cpu_to_le32(val));
}

/* The registers a guest writes and the host resets on HW queue changes. */
static const hwaddr cmdqv_guest_regs[] = {
    A_VCMDQ_CONS, A_VCMDQ_PROD, A_VCMDQ_CONFIG,
};

static void cmdqv_page0_save(Tegra241CMDQV *c, unsigned l, uint32_t *saved)
{
    int i;

    for (i = 0; i < ARRAY_SIZE(cmdqv_guest_regs); i++) {
        saved[i] = cmdqv_page0_get(c, l, cmdqv_guest_regs[i]);
    }
    /* A CONS error belongs to the queue that was there before. */
    saved[0] = FIELD_DP32(saved[0], VCMDQ_CONS, ERR, 0);
}

static void cmdqv_page0_restore(Tegra241CMDQV *c, unsigned l,
                                const uint32_t *saved)
{
    int i;

    for (i = 0; i < ARRAY_SIZE(cmdqv_guest_regs); i++) {
        cmdqv_page0_set(c, l, cmdqv_guest_regs[i], saved[i]);
    }
}

/* An error is pending while GERROR and GERRORN differ. */
static bool cmdqv_queue_errored(Tegra241CMDQV *c, unsigned l)
{
    return cmdqv_page0_get(c, l, A_VCMDQ_GERROR) !=
           cmdqv_page0_get(c, l, A_VCMDQ_GERRORN);
}

/*
 * LVCMDQ_ERR_MAP: what the host reported, for as long as the queue's
 * error is not acknowledged (GERRORN, written straight to page0).
 */
static void cmdqv_err_map(Tegra241CMDQV *c, uint64_t map[2])
{
    unsigned l;

    for (l = 0; l < c->nr_vcmdqs; l++) {
        uint64_t bit = BIT_ULL(l % 64);

        if ((c->err_latched[l / 64] & bit) && !cmdqv_queue_errored(c, l)) {
            c->err_latched[l / 64] &= ~bit;
        }
    }
    map[0] = c->err_latched[0];
    map[1] = c->err_latched[1];
}

/* ---- VCMDQ <-> logical VCMDQ of VINTF0 (CMDQ_ALLOC) ---- */

/* The logical queue global VCMDQ @q is mapped to, or -1. */
static int cmdqv_global_to_lvcmdq(Tegra241CMDQV *c, unsigned q)
{
    uint32_t alloc;

    if (q >= c->nr_vcmdqs) {
        return -1;
    }
    alloc = c->cmdq_alloc[q];
    if (!FIELD_EX32(alloc, CMDQV_CMDQ_ALLOC, ALLOCATED) ||
        FIELD_EX32(alloc, CMDQV_CMDQ_ALLOC, VINTF) ||
        FIELD_EX32(alloc, CMDQV_CMDQ_ALLOC, LVCMDQ) >= c->nr_vcmdqs) {
        return -1;
    }
    return FIELD_EX32(alloc, CMDQV_CMDQ_ALLOC, LVCMDQ);
}

static bool cmdqv_lvcmdq_mapped(Tegra241CMDQV *c, unsigned l)
{
    unsigned q;

    for (q = 0; q < c->nr_vcmdqs; q++) {
        if (cmdqv_global_to_lvcmdq(c, q) == (int)l) {
            return true;
        }
    }
    return false;
}

/* ---- HW queues ---- */

/* The queue cannot run: it never enables and shows a command error. */
static void cmdqv_queue_init_error(Tegra241CMDQV *c, unsigned l,
                                   unsigned cerr)
{
    uint32_t cons = cmdqv_page0_get(c, l, A_VCMDQ_CONS);
    uint32_t gerrorn = cmdqv_page0_get(c, l, A_VCMDQ_GERRORN);

    c->init_err[l] = true;
    cmdqv_page0_set(c, l, A_VCMDQ_CONS,
                    FIELD_DP32(cons, VCMDQ_CONS, ERR, cerr));
    cmdqv_page0_set(c, l, A_VCMDQ_STATUS, 0);
    cmdqv_page0_set(c, l, A_VCMDQ_GERROR,
                    gerrorn ^ R_VCMDQ_GERROR_CMDQ_ERR_MASK);
    trace_tegra241_cmdqv_queue_error(l, cerr);
}

static bool cmdqv_in_guest_ram(hwaddr addr, uint64_t len)
{
    MemoryRegionSection sec = memory_region_find(get_system_memory(), addr,
                                                 len);
    bool ok;

    ok = sec.mr && memory_region_is_ram(sec.mr) &&
         !memory_region_is_ram_device(sec.mr) &&
         int128_get64(sec.size) == len;
    if (sec.mr) {
        memory_region_unref(sec.mr);
    }
    return ok;
}

static void cmdqv_hw_queue_alloc(Tegra241CMDQV *c, unsigned l)
{
    uint64_t base = c->base[l];
    unsigned log2size = FIELD_EX64(base, VCMDQ_BASE, LOG2SIZE);
    hwaddr addr = base & R_VCMDQ_BASE_ADDR_MASK;
    uint64_t len = 1ULL << (log2size + CMDQV_CMD_SHIFT);
    unsigned cmdqs = MIN(FIELD_EX32(c->smmu->idr[1], IDR1, CMDQS),
                         FIELD_EX32(smmuv3_accel_host_idr(c->smmu)[1],
                                    IDR1, CMDQS));
    uint32_t saved[ARRAY_SIZE(cmdqv_guest_regs)];
    const char *why = NULL;
    unsigned cerr = VCMDQ_CERROR_ILL;
    Error *err = NULL;
    uint32_t id;

    if (log2size > cmdqs) {
        why = "LOG2SIZE exceeds SMMU_IDR1.CMDQS";
    } else if (addr & (len - 1)) {
        why = "base not aligned to the queue size";
    } else if (l && !c->hw_queue[l - 1]) {
        why = "the queue below it is not allocated (ascending order)";
    } else if (!cmdqv_in_guest_ram(addr, len)) {
        why = "queue outside guest RAM";
        cerr = VCMDQ_CERROR_ABT;
    }
    if (why) {
        qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: VCMDQ%u BASE 0x%"
                      PRIx64 ": %s\n", l, base, why);
        cmdqv_queue_init_error(c, l, cerr);
        return;
    }

    cmdqv_page0_save(c, l, saved);
    smmuv3_accel_host_reap(c->smmu);    /* one HW queue per index */
    if (!iommufd_backend_alloc_hw_queue(c->be, c->viommu_id,
                                        IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
                                        l, addr, len, &id, &err)) {
        /* The host refused what we checked: report it as an abort. */
        trace_tegra241_cmdqv_hw_queue_alloc_fail(l, addr, len,
                                                 error_get_pretty(err));
        qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: VCMDQ%u: %s\n", l,
                      error_get_pretty(err));
        error_free(err);
        cmdqv_queue_init_error(c, l, VCMDQ_CERROR_ABT);
        return;
    }
    cmdqv_page0_restore(c, l, saved);
    c->hw_queue[l] = id;
    c->hw_queue_base[l] = base;
    trace_tegra241_cmdqv_hw_queue_alloc(l, addr, len, id);
}

static void cmdqv_hw_queue_free(Tegra241CMDQV *c, unsigned l)
{
    uint32_t saved[ARRAY_SIZE(cmdqv_guest_regs)];

    cmdqv_page0_save(c, l, saved);
    trace_tegra241_cmdqv_hw_queue_free(l, c->hw_queue[l]);
    smmuv3_accel_host_destroy(c->smmu, c->hw_queue[l]);
    c->hw_queue[l] = 0;
    c->hw_queue_base[l] = 0;
    cmdqv_page0_restore(c, l, saved);
}

/* Release HW queues from the top down to @from (descending order). */
static void cmdqv_hw_queues_free_from(Tegra241CMDQV *c, unsigned from)
{
    unsigned l;

    for (l = c->nr_vcmdqs; l-- > from;) {
        if (c->hw_queue[l]) {
            cmdqv_hw_queue_free(c, l);
        }
    }
}

static bool cmdqv_queue_wanted(Tegra241CMDQV *c, unsigned l)
{
    return c->mapped && c->base[l] && !c->init_err[l] &&
           cmdqv_lvcmdq_mapped(c, l);
}

/* Make the host's HW queues match what the guest programmed. */
static void cmdqv_update_queues(Tegra241CMDQV *c)
{
    unsigned l;

    for (l = 0; l < c->nr_vcmdqs; l++) {
        if (c->hw_queue[l] && (!cmdqv_queue_wanted(c, l) ||
                               c->hw_queue_base[l] != c->base[l])) {
            cmdqv_hw_queues_free_from(c, l);
            break;
        }
    }
    for (l = 0; l < c->nr_vcmdqs; l++) {
        if (!c->hw_queue[l] && cmdqv_queue_wanted(c, l)) {
            cmdqv_hw_queue_alloc(c, l);
        }
    }
}

/* ---- host errors: TEGRA241 vEVENTs ---- */

static void cmdqv_read_events(void *opaque)
{
    Tegra241CMDQV *c = opaque;
    uint8_t buf[8 * (sizeof(struct iommufd_vevent_header) +
                     sizeof(struct iommu_vevent_tegra241_cmdqv))];
    const uint8_t *payload;
    bool raise = false;
    VeventCursor cur;
    VeventKind kind;
    uint32_t seq;
    ssize_t len;

    len = iommufd_backend_read_fd(c->be, c->veventq_fd, buf, sizeof(buf));
    if (len < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            error_report_once("tegra241-cmdqv: vEVENTQ read failed: %s",
                              strerror(errno));
        }
        return;
    }
    vevent_cursor_init(&cur, buf, len,
                       sizeof(struct iommu_vevent_tegra241_cmdqv));
    while ((kind = vevent_next(&cur, &seq, &payload)) != VEVENT_END) {
        struct iommu_vevent_tegra241_cmdqv ev;

        raise = true;
        if (kind == VEVENT_LOST) {
            /* Maps were lost: let every pending queue error show. */
            c->err_latched[0] = c->err_latched[1] = UINT64_MAX;
            continue;
        }
        memcpy(&ev, payload, sizeof(ev));
        c->err_latched[0] |= le64_to_cpu(ev.lvcmdq_err_map[0]);
        c->err_latched[1] |= le64_to_cpu(ev.lvcmdq_err_map[1]);
        c->vevents++;
        trace_tegra241_cmdqv_vevent(seq, le64_to_cpu(ev.lvcmdq_err_map[0]),
                                    le64_to_cpu(ev.lvcmdq_err_map[1]));
    }
    if (raise) {
        /* Edge-triggered, as on hardware: one pulse per report. */
        c->irqs++;
        qemu_irq_pulse(c->irq);
    }
}

/* ---- VINTF0: page0 mapped while enabled ---- */

/*
 * A PROD of the host page0 was written: tell a host that wants to hear of
 * it (iommufd_backend_mmap_wants_written(): the simulated one, whose CMDQV
 * runs the queue at once instead of at its next poll).
 */
static void cmdqv_page0_written(Tegra241CMDQV *c, unsigned l)
{
    if (!iommufd_backend_mmap_wants_written(c->be)) {
        return;
    }
    c->page0_written++;
    trace_tegra241_cmdqv_page0_written(c->viommu_id, l,
                                       cmdqv_page0_get(c, l, A_VCMDQ_PROD));
    iommufd_backend_mmap_written(c->be, c->page0);
}

/*
 * page0 as I/O callbacks on the host page (page0_io): under TCG, where
 * they cost no VM exit, for a host that wants to hear of PROD writes.
 * Accesses act on the host page exactly as through the RAM device.
 */
static uint64_t cmdqv_read(void *opaque, hwaddr off, unsigned size);
static void cmdqv_write(void *opaque, hwaddr off, uint64_t val,
                        unsigned size);

static uint64_t cmdqv_page0_io_read(void *opaque, hwaddr off, unsigned size)
{
    Tegra241CMDQV *c = opaque;

    if (!c->mapped) {
        /* Another vCPU's stale TLB entry: as the trapped page0 answers */
        return cmdqv_read(c, CMDQV_PAGE_VINTF0 * CMDQV_PAGE_SIZE + off, size);
    }
    c->tcg_page0_accesses++;
    return ldn_le_p((uint8_t *)c->page0 + off, size);
}

static void cmdqv_page0_io_write(void *opaque, hwaddr off, uint64_t val,
                                 unsigned size)
{
    Tegra241CMDQV *c = opaque;
    hwaddr reg = off % CMDQV_VCMDQ_STRIDE;
    unsigned l = off / CMDQV_VCMDQ_STRIDE;

    if (!c->mapped) {
        cmdqv_write(c, CMDQV_PAGE_VINTF0 * CMDQV_PAGE_SIZE + off, val, size);
        return;
    }
    c->tcg_page0_accesses++;
    stn_le_p((uint8_t *)c->page0 + off, size, val);
    if (l < c->nr_vcmdqs && reg <= A_VCMDQ_PROD &&
        A_VCMDQ_PROD < reg + size) {
        cmdqv_page0_written(c, l);
    }
}

static const MemoryRegionOps cmdqv_page0_io_ops = {
    .read = cmdqv_page0_io_read,
    .write = cmdqv_page0_io_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

static void cmdqv_vintf_map(Tegra241CMDQV *c)
{
    Error *err = NULL;
    unsigned l;
    int i;

    if (!smmuv3_accel_host_ensure(c->smmu, &err)) {
        /* VINTF STATUS stays 0: the guest sees the enable fail. */
        error_report_err(err);
        return;
    }
    if (!c->page0) {
        return;
    }
    /* Host VINTF errors matter from now on, until host_down. */
    if (!c->veventq_id &&
        !iommufd_backend_alloc_veventq(c->be, c->viommu_id,
                                       IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV,
                                       CMDQV_VEVENTQ_DEPTH, &c->veventq_id,
                                       &c->veventq_fd, &err)) {
        error_report_err(err);
        return;
    }
    qemu_set_fd_handler(c->veventq_fd, cmdqv_read_events, NULL, c);
    c->mapped = true;
    for (l = 0; l < c->nr_vcmdqs; l++) {
        for (i = 0; i < VCMDQ_PAGE0_REGS; i++) {
            cmdqv_page0_set(c, l, i * 4, c->shadow[l][i]);
        }
    }
    if (!c->page0_ram) {
        /*
         * One region per host page0 mapping, enabled while the VINTF is.
         * It is device memory (a RAM device): the guest's accesses keep
         * their width under TCG, and nobody treats it as guest RAM. A
         * VFIO container still tries to DMA-map it and, as the host
         * cannot pin MMIO (EFAULT), warns once and goes on. Under TCG a
         * host that wants to hear of PROD writes gets I/O callbacks on
         * the same page instead: no VM exit there to save.
         */
        c->page0_ram = g_new0(MemoryRegion, 1);
        c->page0_io = tcg_enabled() &&
                      iommufd_backend_mmap_wants_written(c->be);
        if (c->page0_io) {
            memory_region_init_io(c->page0_ram, OBJECT(c->smmu),
                                  &cmdqv_page0_io_ops, c,
                                  "tegra241-cmdqv-vintf0", CMDQV_PAGE_SIZE);
        } else {
            memory_region_init_ram_device_ptr(c->page0_ram, OBJECT(c->smmu),
                                              "tegra241-cmdqv-vintf0",
                                              CMDQV_PAGE_SIZE, c->page0);
        }
        memory_region_add_subregion_overlap(&c->mmio,
                                            CMDQV_PAGE_VINTF0 *
                                            CMDQV_PAGE_SIZE,
                                            c->page0_ram, 1);
    } else {
        memory_region_set_enabled(c->page0_ram, true);
    }
    trace_tegra241_cmdqv_vintf(true, c->viommu_id);
}

/*
 * The host page0 goes away (host_down): retire its region. A FlatView
 * that still lists the region reads it when it is freed (after an RCU
 * grace period, or later if a cache holds the view), so the few bytes
 * are kept for as long as the SMMU lives: one per host bring-up, never
 * one per guest VINTF enable.
 */
static void cmdqv_page0_ram_retire(Tegra241CMDQV *c)
{
    if (!c->page0_ram) {
        return;
    }
    memory_region_del_subregion(&c->mmio, c->page0_ram);
    object_unparent(OBJECT(c->page0_ram));
    g_ptr_array_add(c->retired_ram, c->page0_ram);
    c->page0_ram = NULL;
}

static void cmdqv_vintf_unmap(Tegra241CMDQV *c)
{
    unsigned l;
    int i;

    if (!c->mapped) {
        return;
    }
    cmdqv_hw_queues_free_from(c, 0);
    /* Traps again: the registers are served from the shadow below. */
    memory_region_set_enabled(c->page0_ram, false);
    for (l = 0; l < c->nr_vcmdqs; l++) {
        for (i = 0; i < VCMDQ_PAGE0_REGS; i++) {
            c->shadow[l][i] = cmdqv_page0_get(c, l, i * 4);
        }
        /* Without the VINTF no queue runs. */
        c->shadow[l][A_VCMDQ_STATUS / 4] = 0;
    }
    c->mapped = false;
    trace_tegra241_cmdqv_vintf(false, c->viommu_id);
}

static void cmdqv_update(Tegra241CMDQV *c)
{
    bool want = FIELD_EX32(c->config, CMDQV_CONFIG, CMDQV_EN) &&
                FIELD_EX32(c->vintf_config, VINTF_CONFIG, ENABLE);

    if (want && !c->mapped) {
        cmdqv_vintf_map(c);
    } else if (!want && c->mapped) {
        cmdqv_vintf_unmap(c);
    }
    cmdqv_update_queues(c);
}

/* ---- SMMUv3AccelImplOps ---- */

static void cmdqv_host_release(Tegra241CMDQV *c)
{
    cmdqv_vintf_unmap(c);
    cmdqv_hw_queues_free_from(c, 0);
    cmdqv_page0_ram_retire(c);
    if (c->page0) {
        if (iommufd_backend_munmap(c->be, c->page0, c->page0_len)) {
            error_report("tegra241-cmdqv: munmap of VINTF page0: %s",
                         strerror(errno));
        }
        c->page0 = NULL;
    }
    if (c->veventq_id) {
        smmuv3_accel_veventq_close(c->smmu, c->veventq_fd, c->veventq_id);
        c->veventq_fd = -1;
        c->veventq_id = 0;
    }
}

static bool cmdqv_viommu_alloc(void *opaque, uint32_t dev_id,
                               uint32_t s2_hwpt_id, uint32_t *viommu_id,
                               Error **errp)
{
    Tegra241CMDQV *c = opaque;
    struct iommu_viommu_tegra241_cmdqv data = { 0 };
    void *page;

    if (!iommufd_backend_alloc_viommu(c->be, dev_id,
                                      IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                      s2_hwpt_id, &data, sizeof(data),
                                      viommu_id, errp)) {
        return false;
    }
    c->viommu_id = *viommu_id;
    if (data.out_vintf_mmap_length < c->nr_vcmdqs * CMDQV_VCMDQ_STRIDE ||
        data.out_vintf_mmap_length != CMDQV_PAGE_SIZE) {
        error_setg(errp, "tegra241-cmdqv: the host offers a VINTF page0 of "
                   "0x%" PRIx64 " bytes", (uint64_t)data.out_vintf_mmap_length);
        goto fail;
    }
    page = iommufd_backend_mmap(c->be, data.out_vintf_mmap_length,
                                PROT_READ | PROT_WRITE, MAP_SHARED,
                                data.out_vintf_mmap_offset);
    if (page == MAP_FAILED) {
        error_setg_errno(errp, errno, "tegra241-cmdqv: mmap of the VINTF "
                         "page0 failed");
        goto fail;
    }
    c->page0 = page;
    c->page0_len = data.out_vintf_mmap_length;
    trace_tegra241_cmdqv_viommu(*viommu_id, data.out_vintf_mmap_offset,
                                data.out_vintf_mmap_length);
    return true;

fail:
    cmdqv_host_release(c);
    smmuv3_accel_host_destroy(c->smmu, *viommu_id);
    *viommu_id = 0;
    c->viommu_id = 0;
    return false;
}

static void cmdqv_host_down(void *opaque)
{
    Tegra241CMDQV *c = opaque;

    trace_tegra241_cmdqv_host_down(c->viommu_id);
    cmdqv_host_release(c);
    c->viommu_id = 0;
}

/*
 * A queue the host can run lies in one page of the guest RAM's backend
 * (see the contiguity note at the top): cap SMMU_IDR1.CMDQS, after
 * smmuv3-accel.c set the IDRs from the host's.
 */
static void cmdqv_cap_cmdqs(Tegra241CMDQV *c)
{
    SMMUv3State *s = c->smmu;
    long page = qemu_minrampagesize();
    unsigned cmdqs = FIELD_EX32(s->idr[1], IDR1, CMDQS), cap;

    if (page == LONG_MAX) {
        /* No RAM backend (yet): anonymous memory, host pages. */
        page = qemu_real_host_page_size();
    }
    cap = ctz64(page) - CMDQV_CMD_SHIFT;
    s->idr[1] = FIELD_DP32(s->idr[1], IDR1, CMDQS, MIN(cmdqs, cap));
    trace_tegra241_cmdqv_cmdqs(page, cmdqs, MIN(cmdqs, cap));
}

static void cmdqv_reset(void *opaque)
{
    Tegra241CMDQV *c = opaque;

    c->config = 0;
    memset(c->vintf_int_mask, 0, sizeof(c->vintf_int_mask));
    memset(c->cmdq_alloc, 0, sizeof(c->cmdq_alloc));
    c->vintf_config = 0;
    memset(c->sid_match, 0, sizeof(c->sid_match));
    memset(c->sid_replace, 0, sizeof(c->sid_replace));
    memset(c->base, 0, sizeof(c->base));
    memset(c->cons_indx_base, 0, sizeof(c->cons_indx_base));
    memset(c->shadow, 0, sizeof(c->shadow));
    memset(c->init_err, 0, sizeof(c->init_err));
    memset(c->err_latched, 0, sizeof(c->err_latched));
    cmdqv_cap_cmdqs(c);
}

/*
 * A VFIO device behind the SMMU (/dev/iommu): its host SMMU must have a
 * CMDQV that can back what the guest was offered at realize.
 */
static bool cmdqv_check_host(void *opaque, uint32_t dev_id, const char *name,
                             Error **errp)
{
    Tegra241CMDQV *c = opaque;
    IOMMUFDBackend *be = smmuv3_accel_backend(c->smmu);
    struct iommu_hw_info_tegra241_cmdqv info = { 0 };
    uint32_t type = IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV;
    Error *err = NULL;
    bool present;

    present = iommufd_backend_get_hw_info(be, dev_id, &type, &info,
                                          sizeof(info), NULL, &err) &&
              type == IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV;
    trace_tegra241_cmdqv_check_host(name, present, info.version,
                                    info.log2vcmdqs, info.log2vsids);
    if (!present) {
        error_setg(errp, "%s: arm-smmuv3 has cmdqv=on but the device's host "
                   "SMMU has no Tegra241 CMDQV%s%s", name, err ? ": " : "",
                   err ? error_get_pretty(err) : "");
        error_append_hint(errp, "Use cmdqv=off, or a device behind a host "
                          "SMMU with a CMDQV.\n");
        error_free(err);
        return false;
    }
    if (info.version != c->info.version ||
        info.log2vcmdqs < c->info.log2vcmdqs ||
        info.log2vsids < c->info.log2vsids) {
        error_setg(errp, "%s: its host CMDQV (version %u, 2^%u VCMDQs and "
                   "2^%u SID slots per VINTF) cannot back the guest's "
                   "(version %u, 2^%u and 2^%u)", name, info.version,
                   info.log2vcmdqs, info.log2vsids, c->info.version,
                   c->info.log2vcmdqs, c->info.log2vsids);
        return false;
    }
    c->be = be;
    return true;
}

static const SMMUv3AccelImplOps tegra241_cmdqv_impl_ops = {
    .check_host = cmdqv_check_host,
    .viommu_alloc = cmdqv_viommu_alloc,
    .host_down = cmdqv_host_down,
    .reset = cmdqv_reset,
};

/* ---- registers ---- */

static uint32_t cmdqv_param(Tegra241CMDQV *c)
{
    uint32_t v = 0;

    v = FIELD_DP32(v, CMDQV_PARAM, VER, c->info.version);
    v = FIELD_DP32(v, CMDQV_PARAM, NUM_VCMDQ_LOG2, c->info.log2vcmdqs);
    /* One VINTF for the guest, whatever the host has. */
    v = FIELD_DP32(v, CMDQV_PARAM, NUM_VINTF_LOG2, 0);
    v = FIELD_DP32(v, CMDQV_PARAM, NUM_SID_PER_VM_LOG2, c->info.log2vsids);
    return v;
}

static uint32_t cmdqv_global_read(Tegra241CMDQV *c, hwaddr off)
{
    uint64_t map[2];
    uint32_t v = 0;
    unsigned q;

    switch (off) {
    case A_CMDQV_CONFIG:
        return c->config;
    case A_CMDQV_PARAM:
        return cmdqv_param(c);
    case A_CMDQV_STATUS:
        return FIELD_DP32(0, CMDQV_STATUS, CMDQV_ENABLED,
                          FIELD_EX32(c->config, CMDQV_CONFIG, CMDQV_EN));
    case A_CMDQV_VINTF_ERR_MAP:
        cmdqv_err_map(c, map);
        return (map[0] | map[1]) != 0;     /* VINTF0 is bit 0 */
    case A_CMDQV_VINTF_ERR_MAP_HI:
        return 0;
    case A_CMDQV_VINTF_INT_MASK:
    case A_CMDQV_VINTF_INT_MASK_HI:
        return c->vintf_int_mask[(off - A_CMDQV_VINTF_INT_MASK) / 4];
    }
    if (off >= A_CMDQV_CMDQ_ERR_MAP && off < A_CMDQV_CMDQ_ERR_MAP + 16) {
        unsigned word = (off - A_CMDQV_CMDQ_ERR_MAP) / 4;

        cmdqv_err_map(c, map);
        for (q = word * 32; q < MIN(c->nr_vcmdqs, word * 32 + 32); q++) {
            int l = cmdqv_global_to_lvcmdq(c, q);

            if (l >= 0 && (map[l / 64] & BIT_ULL(l % 64))) {
                v |= BIT(q % 32);
            }
        }
        return v;
    }
    if (off >= A_CMDQV_CMDQ_ALLOC &&
        off < A_CMDQV_CMDQ_ALLOC + 4 * c->nr_vcmdqs) {
        return c->cmdq_alloc[(off - A_CMDQV_CMDQ_ALLOC) / 4];
    }
    qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: read of unknown "
                  "register 0x%" HWADDR_PRIx "\n", off);
    return 0;
}

static void cmdqv_global_write(Tegra241CMDQV *c, hwaddr off, uint32_t val)
{
    switch (off) {
    case A_CMDQV_CONFIG:
        c->config = val & R_CMDQV_CONFIG_CMDQV_EN_MASK;
        cmdqv_update(c);
        return;
    case A_CMDQV_VINTF_INT_MASK:
    case A_CMDQV_VINTF_INT_MASK_HI:
        c->vintf_int_mask[(off - A_CMDQV_VINTF_INT_MASK) / 4] = val;
        return;
    }
    if (off >= A_CMDQV_CMDQ_ALLOC &&
        off < A_CMDQV_CMDQ_ALLOC + 4 * c->nr_vcmdqs) {
        unsigned q = (off - A_CMDQV_CMDQ_ALLOC) / 4;
        int l = cmdqv_global_to_lvcmdq(c, q);

        c->cmdq_alloc[q] = val & (R_CMDQV_CMDQ_ALLOC_ALLOCATED_MASK |
                                  R_CMDQV_CMDQ_ALLOC_LVCMDQ_MASK |
                                  R_CMDQV_CMDQ_ALLOC_VINTF_MASK);
        if (l >= 0) {
            c->init_err[l] = false;
        }
        l = cmdqv_global_to_lvcmdq(c, q);
        if (l >= 0) {
            c->init_err[l] = false;
        }
        cmdqv_update(c);
        return;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: write 0x%x to read-only "
                  "or unknown register 0x%" HWADDR_PRIx "\n", val, off);
}

static uint32_t cmdqv_vintf_read(Tegra241CMDQV *c, hwaddr off)
{
    uint64_t map[2];

    switch (off) {
    case A_VINTF_CONFIG:
        return c->vintf_config;
    case A_VINTF_STATUS:
        return FIELD_DP32(0, VINTF_STATUS, ENABLED, c->mapped);
    }
    if (off >= A_VINTF_SID_MATCH && off < A_VINTF_SID_MATCH + 4 * c->nr_sids) {
        return c->sid_match[(off - A_VINTF_SID_MATCH) / 4];
    }
    if (off >= A_VINTF_SID_REPLACE &&
        off < A_VINTF_SID_REPLACE + 4 * c->nr_sids) {
        return c->sid_replace[(off - A_VINTF_SID_REPLACE) / 4];
    }
    if (off >= A_VINTF_LVCMDQ_ERR_MAP && off < A_VINTF_LVCMDQ_ERR_MAP + 16) {
        unsigned word = (off - A_VINTF_LVCMDQ_ERR_MAP) / 4;

        cmdqv_err_map(c, map);
        return map[word / 2] >> (32 * (word % 2));
    }
    return 0;
}

static void cmdqv_vintf_write(Tegra241CMDQV *c, hwaddr off, uint32_t val)
{
    if (off == A_VINTF_CONFIG) {
        /* HYP_OWN is wired to 0 for a guest. */
        c->vintf_config = val & (R_VINTF_CONFIG_ENABLE_MASK |
                                 R_VINTF_CONFIG_VMID_MASK);
        cmdqv_update(c);
    } else if (off >= A_VINTF_SID_MATCH &&
               off < A_VINTF_SID_MATCH + 4 * c->nr_sids) {
        /* Shadow only: the host programmed the real slots at vDEVICE. */
        c->sid_match[(off - A_VINTF_SID_MATCH) / 4] = val;
    } else if (off >= A_VINTF_SID_REPLACE &&
               off < A_VINTF_SID_REPLACE + 4 * c->nr_sids) {
        c->sid_replace[(off - A_VINTF_SID_REPLACE) / 4] = val;
    } else {
        qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: write 0x%x to "
                      "read-only or unknown VINTF0 register 0x%" HWADDR_PRIx
                      "\n", val, off);
    }
}

static uint32_t cmdqv_page0_read(Tegra241CMDQV *c, unsigned l, hwaddr reg)
{
    if (reg >= VCMDQ_PAGE0_REGS * 4) {
        return 0;
    }
    if (reg == A_VCMDQ_STATUS && !c->mapped) {
        return 0;
    }
    return cmdqv_page0_get(c, l, reg);
}

static void cmdqv_page0_write(Tegra241CMDQV *c, unsigned l, hwaddr reg,
                              uint32_t val)
{
    switch (reg) {
    case A_VCMDQ_PROD:
        cmdqv_page0_set(c, l, reg, val);
        if (c->mapped) {
            /* (through a global VCMDQ page: the host page is behind it) */
            cmdqv_page0_written(c, l);
        }
        return;
    case A_VCMDQ_CONS:
    case A_VCMDQ_CONFIG:
    case A_VCMDQ_GERRORN:
        cmdqv_page0_set(c, l, reg, val);
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: write to read-only "
                      "VCMDQ%u page0 register 0x%" HWADDR_PRIx "\n", l, reg);
    }
}

static uint64_t *cmdqv_page1_reg(Tegra241CMDQV *c, unsigned l, hwaddr reg)
{
    return reg < A_VCMDQ_CONS_INDX_BASE ? &c->base[l]
                                        : &c->cons_indx_base[l];
}

/*
 * Page1 registers are 64 bits; a guest writing BASE in two halves has
 * it checked once the high half is written.
 */
static void cmdqv_page1_write(Tegra241CMDQV *c, unsigned l, hwaddr reg,
                              uint64_t val, unsigned size)
{
    uint64_t *r = cmdqv_page1_reg(c, l, reg);

    if (size == 8) {
        *r = val;
    } else {
        *r = deposit64(*r, (reg & 4) * 8, 32, val);
    }
    if (r == &c->base[l] && (size == 8 || (reg & 4))) {
        c->init_err[l] = false;
        cmdqv_update(c);
    }
}

/* The logical queue and register of a VCMDQ page access, or -1. */
static int cmdqv_decode_queue(Tegra241CMDQV *c, unsigned page, hwaddr off,
                              hwaddr *reg)
{
    unsigned q = (off % CMDQV_PAGE_SIZE) / CMDQV_VCMDQ_STRIDE;

    *reg = off % CMDQV_VCMDQ_STRIDE;
    if (page == CMDQV_PAGE_CONFIG) {
        return -1;
    }
    if (page == CMDQV_PAGE_VCMDQ0 || page == CMDQV_PAGE_VCMDQ1) {
        /* The global pages reach a queue through CMDQ_ALLOC. */
        return cmdqv_global_to_lvcmdq(c, q);
    }
    return q < c->nr_vcmdqs ? q : -1;
}

/* Count a trap; one on the mapped page0 would mean the mapping failed. */
static void cmdqv_count_trap(Tegra241CMDQV *c, unsigned page)
{
    c->traps[page]++;
    if (page == CMDQV_PAGE_VINTF0 && c->mapped) {
        c->traps_mapped++;
    }
}

static uint64_t cmdqv_read(void *opaque, hwaddr off, unsigned size)
{
    Tegra241CMDQV *c = opaque;
    unsigned page = off / CMDQV_PAGE_SIZE;
    uint64_t val = 0;
    hwaddr reg;
    int l;

    cmdqv_count_trap(c, page);
    l = cmdqv_decode_queue(c, page, off, &reg);
    if (page == CMDQV_PAGE_CONFIG) {
        hwaddr v = off - CMDQV_VINTF_BASE;

        if (off >= CMDQV_VINTF_BASE && v < CMDQV_VINTF_STRIDE) {
            val = cmdqv_vintf_read(c, v);
            if (size == 8) {
                val |= (uint64_t)cmdqv_vintf_read(c, v + 4) << 32;
            }
        } else {
            val = cmdqv_global_read(c, off);
            if (size == 8) {
                val |= (uint64_t)cmdqv_global_read(c, off + 4) << 32;
            }
        }
    } else if (l >= 0) {
        if (page == CMDQV_PAGE_VCMDQ1 || page == CMDQV_PAGE_VINTF1) {
            if (reg < VCMDQ_PAGE1_SIZE) {
                val = *cmdqv_page1_reg(c, l, reg);
                val = size == 8 ? val : extract64(val, (reg & 4) * 8, 32);
            }
        } else {
            val = cmdqv_page0_read(c, l, reg);
            if (size == 8) {
                val |= (uint64_t)cmdqv_page0_read(c, l, reg + 4) << 32;
            }
        }
    }
    trace_tegra241_cmdqv_read(off, val, size);
    return val;
}

static void cmdqv_write(void *opaque, hwaddr off, uint64_t val,
                        unsigned size)
{
    Tegra241CMDQV *c = opaque;
    unsigned page = off / CMDQV_PAGE_SIZE;
    hwaddr reg;
    int l;

    cmdqv_count_trap(c, page);
    trace_tegra241_cmdqv_write(off, val, size);
    l = cmdqv_decode_queue(c, page, off, &reg);
    if (page == CMDQV_PAGE_CONFIG) {
        hwaddr v = off - CMDQV_VINTF_BASE;

        if (off >= CMDQV_VINTF_BASE && v < CMDQV_VINTF_STRIDE) {
            cmdqv_vintf_write(c, v, val);
            if (size == 8) {
                cmdqv_vintf_write(c, v + 4, val >> 32);
            }
        } else {
            cmdqv_global_write(c, off, val);
            if (size == 8) {
                cmdqv_global_write(c, off + 4, val >> 32);
            }
        }
    } else if (l >= 0) {
        if (page == CMDQV_PAGE_VCMDQ1 || page == CMDQV_PAGE_VINTF1) {
            if (reg < VCMDQ_PAGE1_SIZE) {
                cmdqv_page1_write(c, l, reg, val, size);
            }
        } else {
            cmdqv_page0_write(c, l, reg, val);
            if (size == 8) {
                cmdqv_page0_write(c, l, reg + 4, val >> 32);
            }
        }
    } else {
        qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: write to unmapped "
                      "VCMDQ at 0x%" HWADDR_PRIx "\n", off);
    }
}

static const MemoryRegionOps cmdqv_ops = {
    .read = cmdqv_read,
    .write = cmdqv_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

/* ---- statistics, probe ---- */

static void cmdqv_get_stats(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    Tegra241CMDQV *c = opaque;
    g_autoptr(GString) s = g_string_new("{\"traps\": {");
    g_autofree char *str = NULL;
    unsigned i, n = 0;

    for (i = 0; i < CMDQV_NR_PAGES; i++) {
        g_string_append_printf(s, "%s\"%s\": %" PRIu64, i ? ", " : "",
                               cmdqv_page_names[i], c->traps[i]);
    }
    for (i = 0; i < c->nr_vcmdqs; i++) {
        n += !!c->hw_queue[i];
    }
    g_string_append_printf(s, "}, \"traps_while_mapped\": %" PRIu64
                           ", \"mapped\": %s, \"hw_queues\": %u, "
                           "\"vevents\": %" PRIu64 ", \"irqs\": %" PRIu64
                           ", \"page0_regions\": %u, \"page0_io\": %s"
                           ", \"tcg_page0_accesses\": %" PRIu64
                           ", \"page0_writes_told\": %" PRIu64 "}",
                           c->traps_mapped, c->mapped ? "true" : "false", n,
                           c->vevents, c->irqs,
                           c->retired_ram->len + !!c->page0_ram,
                           c->page0_io ? "true" : "false",
                           c->tcg_page0_accesses,
                           c->page0_written);
    str = g_strdup(s->str);
    visit_type_str(v, name, &str, errp);
}

/* The window and IRQ of the CMDQV, offering @info to the guest. */
static Tegra241CMDQV *cmdqv_create(SMMUv3State *s,
                                   const struct iommu_hw_info_tegra241_cmdqv
                                   *info)
{
    SysBusDevice *sbd = SYS_BUS_DEVICE(s);
    Tegra241CMDQV *c;

    /* The window and IRQ follow the SMMU's own: indexes are fixed. */
    assert(sbd->num_mmio == TEGRA241_CMDQV_MMIO_INDEX);

    c = g_new0(Tegra241CMDQV, 1);
    c->smmu = s;
    c->info = *info;
    c->nr_vcmdqs = 1U << info->log2vcmdqs;
    c->nr_sids = 1U << info->log2vsids;
    c->veventq_fd = -1;
    c->retired_ram = g_ptr_array_new();
    memory_region_init(&c->mmio, OBJECT(s), "tegra241-cmdqv",
                       TEGRA241_CMDQV_IO_LEN);
    memory_region_init_io(&c->regs, OBJECT(s), &cmdqv_ops, c,
                          "tegra241-cmdqv-regs", TEGRA241_CMDQV_IO_LEN);
    memory_region_add_subregion(&c->mmio, 0, &c->regs);
    sysbus_init_mmio(sbd, &c->mmio);
    sysbus_init_irq(sbd, &c->irq);
    object_property_add(OBJECT(s), "cmdqv-stats", "str", cmdqv_get_stats,
                        NULL, NULL, c);
    object_property_set_description(OBJECT(s), "cmdqv-stats",
        "JSON: MMIO traps per CMDQV page, VINTF page0 mapped, HW queues");
    return c;
}

/*
 * The accelerated SMMU's extension probe (smmuv3_accel_register_impl()),
 * at realize: with cmdqv=auto|on add the CMDQV's window and IRQ to the
 * SMMU and take over its vIOMMU. @dev_id is a device bound behind the
 * host SMMU (the simulated host), or 0 when no host device is known yet
 * (/dev/iommu: see "Which host" at the top).
 */
static bool tegra241_cmdqv_probe(SMMUv3State *s, uint32_t dev_id,
                                 const SMMUv3AccelImplOps **ops, void **opaque,
                                 Error **errp)
{
    IOMMUFDBackend *be = smmuv3_accel_backend(s);
    struct iommu_hw_info_tegra241_cmdqv info = { 0 };
    uint32_t type = IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV;
    Tegra241CMDQV *c;
    Error *err = NULL;
    bool present;

    *ops = NULL;
    *opaque = NULL;
    if (s->cmdqv == ON_OFF_AUTO_OFF) {
        return true;
    }
    if (!dev_id) {
        trace_tegra241_cmdqv_probe_later(s->cmdqv == ON_OFF_AUTO_ON);
        if (s->cmdqv == ON_OFF_AUTO_AUTO) {
            return true;
        }
        info.version = CMDQV_FIXED_VERSION;
        info.log2vcmdqs = CMDQV_FIXED_LOG2VCMDQS;
        info.log2vsids = CMDQV_FIXED_LOG2VSIDS;
        *ops = &tegra241_cmdqv_impl_ops;
        *opaque = cmdqv_create(s, &info);
        return true;
    }
    present = iommufd_backend_get_hw_info(be, dev_id, &type, &info,
                                          sizeof(info), NULL, &err) &&
              type == IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV;
    trace_tegra241_cmdqv_probe(present, info.version, info.log2vcmdqs,
                               info.log2vsids);
    if (!present) {
        if (s->cmdqv == ON_OFF_AUTO_AUTO) {
            error_free(err);
            return true;
        }
        error_setg(errp, "arm-smmuv3: cmdqv=on but the host SMMU has no "
                   "Tegra241 CMDQV%s%s", err ? ": " : "",
                   err ? error_get_pretty(err) : "");
        error_append_hint(errp, "Use cmdqv=auto or cmdqv=off, or a host "
                          "with a CMDQV (-object iommufd-sim,cmdqv=on).\n");
        error_free(err);
        return false;
    }
    if ((1U << info.log2vcmdqs) > CMDQV_MAX_VCMDQS ||
        (1U << info.log2vsids) > CMDQV_MAX_SIDS) {
        error_setg(errp, "arm-smmuv3: the host CMDQV has 2^%u VCMDQs and "
                   "2^%u SID slots per VINTF, more than a guest VINTF holds",
                   info.log2vcmdqs, info.log2vsids);
        return false;
    }
    c = cmdqv_create(s, &info);
    c->be = be;
    *ops = &tegra241_cmdqv_impl_ops;
    *opaque = c;
    return true;
}

static void tegra241_cmdqv_register(void)
{
    smmuv3_accel_register_impl(tegra241_cmdqv_probe);
}

type_init(tegra241_cmdqv_register)
