/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host-accelerated SMMUv3 (arm-smmuv3,accel=on).
 *
 * The guest owns stage 1; the host IOMMU runs it, nested over a stage 2
 * that maps guest RAM (an IOAS). This file is the only place that talks
 * to the host (through the iommufd backend API):
 *  - vSIDs: a device gets a vDEVICE (virt_id = its guest StreamID) before
 *    any nested attach, and keeps it while it is attached to the vIOMMU;
 *  - STE install: CFGI_STE* reads the guest STE and attaches the device to
 *    the shared abort or bypass HWPT, or to a nested HWPT of its own;
 *  - invalidations: stage-1 TLB, CD and ATC commands between two CMD_SYNCs
 *    go to the host in one IOMMU_HWPT_INVALIDATE;
 *  - events: the vEVENTQ fd is read from the main loop into the guest
 *    EVTQ, with host-side loss reported as the architected overflow.
 *
 * Host objects exist only while needed: reset releases them all (in the
 * order the kernel requires) and the first use builds them again.
 * Lifecycle: IOAS <- S2 (nest parent) HWPT <- vIOMMU <- {abort and bypass
 * HWPTs, per-device nested HWPTs, vDEVICEs, vEVENTQ}.
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/cutils.h"
#include "qemu/main-loop.h"
#include "hw/registerfields.h"
#include "qapi/error.h"
#include "system/address-spaces.h"
#include "system/memory.h"
#include "system/system.h"
#include "migration/blocker.h"
#include "hw/irq.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pci_device.h"
#include "system/iommufd.h"
#include "hw/vfio/types.h"
#include "smmuv3-accel.h"
#include "smmuv3-accel-vevent.h"
#include "tegra241-cmdqv-hw.h"
#include "trace.h"
#include <linux/iommufd.h>

/* Commands issued per IOMMU_HWPT_INVALIDATE at most. */
#define SMMUV3_ACCEL_BATCH_MAX  256
/* vEVENTQ records read per read() call, and read() calls per wakeup. */
#define SMMUV3_ACCEL_EVT_READ   256
#define SMMUV3_ACCEL_EVT_READS  8

/*
 * The guest STE words the host takes in a vSTE (linux/iommufd.h: struct
 * iommu_hwpt_arm_smmuv3), as 64-bit words; everything else is cleared.
 */
REG64(VSTE0, 0)
    FIELD(VSTE0, V, 0, 1)
    FIELD(VSTE0, CFG, 1, 3)
    FIELD(VSTE0, S1FMT, 4, 2)
    FIELD(VSTE0, S1CTXPTR, 6, 46)
    FIELD(VSTE0, S1CDMAX, 59, 5)
REG64(VSTE1, 8)
    FIELD(VSTE1, S1DSS, 0, 2)
    FIELD(VSTE1, S1CIR, 2, 2)
    FIELD(VSTE1, S1COR, 4, 2)
    FIELD(VSTE1, S1CSH, 6, 2)
    FIELD(VSTE1, S1STALLD, 27, 1)
    FIELD(VSTE1, EATS, 28, 2)
#define VSTE0_ALLOWED       (R_VSTE0_V_MASK | R_VSTE0_CFG_MASK | \
                             R_VSTE0_S1FMT_MASK | R_VSTE0_S1CTXPTR_MASK | \
                             R_VSTE0_S1CDMAX_MASK)
#define VSTE1_ALLOWED       (R_VSTE1_S1DSS_MASK | R_VSTE1_S1CIR_MASK | \
                             R_VSTE1_S1COR_MASK | R_VSTE1_S1CSH_MASK | \
                             R_VSTE1_S1STALLD_MASK)
#define VSTE_CFG_ABORT      0
#define VSTE_CFG_BYPASS     4
#define VSTE_CFG_S1         5

/* The first word of an event record, as the host hands it over. */
REG64(EVT_WORD0, 0)
    FIELD(EVT_WORD0, ID, 0, 8)
    FIELD(EVT_WORD0, SID, 32, 32)

/*
 * A device behind the vSMMU that the host knows: a passed-through VFIO
 * device (its host IOMMU device handed over at realize) or an emulated
 * endpoint the backend placed behind its host IOMMU (bound at plug).
 */
typedef struct SMMUv3AccelDevice {
    SMMUDevice *sdev;
    HostIOMMUDeviceIOMMUFD *idev;
    bool emulated;              /* idev is ours: unref at unplug unbinds */
    uint32_t dev_id;
    uint32_t home_hwpt_id;      /* VFIO's own HWPT, attached when released */
    bool vdev_valid;
    uint32_t vdev_id;
    uint32_t vsid;
    uint32_t hwpt_id;           /* attached HWPT, 0 when detached */
    bool hwpt_owned;            /* hwpt_id is this device's nested HWPT */
} SMMUv3AccelDevice;

typedef struct SMMUv3AccelState {
    SMMUv3State *smmu;
    IOMMUFDBackend *be;         /* iommufd=, or the first VFIO device's */
    bool emulated_host;         /* be places emulated endpoints (sim) */
    unsigned host_instance;     /* be's host IOMMU instance for those */
    bool hw_valid;              /* hw is the host's (IOMMU_GET_HW_INFO) */
    int ssidsize, oas;          /* the properties, parsed; -1: auto */
    struct iommu_hw_info_arm_smmuv3 hw;

    bool host_up;
    uint32_t ioas_id;
    uint32_t s2_hwpt_id;
    uint32_t viommu_id;
    uint32_t abort_hwpt_id;
    uint32_t bypass_hwpt_id;
    MemoryListener listener;
    bool listening;
    bool map_failed;            /* a guest RAM section is not in the IOAS */

    uint32_t veventq_id;
    int veventq_fd;
    uint32_t veventq_depth;
    VeventSeq seq;              /* of the vEVENTQ's headers */
    uint8_t evt_buf[SMMUV3_ACCEL_EVT_READ *
                    (sizeof(struct iommufd_vevent_header) +
                     sizeof(struct iommu_vevent_arm_smmuv3))];
    /* the records of one read, gathered for the guest EVTQ (LE) */
    uint64_t evt_stage[SMMUV3_ACCEL_EVT_READ][4];
    /* what became of the host's events (x-events-* properties) */
    uint64_t evt_written;       /* into the guest EVTQ */
    uint64_t evt_dropped_full;  /* the guest EVTQ was full */
    uint64_t evt_dropped_off;   /* the guest EVTQ was disabled */
    uint64_t evt_dropped_abort; /* the EVTQ write aborted (GERROR) */
    uint64_t evt_host_lost;     /* host overflows (LOST header, gap) */

    GHashTable *devices;        /* SMMUDevice * -> SMMUv3AccelDevice * */
    /*
     * The last fault, so that one faulting DMA reports one event: QEMU's
     * memory core retries a refused access in 4-byte pieces, hardware
     * sees one transaction. Cleared by a bottom half (the end of the
     * emulation step), by a good translation and by teardown.
     */
    SMMUv3AccelDevice *fault_dev;
    SMMUDevice *walk_fault_sdev;    /* the same, for QEMU's own walk */
    hwaddr fault_page;
    unsigned fault_access;
    QEMUBH *fault_bh;
    Error *migration_blocker;
    Notifier exit_notifier;
    DeviceListener device_listener;

    struct iommu_viommu_arm_smmuv3_invalidate batch[SMMUV3_ACCEL_BATCH_MAX];
    uint32_t batch_cons[SMMUV3_ACCEL_BATCH_MAX];
    uint32_t batch_len;

    /* An implementation extension (Tegra241 CMDQV), or NULL. */
    const SMMUv3AccelImplOps *impl;
    void *impl_opaque;

    GArray *doomed;             /* SMMUv3AccelDoomed: see ..._destroy_id */
} SMMUv3AccelState;

/* A host object whose destroy the host refused, to be destroyed later. */
typedef struct SMMUv3AccelDoomed {
    uint32_t id;
    uint32_t dev_id;            /* a vDEVICE's device, else 0 */
} SMMUv3AccelDoomed;

/* The implementation extension's probe (the Tegra241 CMDQV's), if built. */
static SMMUv3AccelImplProbe smmuv3_accel_impl_probe;

/*
 * Try the refused destroys again, until a pass frees nothing more (a
 * parent is refused while its child lives, so one pass may free the
 * child and the next the parent). Called before allocations that could
 * meet a doomed object (the kernel allows one vEVENTQ of a type per
 * vIOMMU, one HW queue per index) and at the end of each teardown.
 */
static void smmuv3_accel_reap(SMMUv3AccelState *a)
{
    bool progress = true;
    guint i;

    while (progress && a->doomed->len) {
        progress = false;
        for (i = 0; i < a->doomed->len;) {
            SMMUv3AccelDoomed *d = &g_array_index(a->doomed,
                                                  SMMUv3AccelDoomed, i);

            if (iommufd_backend_destroy_id(a->be, d->id, NULL)) {
                trace_smmuv3_accel_destroy_reaped(d->id);
                g_array_remove_index(a->doomed, i);
                progress = true;
            } else {
                i++;
            }
        }
    }
}

/*
 * Destroy host object @id. One the host refuses (EBUSY while something
 * still holds it, or any error of a failing host) is not forgotten: it
 * is kept in a->doomed for smmuv3_accel_reap(), so that a transient
 * failure neither leaks the object nor blocks its successor.
 */
static void smmuv3_accel_destroy_id(SMMUv3AccelState *a, uint32_t id,
                                    uint32_t dev_id)
{
    SMMUv3AccelDoomed d = { .id = id, .dev_id = dev_id };
    Error *err = NULL;

    if (!id || iommufd_backend_destroy_id(a->be, id, &err)) {
        return;
    }
    trace_smmuv3_accel_destroy_deferred(id, error_get_pretty(err));
    warn_report_once("smmuv3-accel: %s; destroying it again later",
                     error_get_pretty(err));
    error_free(err);
    g_array_append_val(a->doomed, d);
}

/*
 * Device @dev_id is about to be unbound, which destroys its vDEVICE in the
 * kernel: try its doomed vDEVICEs once more, then drop them, as their IDs
 * may be reused by the next allocation.
 */
static void smmuv3_accel_forget_device(SMMUv3AccelState *a, uint32_t dev_id)
{
    guint i;

    smmuv3_accel_reap(a);
    for (i = 0; i < a->doomed->len;) {
        if (g_array_index(a->doomed, SMMUv3AccelDoomed, i).dev_id == dev_id) {
            g_array_remove_index(a->doomed, i);
        } else {
            i++;
        }
    }
}

static void smmuv3_accel_destroy(SMMUv3AccelState *a, uint32_t *id)
{
    smmuv3_accel_destroy_id(a, *id, 0);
    *id = 0;
}

/* ---- stage 2: guest RAM in the IOAS ---- */

static bool smmuv3_accel_section_ok(SMMUv3AccelState *a,
                                    MemoryRegionSection *section)
{
    /*
     * Guest RAM only: not RAM devices, and not the SMMU's own pages (the
     * CMDQV's VINTF page is host MMIO mapped into the guest).
     */
    return memory_region_is_ram(section->mr) &&
           !memory_region_is_ram_device(section->mr) &&
           memory_region_owner(section->mr) != OBJECT(a->smmu);
}

static void smmuv3_accel_region_add(MemoryListener *listener,
                                    MemoryRegionSection *section)
{
    SMMUv3AccelState *a = container_of(listener, SMMUv3AccelState, listener);
    hwaddr iova = section->offset_within_address_space;
    uint64_t size = int128_get64(section->size);
    void *vaddr;
    int ret;

    if (!smmuv3_accel_section_ok(a, section) || !size) {
        return;
    }
    vaddr = memory_region_get_ram_ptr(section->mr) +
            section->offset_within_region;
    ret = iommufd_backend_map_dma(a->be, a->ioas_id, iova, size, vaddr,
                                  section->readonly);
    trace_smmuv3_accel_map_ram(iova, size, ret);
    if (ret) {
        a->map_failed = true;
        error_report("smmuv3-accel: cannot map guest RAM 0x%" HWADDR_PRIx
                     "+0x%" PRIx64 " for nested DMA: %s", iova, size,
                     strerror(-ret));
    }
}

static void smmuv3_accel_region_del(MemoryListener *listener,
                                    MemoryRegionSection *section)
{
    SMMUv3AccelState *a = container_of(listener, SMMUv3AccelState, listener);
    hwaddr iova = section->offset_within_address_space;
    uint64_t size = int128_get64(section->size);

    if (!smmuv3_accel_section_ok(a, section) || !size) {
        return;
    }
    iommufd_backend_unmap_dma(a->be, a->ioas_id, iova, size);
}

/* ---- events: host vEVENTQ -> guest EVTQ ---- */

static void smmuv3_accel_evtq_overflow(SMMUv3State *s)
{
    SMMUQueue *q = &s->eventq;

    /* OVFLG toggles once per overflow the guest has acknowledged. */
    if (!((q->prod ^ q->cons) & EVT_Q_OVERFLOW)) {
        q->prod ^= EVT_Q_OVERFLOW;
    }
    trace_smmuv3_accel_evtq_overflow(q->prod, q->cons);
    if (smmuv3_eventq_irq_enabled(s)) {
        qemu_irq_pulse(s->irq[SMMU_IRQ_EVTQ]);
    }
}

/*
 * Hand the @n records staged in a->evt_stage to the guest's EVTQ: a
 * disabled EVTQ drops them, as hardware does; a full one drops the rest
 * and flags the overflow.
 */
static void smmuv3_accel_deliver_events(SMMUv3AccelState *a, unsigned n)
{
    SMMUv3State *s = a->smmu;
    unsigned i, written;

    if (!n) {
        return;
    }
    if (!smmuv3_eventq_enabled(s)) {
        for (i = 0; i < n; i++) {
            trace_smmuv3_accel_event_dropped(
                FIELD_EX64(le64_to_cpu(a->evt_stage[i][0]), EVT_WORD0, ID));
        }
        a->evt_dropped_off += n;
        return;
    }
    written = smmuv3_write_eventq_records(s, a->evt_stage, n);
    if (trace_event_get_state_backends(TRACE_SMMUV3_ACCEL_EVENT)) {
        for (i = 0; i < written; i++) {
            uint64_t w0 = le64_to_cpu(a->evt_stage[i][0]);

            trace_smmuv3_accel_event(FIELD_EX64(w0, EVT_WORD0, ID),
                                     FIELD_EX64(w0, EVT_WORD0, SID),
                                     le64_to_cpu(a->evt_stage[i][2]));
        }
    }
    a->evt_written += written;
    if (written == n) {
        return;
    }
    if (smmuv3_q_full(&s->eventq)) {
        a->evt_dropped_full += n - written;
        smmuv3_accel_evtq_overflow(s);
    } else {
        /* smmuv3_write_eventq_records() raised GERROR.EVENTQ_ABT_ERR */
        a->evt_dropped_abort += n - written;
    }
}

/*
 * The vEVENTQ fd handler, in the main loop with the BQL: the EVTQ and the
 * sequence state are the BQL's. s->mutex is not held: the record writes
 * are guest DMA, which can land in a window of this SMMU (an EVENTQ_BASE
 * in the CMDQV's) and run MMIO handlers that take s->mutex themselves.
 * Reads a few buffers per wakeup, and hands each to the guest EVTQ in
 * one batch: one DMA per contiguous run, one interrupt.
 */
static void smmuv3_accel_read_events(void *opaque)
{
    SMMUv3AccelState *a = opaque;
    SMMUv3State *s = a->smmu;
    const size_t rec = sizeof(struct iommufd_vevent_header) +
                       sizeof(struct iommu_vevent_arm_smmuv3);
    const uint8_t *payload;
    VeventCursor cur;
    VeventKind kind;
    uint32_t seq;
    ssize_t len;
    unsigned reads, n;

    for (reads = 0; reads < SMMUV3_ACCEL_EVT_READS; reads++) {
        len = iommufd_backend_read_fd(a->be, a->veventq_fd, a->evt_buf,
                                      sizeof(a->evt_buf));
        if (len < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                error_report_once("smmuv3-accel: vEVENTQ read failed: %s",
                                  strerror(errno));
            }
            return;
        }
        vevent_cursor_init(&cur, a->evt_buf, len,
                           sizeof(struct iommu_vevent_arm_smmuv3));
        n = 0;
        while ((kind = vevent_next(&cur, &seq, &payload)) != VEVENT_END) {
            uint32_t expected = a->seq.next;

            if (vevent_seq_lost(&a->seq, seq, kind == VEVENT_LOST)) {
                /*
                 * The host queue overflowed: the guest lost events too,
                 * after the records before this one.
                 */
                if (kind == VEVENT_LOST) {
                    trace_smmuv3_accel_host_lost_events(seq);
                } else {
                    trace_smmuv3_accel_host_seq_gap(expected, seq);
                }
                smmuv3_accel_deliver_events(a, n);
                n = 0;
                a->evt_host_lost++;
                smmuv3_accel_evtq_overflow(s);
            }
            if (kind == VEVENT_RECORD) {
                memcpy(a->evt_stage[n++], payload, sizeof(a->evt_stage[0]));
            }
        }
        smmuv3_accel_deliver_events(a, n);
        if ((size_t)len + rec <= sizeof(a->evt_buf)) {
            return;     /* a short read: the host queue is empty */
        }
    }
}

/*
 * The vEVENTQ's fd holds the queue until its file is released, so the fd
 * is closed first. A vCPU thread can get here (the guest turns its EVTQ
 * off) while the main loop sits in poll() on that fd, and poll() holds
 * the file until it returns: the kernel then refuses the destroy (EBUSY).
 * Wake the main loop and try again, for at most 100 ms.
 */
#define VEVENTQ_DESTROY_TRIES   50

void smmuv3_accel_veventq_close(SMMUv3State *s, int fd, uint32_t id)
{
    SMMUv3AccelState *a = s->s_accel;
    int i;

    qemu_set_fd_handler(fd, NULL, NULL, NULL);
    iommufd_backend_close_fd(a->be, fd);
    for (i = 1; i < VEVENTQ_DESTROY_TRIES; i++) {
        if (iommufd_backend_destroy_id(a->be, id, NULL)) {
            return;
        }
        qemu_notify_event();
        g_usleep(2000);
    }
    smmuv3_accel_destroy_id(a, id, 0);
}

static void smmuv3_accel_veventq_free(SMMUv3AccelState *a)
{
    if (!a->veventq_id) {
        return;
    }
    smmuv3_accel_veventq_close(a->smmu, a->veventq_fd, a->veventq_id);
    a->veventq_fd = -1;
    a->veventq_id = 0;
    a->veventq_depth = 0;
}

/* A vEVENTQ as deep as the guest's EVTQ, while the guest EVTQ is on. */
static void smmuv3_accel_veventq_update(SMMUv3AccelState *a)
{
    SMMUv3State *s = a->smmu;
    uint32_t depth = 1U << s->eventq.log2size;
    Error *err = NULL;

    if (!a->host_up || !smmuv3_eventq_enabled(s)) {
        smmuv3_accel_veventq_free(a);
        return;
    }
    if (a->veventq_id && a->veventq_depth == depth) {
        return;
    }
    smmuv3_accel_veventq_free(a);
    smmuv3_accel_reap(a);
    if (!iommufd_backend_alloc_veventq(a->be, a->viommu_id,
                                       IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, depth,
                                       &a->veventq_id, &a->veventq_fd,
                                       &err)) {
        /*
         * The host's events cannot reach the guest until a later update
         * (the next STE install or EVTQ change) gets a vEVENTQ: to the
         * guest that is an EVTQ that lost events.
         */
        trace_smmuv3_accel_veventq_failed(error_get_pretty(err));
        warn_report_once("smmuv3-accel: %s; the guest's EVTQ loses the "
                         "host's events until it is allocated",
                         error_get_pretty(err));
        error_free(err);
        a->veventq_id = 0;
        smmuv3_accel_evtq_overflow(s);
        return;
    }
    a->veventq_depth = depth;
    a->seq = (VeventSeq) { 0 };
    qemu_set_fd_handler(a->veventq_fd, smmuv3_accel_read_events, NULL, a);
}

/* ---- host objects ---- */

static bool smmuv3_accel_nested_hwpt(SMMUv3AccelState *a, uint32_t dev_id,
                                     uint64_t ste0, uint64_t ste1,
                                     uint32_t *hwpt_id, Error **errp)
{
    struct iommu_hwpt_arm_smmuv3 data = {
        .ste = { cpu_to_le64(ste0), cpu_to_le64(ste1) },
    };

    return iommufd_backend_alloc_hwpt(a->be, dev_id, a->viommu_id, 0,
                                      IOMMU_HWPT_DATA_ARM_SMMUV3,
                                      sizeof(data), &data, hwpt_id, errp);
}

static void smmuv3_accel_host_down(SMMUv3AccelState *a);

static bool smmuv3_accel_host_up(SMMUv3AccelState *a, uint32_t dev_id,
                                 Error **errp)
{
    const uint64_t valid = FIELD_DP64(0, VSTE0, V, 1);
    const uint64_t abort_ste = FIELD_DP64(valid, VSTE0, CFG, VSTE_CFG_ABORT);
    const uint64_t bypass_ste = FIELD_DP64(valid, VSTE0, CFG,
                                           VSTE_CFG_BYPASS);

    if (a->host_up) {
        return true;
    }
    smmuv3_accel_reap(a);
    if (!iommufd_backend_alloc_ioas(a->be, &a->ioas_id, errp)) {
        return false;
    }
    a->host_up = true;
    a->listener = (MemoryListener) {
        .name = "smmuv3-accel",
        .region_add = smmuv3_accel_region_add,
        .region_del = smmuv3_accel_region_del,
        .priority = MEMORY_LISTENER_PRIORITY_ACCEL,
    };
    a->map_failed = false;
    memory_listener_register(&a->listener, &address_space_memory);
    a->listening = true;
    if (a->map_failed) {
        /*
         * Stage 2 would miss guest RAM, and the host reports its stage-2
         * faults to itself: no nesting on it (the STE installs fail,
         * which the guest sees as C_BAD_STE), try again at the next.
         */
        error_setg(errp, "guest RAM is not all mapped in the host IOAS");
        smmuv3_accel_host_down(a);
        return false;
    }
    if (!iommufd_backend_alloc_hwpt(a->be, dev_id, a->ioas_id,
                                    IOMMU_HWPT_ALLOC_NEST_PARENT,
                                    IOMMU_HWPT_DATA_NONE, 0, NULL,
                                    &a->s2_hwpt_id, errp) ||
        !(a->impl ? a->impl->viommu_alloc(a->impl_opaque, dev_id,
                                           a->s2_hwpt_id, &a->viommu_id,
                                           errp)
                  : iommufd_backend_alloc_viommu(a->be, dev_id,
                                                 IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
                                                 a->s2_hwpt_id, NULL, 0,
                                                 &a->viommu_id, errp)) ||
        !smmuv3_accel_nested_hwpt(a, dev_id, abort_ste, 0,
                                  &a->abort_hwpt_id, errp) ||
        !smmuv3_accel_nested_hwpt(a, dev_id, bypass_ste, 0,
                                  &a->bypass_hwpt_id, errp)) {
        smmuv3_accel_host_down(a);
        return false;
    }
    trace_smmuv3_accel_host_up(a->ioas_id, a->s2_hwpt_id, a->viommu_id);
    smmuv3_accel_veventq_update(a);
    return true;
}

static bool smmuv3_accel_attach(SMMUv3AccelState *a, SMMUv3AccelDevice *ad,
                                uint32_t hwpt_id, bool owned, Error **errp)
{
    uint32_t old = ad->hwpt_owned ? ad->hwpt_id : 0;

    if (!host_iommu_device_iommufd_attach_hwpt(ad->idev, hwpt_id, errp)) {
        return false;
    }
    trace_smmuv3_accel_attach(ad->dev_id, ad->vsid, hwpt_id);
    ad->hwpt_id = hwpt_id;
    ad->hwpt_owned = owned;
    /* The replaced nested HWPT has no user left. */
    smmuv3_accel_destroy(a, &old);
    return true;
}

static void smmuv3_accel_vdev_free(SMMUv3AccelState *a, SMMUv3AccelDevice *ad)
{
    if (ad->vdev_valid) {
        smmuv3_accel_destroy_id(a, ad->vdev_id, ad->dev_id);
        ad->vdev_id = 0;
        ad->vdev_valid = false;
    }
}

/* The vSID of @ad must be its current guest StreamID before nesting. */
static bool smmuv3_accel_vdev_sync(SMMUv3AccelState *a,
                                   SMMUv3AccelDevice *ad, Error **errp)
{
    uint32_t vsid = smmu_get_sid(ad->sdev);

    if (ad->vdev_valid && ad->vsid == vsid) {
        return true;
    }
    if (ad->vdev_valid) {
        /* The guest renumbered the bus: leave nesting, then re-register. */
        trace_smmuv3_accel_vsid_change(ad->dev_id, ad->vsid, vsid);
        if (ad->hwpt_owned &&
            !smmuv3_accel_attach(a, ad, a->abort_hwpt_id, false, errp)) {
            return false;
        }
        smmuv3_accel_vdev_free(a, ad);
    }
    smmuv3_accel_reap(a);   /* one vDEVICE per device and vIOMMU */
    if (!iommufd_backend_alloc_vdev(a->be, ad->dev_id, a->viommu_id, vsid,
                                    &ad->vdev_id, errp)) {
        return false;
    }
    ad->vdev_valid = true;
    ad->vsid = vsid;
    return true;
}

/*
 * Take @ad off the vIOMMU's HWPTs: a VFIO device goes back to the HWPT
 * VFIO gave it (stage 2 only, as before the guest configured it), an
 * emulated endpoint is detached.
 */
static void smmuv3_accel_release(SMMUv3AccelState *a, SMMUv3AccelDevice *ad)
{
    Error *err = NULL;
    bool ok;

    if (ad->hwpt_id) {
        ok = ad->home_hwpt_id ?
             host_iommu_device_iommufd_attach_hwpt(ad->idev, ad->home_hwpt_id,
                                                   &err) :
             host_iommu_device_iommufd_detach_hwpt(ad->idev, &err);
        if (!ok) {
            warn_report_err(err);
        }
        trace_smmuv3_accel_release(ad->dev_id, ad->home_hwpt_id, ok);
        if (ad->hwpt_owned) {
            smmuv3_accel_destroy(a, &ad->hwpt_id);
        }
        ad->hwpt_id = 0;
        ad->hwpt_owned = false;
    }
    smmuv3_accel_vdev_free(a, ad);
}

static void smmuv3_accel_host_down(SMMUv3AccelState *a)
{
    GHashTableIter iter;
    SMMUv3AccelDevice *ad;

    if (!a->host_up) {
        smmuv3_accel_reap(a);
        return;
    }
    if (a->impl && a->viommu_id) {
        /* The extension's HW queues, mmap and vEVENTQ hold the vIOMMU. */
        a->impl->host_down(a->impl_opaque);
    }
    a->fault_dev = NULL;
    /* Detach, vDEVICEs, vEVENTQ, HWPTs, vIOMMU, parent, IOAS. */
    g_hash_table_iter_init(&iter, a->devices);
    while (g_hash_table_iter_next(&iter, NULL, (void **)&ad)) {
        smmuv3_accel_release(a, ad);
    }
    smmuv3_accel_veventq_free(a);
    smmuv3_accel_destroy(a, &a->abort_hwpt_id);
    smmuv3_accel_destroy(a, &a->bypass_hwpt_id);
    smmuv3_accel_destroy(a, &a->viommu_id);
    smmuv3_accel_destroy(a, &a->s2_hwpt_id);
    if (a->listening) {
        memory_listener_unregister(&a->listener);
        a->listening = false;
    }
    smmuv3_accel_destroy(a, &a->ioas_id);
    smmuv3_accel_reap(a);
    a->host_up = false;
    a->batch_len = 0;
    trace_smmuv3_accel_host_down();
}

/* ---- STE install ---- */

static void smmuv3_accel_bad_ste(SMMUv3State *s, uint32_t sid,
                                 const char *why)
{
    SMMUEventInfo event = {
        .type = SMMU_EVT_C_BAD_STE,
        .sid = sid,
    };

    qemu_log_mask(LOG_GUEST_ERROR, "smmuv3-accel: STE of sid 0x%x: %s\n",
                  sid, why);
    smmuv3_record_event(s, &event);
}

/*
 * The host failed to install the configuration of @sid (@err): the guest
 * sees the stream's STE refused (C_BAD_STE), the stream aborts as it
 * would on hardware, and the reason goes to the trace.
 */
static void smmuv3_accel_install_failed(SMMUv3AccelState *a,
                                        SMMUv3AccelDevice *ad, uint32_t sid,
                                        Error *err)
{
    SMMUEventInfo event = {
        .type = SMMU_EVT_C_BAD_STE,
        .sid = sid,
    };

    trace_smmuv3_accel_install_failed(sid, error_get_pretty(err));
    error_free(err);
    if (ad && a->host_up && ad->hwpt_id != a->abort_hwpt_id &&
        !smmuv3_accel_attach(a, ad, a->abort_hwpt_id, false, &err)) {
        trace_smmuv3_accel_install_failed(sid, error_get_pretty(err));
        error_free(err);
    }
    smmuv3_record_event(a->smmu, &event);
}

/* Attach @ad as the guest's current configuration says. */
static bool smmuv3_accel_apply(SMMUv3AccelState *a, SMMUv3AccelDevice *ad,
                               Error **errp)
{
    SMMUv3State *s = a->smmu;
    uint32_t sid = smmu_get_sid(ad->sdev);
    SMMUEventInfo event = { .sid = sid, .inval_ste_allowed = true };
    uint64_t ste0, ste1;
    uint32_t cfg, hwpt;
    Error *err = NULL;
    STE ste;

    if (!smmu_enabled(s)) {
        hwpt = FIELD_EX32(s->gbpa, GBPA, ABORT) ? a->abort_hwpt_id
                                                 : a->bypass_hwpt_id;
        return ad->hwpt_id == hwpt ||
               smmuv3_accel_attach(a, ad, hwpt, false, errp);
    }
    if (smmu_find_ste(s, sid, &ste, &event)) {
        /* No STE to fetch: the stream is aborted (as hardware would). */
        return smmuv3_accel_attach(a, ad, a->abort_hwpt_id, false, errp);
    }
    ste0 = ste.word[0] | (uint64_t)ste.word[1] << 32;
    ste1 = ste.word[2] | (uint64_t)ste.word[3] << 32;
    cfg = STE_CONFIG(&ste);
    if (!STE_VALID(&ste) || cfg <= 3) {
        hwpt = a->abort_hwpt_id;
    } else if (cfg == VSTE_CFG_BYPASS) {
        hwpt = a->bypass_hwpt_id;
    } else if (cfg == VSTE_CFG_S1) {
        ste0 &= VSTE0_ALLOWED;
        ste1 &= VSTE1_ALLOWED |
                (FIELD_EX32(s->idr[0], IDR0, ATS) ? R_VSTE1_EATS_MASK : 0);
        if (!smmuv3_accel_vdev_sync(a, ad, errp)) {
            return false;
        }
        if (!smmuv3_accel_nested_hwpt(a, ad->dev_id, ste0, ste1, &hwpt,
                                      &err)) {
            /* The host refused the vSTE: the guest sees C_BAD_STE. */
            smmuv3_accel_bad_ste(s, sid, error_get_pretty(err));
            error_free(err);
            return smmuv3_accel_attach(a, ad, a->abort_hwpt_id, false,
                                       errp);
        }
        if (!smmuv3_accel_attach(a, ad, hwpt, true, errp)) {
            smmuv3_accel_destroy(a, &hwpt);
            return false;
        }
        return true;
    } else {
        smmuv3_accel_bad_ste(s, sid, cfg == 6 || cfg == 7 ?
                             "stage 2 is not offered to the guest" :
                             "reserved Config");
        hwpt = a->abort_hwpt_id;
    }
    return ad->hwpt_id == hwpt ||
           smmuv3_accel_attach(a, ad, hwpt, false, errp);
}

/* Any device the host knows, for the allocations of the host objects. */
static SMMUv3AccelDevice *smmuv3_accel_any_device(SMMUv3AccelState *a)
{
    GHashTableIter iter;
    SMMUv3AccelDevice *ad;

    g_hash_table_iter_init(&iter, a->devices);
    return g_hash_table_iter_next(&iter, NULL, (void **)&ad) ? ad : NULL;
}

/* Install the guest's configuration of @ad on the host now. */
static void smmuv3_accel_install(SMMUv3AccelState *a, SMMUv3AccelDevice *ad)
{
    uint32_t sid = smmu_get_sid(ad->sdev);
    Error *err = NULL;

    trace_smmuv3_accel_install_ste(sid);
    if (!smmuv3_accel_host_up(a, ad->dev_id, &err) ||
        !smmuv3_accel_apply(a, ad, &err)) {
        smmuv3_accel_install_failed(a, ad, sid, err);
    }
}

void smmuv3_accel_install_ste(SMMUv3State *s, uint32_t start, uint32_t end)
{
    SMMUv3AccelState *a = s->s_accel;
    GHashTableIter iter;
    SMMUDevice *sdev;
    SMMUv3AccelDevice *ad;

    g_hash_table_iter_init(&iter, a->devices);
    while (g_hash_table_iter_next(&iter, (void **)&sdev, (void **)&ad)) {
        uint32_t sid = smmu_get_sid(sdev);

        if (sid >= start && sid <= end) {
            smmuv3_accel_install(a, ad);
        }
    }
    /* A vEVENTQ the host refused before: try again. */
    smmuv3_accel_veventq_update(a);
}

void smmuv3_accel_config_changed(SMMUv3State *s)
{
    SMMUv3AccelState *a = s->s_accel;

    qemu_mutex_lock(&s->mutex);
    /* SMMUEN or GBPA decide every stream's configuration. */
    smmuv3_accel_install_ste(s, 0, UINT32_MAX);
    smmuv3_accel_veventq_update(a);
    qemu_mutex_unlock(&s->mutex);
}

/*
 * A device the host knows joined: install its configuration at once if
 * the guest has configured the SMMU (a hot-plug, or a device bound after
 * the host objects came up); otherwise the next CFGI_STE, SMMUEN or GBPA
 * change does.
 */
static void smmuv3_accel_device_added(SMMUv3AccelState *a,
                                      SMMUv3AccelDevice *ad)
{
    g_hash_table_insert(a->devices, ad->sdev, ad);
    if (a->host_up || smmu_enabled(a->smmu)) {
        smmuv3_accel_install(a, ad);
    }
}

/* ---- invalidations ---- */

static SMMUv3AccelDevice *smmuv3_accel_by_vsid(SMMUv3AccelState *a,
                                               uint32_t vsid)
{
    SMMUDevice *sdev = smmu_find_sdev(ARM_SMMU(a->smmu), vsid);
    SMMUv3AccelDevice *ad;

    if (!sdev) {
        return NULL;
    }
    ad = g_hash_table_lookup(a->devices, sdev);
    return ad && ad->vdev_valid && ad->vsid == vsid ? ad : NULL;
}

/*
 * Issue the first *n batched commands. On a failure *n is the index of
 * the failing one and *cerror the guest-visible command error.
 */
static bool smmuv3_accel_issue(SMMUv3AccelState *a, uint32_t *n, int *cerror,
                               Error **errp)
{
    const uint32_t type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3;

    if (iommufd_backend_invalidate_cache(a->be, a->viommu_id, type,
                                         sizeof(a->batch[0]), n, a->batch,
                                         errp)) {
        return true;
    }
    *cerror = errno == EIO ? SMMU_CERROR_ILL : SMMU_CERROR_ABT;
    return false;
}

int smmuv3_accel_sync(SMMUv3State *s, uint32_t *fail_cons)
{
    SMMUv3AccelState *a = s->s_accel;
    uint32_t len = a->batch_len, n = len, done;
    Error *err = NULL;
    int ret;

    if (!n) {
        return SMMU_CERROR_NONE;
    }
    a->batch_len = 0;
    /* A new translation may now succeed where the last one faulted. */
    a->fault_dev = NULL;
    a->walk_fault_sdev = NULL;
    if (smmuv3_accel_issue(a, &n, &ret, &err)) {
        trace_smmuv3_accel_invalidate(n);
        return SMMU_CERROR_NONE;
    }
    /*
     * Entry n failed and those after it were not issued. Neither were
     * the entries of the host's failing block before n (the kernel
     * converts commands in blocks and issues a block only when all of it
     * converted), yet the guest's CONS moves past them: issue them again
     * (invalidations are idempotent) so that they take effect.
     */
    n = MIN(n, len - 1);
    for (done = n; done; n = done) {
        Error *again = NULL;

        if (smmuv3_accel_issue(a, &done, &ret, &again) || done >= n) {
            error_free(again);
            break;
        }
        error_free(err);
        err = again;
    }
    *fail_cons = deposit32(*fail_cons, 0, s->cmdq.log2size + 1,
                           a->batch_cons[n]);
    qemu_log_mask(LOG_GUEST_ERROR, "smmuv3-accel: host refused command %u "
                  "of the batch: %s\n", n, error_get_pretty(err));
    trace_smmuv3_accel_invalidate_error(n, ret);
    error_free(err);
    return ret;
}

int smmuv3_accel_batch_cmd(SMMUv3State *s, const Cmd *cmd, uint32_t cons,
                           uint32_t *fail_cons)
{
    SMMUv3AccelState *a = s->s_accel;
    uint32_t type = CMD_TYPE(cmd);
    int ret;

    if (!a->host_up) {
        /* No device is attached: there is nothing cached to invalidate. */
        return SMMU_CERROR_NONE;
    }
    if (CMD_SSEC(cmd)) {
        return SMMU_CERROR_ILL;
    }
    if ((type == SMMU_CMD_CFGI_CD || type == SMMU_CMD_CFGI_CD_ALL ||
         type == SMMU_CMD_ATC_INV) && !smmuv3_accel_by_vsid(a, CMD_SID(cmd))) {
        /* No vDEVICE for that StreamID: nothing of it is cached. */
        trace_smmuv3_accel_cmd_local(type, CMD_SID(cmd));
        return SMMU_CERROR_NONE;
    }
    if (a->batch_len == SMMUV3_ACCEL_BATCH_MAX) {
        ret = smmuv3_accel_sync(s, fail_cons);
        if (ret) {
            return ret;
        }
    }
    a->batch[a->batch_len].cmd[0] =
        cpu_to_le64(cmd->word[0] | (uint64_t)cmd->word[1] << 32);
    a->batch[a->batch_len].cmd[1] =
        cpu_to_le64(cmd->word[2] | (uint64_t)cmd->word[3] << 32);
    a->batch_cons[a->batch_len] = cons;
    a->batch_len++;
    if (!s->batch_inval) {
        /* One host call per command, as upstream QEMU forwards them. */
        return smmuv3_accel_sync(s, fail_cons);
    }
    return SMMU_CERROR_NONE;
}

/* ---- DMA of emulated endpoints ---- */

/*
 * An emulated endpoint's DMA goes through its host IOMMU device when the
 * backend has one for it (the simulated host): the host IOMMU translates
 * it with the configuration installed at CFGI_STE time, and raises the
 * fault (on its vEVENTQ) if it fails. Before the guest has configured
 * the SMMU nothing is installed: the stream then does what GBPA says, as
 * hardware with SMMUEN=0 does.
 *
 * On /dev/iommu an emulated endpoint has no host IOMMU device: QEMU walks
 * the guest's stage 1 itself, as the emulated SMMUv3 does (its translate,
 * with its caches and its events in the guest EVTQ). There is no stage 2
 * to walk: the guest's stage 1 outputs guest physical addresses. The
 * command dispatcher runs every invalidation locally as well as
 * forwarding it, so that walker's caches are invalidated exactly as the
 * host's are.
 */
static IOMMUTLBEntry smmuv3_accel_translate_walk(IOMMUMemoryRegion *mr,
                                                 hwaddr addr,
                                                 IOMMUAccessFlags flag,
                                                 int iommu_idx)
{
    static IOMMUMemoryRegionClass *emulated;
    SMMUDevice *sdev = container_of(mr, SMMUDevice, iommu);
    SMMUv3State *s = sdev->smmu;
    SMMUv3AccelState *a = s->s_accel;
    hwaddr page = addr & ~(hwaddr)0xfff;
    IOMMUTLBEntry entry;
    bool repeat;

    if (!emulated) {
        emulated = IOMMU_MEMORY_REGION_CLASS(
            object_class_by_name(TYPE_SMMUV3_IOMMU_MEMORY_REGION));
    }
    qemu_mutex_lock(&s->mutex);
    repeat = a->walk_fault_sdev == sdev && a->fault_page == page &&
             a->fault_access == flag;
    qemu_mutex_unlock(&s->mutex);
    if (repeat) {
        /* The rest of a transaction that already faulted: one event. */
        return (IOMMUTLBEntry) {
            .target_as = &address_space_memory,
            .iova = page,
            .translated_addr = page,
            .addr_mask = 0xfff,
            .perm = IOMMU_NONE,
        };
    }
    entry = emulated->translate(mr, addr, flag, iommu_idx);
    qemu_mutex_lock(&s->mutex);
    if (entry.perm == IOMMU_NONE) {
        a->walk_fault_sdev = sdev;
        a->fault_page = page;
        a->fault_access = flag;
        qemu_bh_schedule(a->fault_bh);
    } else if (a->walk_fault_sdev == sdev) {
        a->walk_fault_sdev = NULL;
    }
    qemu_mutex_unlock(&s->mutex);
    return entry;
}

static IOMMUTLBEntry smmuv3_accel_translate(IOMMUMemoryRegion *mr,
                                            hwaddr addr,
                                            IOMMUAccessFlags flag,
                                            int iommu_idx)
{
    SMMUDevice *sdev = container_of(mr, SMMUDevice, iommu);
    SMMUv3State *s = sdev->smmu;
    SMMUv3AccelState *a = s->s_accel;
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = addr & ~(hwaddr)0xfff,
        .translated_addr = addr & ~(hwaddr)0xfff,
        .addr_mask = 0xfff,
        .perm = IOMMU_NONE,
    };
    HostIOMMUTranslation t;
    SMMUv3AccelDevice *ad;
    unsigned access = 0;

    if (flag & IOMMU_RO || flag == IOMMU_NONE) {
        access |= HOST_IOMMU_ACCESS_READ;
    }
    if (flag & IOMMU_WO) {
        access |= HOST_IOMMU_ACCESS_WRITE;
    }
    if (!a->emulated_host) {
        return smmuv3_accel_translate_walk(mr, addr, flag, iommu_idx);
    }
    qemu_mutex_lock(&s->mutex);
    ad = g_hash_table_lookup(a->devices, sdev);
    if (!ad || !ad->hwpt_id) {
        if (!smmu_enabled(s) && !FIELD_EX32(s->gbpa, GBPA, ABORT)) {
            entry.perm = IOMMU_RW;
        } else {
            qemu_log_mask(LOG_GUEST_ERROR, "smmuv3-accel: DMA of sid 0x%x "
                          "to 0x%" HWADDR_PRIx " aborted: %s\n",
                          smmu_get_sid(sdev), addr,
                          ad ? "its configuration is not installed"
                             : "the host has no IOMMU device for it");
        }
        qemu_mutex_unlock(&s->mutex);
        return entry;
    }
    if (ad == a->fault_dev && entry.iova == a->fault_page &&
        access == a->fault_access) {
        /* The rest of a transaction that already faulted. */
        qemu_mutex_unlock(&s->mutex);
        return entry;
    }
    if (host_iommu_device_iommufd_translate(ad->idev, addr, access, &t)) {
        entry.translated_addr = t.addr & ~(hwaddr)0xfff;
        entry.perm = (t.perm & HOST_IOMMU_ACCESS_READ ? IOMMU_RO : 0) |
                     (t.perm & HOST_IOMMU_ACCESS_WRITE ? IOMMU_WO : 0);
        if (ad == a->fault_dev) {
            a->fault_dev = NULL;
        }
    } else {
        trace_smmuv3_accel_dma_fault(ad->dev_id, addr,
                                     FIELD_EX64(t.event[0], EVT_WORD0, ID),
                                     t.reported);
        a->fault_dev = ad;
        a->fault_page = entry.iova;
        a->fault_access = access;
        qemu_bh_schedule(a->fault_bh);
    }
    qemu_mutex_unlock(&s->mutex);
    return entry;
}

static void smmuv3_accel_fault_bh(void *opaque)
{
    SMMUv3AccelState *a = opaque;

    qemu_mutex_lock(&a->smmu->mutex);
    a->fault_dev = NULL;
    a->walk_fault_sdev = NULL;
    qemu_mutex_unlock(&a->smmu->mutex);
}

/* ---- properties, realize, reset ---- */

static bool smmuv3_accel_parse_uint(const char *str, const char *name,
                                    unsigned max, int *out, Error **errp)
{
    uint64_t v;

    if (!str || !strcmp(str, "auto")) {
        *out = -1;
        return true;
    }
    if (qemu_strtou64(str, NULL, 0, &v) || v > max) {
        error_setg(errp, "arm-smmuv3: %s=%s is not valid", name, str);
        error_append_hint(errp, "Use 'auto' or a number up to %u.\n", max);
        return false;
    }
    *out = v;
    return true;
}

bool smmuv3_accel_check_properties(SMMUv3State *s, Error **errp)
{
    int ssid, oas;

    if ((s->accel || s->cmdqv != ON_OFF_AUTO_ON) &&
        (s->cmdqv_vintfs != TEGRA241_CMDQV_HW_VINTFS ||
         s->cmdqv_vcmdqs != TEGRA241_CMDQV_HW_VCMDQS)) {
        error_setg(errp, "arm-smmuv3: cmdqv-vintfs and cmdqv-vcmdqs size "
                   "the emulated CMDQV (accel=off,cmdqv=on)");
        error_append_hint(errp, "With accel=on the host's CMDQV decides; "
                          "otherwise add cmdqv=on.\n");
        return false;
    }

    if (!smmuv3_accel_parse_uint(s->ssidsize, "ssidsize", 20, &ssid, errp) ||
        !smmuv3_accel_parse_uint(s->oas, "oas", 48, &oas, errp)) {
        return false;
    }
    if (oas >= 0 && oas != 44 && oas != 48) {
        error_setg(errp, "arm-smmuv3: oas=%d is not supported", oas);
        error_append_hint(errp, "Use oas=44, oas=48 or oas=auto.\n");
        return false;
    }
    if (s->accel) {
        if (s->stage && strcmp(s->stage, "1")) {
            error_setg(errp, "arm-smmuv3: accel=on offers stage 1 only");
            error_append_hint(errp, "Drop stage=%s: the host owns stage 2."
                              "\n", s->stage);
            return false;
        }
        return true;
    }
    if (s->iommufd) {
        error_setg(errp, "arm-smmuv3: iommufd= needs accel=on");
        error_append_hint(errp, "Add accel=on, or drop iommufd=.\n");
        return false;
    }
    if (s->ril == ON_OFF_AUTO_OFF || s->ats == ON_OFF_AUTO_ON ||
        ssid > 0 || oas > 44) {
        error_setg(errp, "arm-smmuv3: ril=off, ats=on, ssidsize>0 and "
                   "oas>44 need accel=on");
        error_append_hint(errp, "The emulated SMMUv3 has RIL, no ATS, no "
                          "substreams and a 44-bit OAS.\n");
        return false;
    }
    return true;
}

static void smmuv3_accel_exit(Notifier *n, void *data)
{
    SMMUv3AccelState *a = container_of(n, SMMUv3AccelState, exit_notifier);

    /* Leave the host as we found it: release everything the guest had. */
    smmuv3_accel_host_down(a);
}

static unsigned smmuv3_accel_oas_field(unsigned bits)
{
    return bits >= 48 ? 5 : bits >= 44 ? 4 : bits >= 42 ? 3 :
           bits >= 40 ? 2 : bits >= 36 ? 1 : 0;
}

static unsigned smmuv3_accel_oas_bits(unsigned field)
{
    static const unsigned bits[] = { 32, 36, 40, 42, 44, 48, 52 };

    return bits[MIN(field, ARRAY_SIZE(bits) - 1)];
}

/* Refuse a host SMMU (IOMMU_GET_HW_INFO) that cannot honour the properties. */
static bool smmuv3_accel_check_host(SMMUv3AccelState *a, uint32_t type,
                                    const struct iommu_hw_info_arm_smmuv3 *hw,
                                    Error **errp)
{
    SMMUv3State *s = a->smmu;
    unsigned host_oas, host_ssid;
    int ssid, oas;

    if (type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
        error_setg(errp, "arm-smmuv3: the host IOMMU is not an SMMUv3 "
                   "(hw_info type %u)", type);
        return false;
    }
    if (!FIELD_EX32(hw->idr[0], IDR0, S1P) ||
        !FIELD_EX32(hw->idr[0], IDR0, S2P)) {
        error_setg(errp, "arm-smmuv3: accel=on needs a host SMMU with "
                   "nesting (stage 1 and stage 2)");
        return false;
    }
    ssid = a->ssidsize;
    oas = a->oas;
    host_oas = smmuv3_accel_oas_bits(FIELD_EX32(hw->idr[5], IDR5, OAS));
    host_ssid = FIELD_EX32(hw->idr[1], IDR1, SSIDSIZE);
    if (oas > (int)host_oas) {
        error_setg(errp, "arm-smmuv3: oas=%d exceeds the host's %u bits",
                   oas, host_oas);
        error_append_hint(errp, "Use oas=auto to take the host's.\n");
        return false;
    }
    if (ssid > (int)host_ssid) {
        error_setg(errp, "arm-smmuv3: ssidsize=%d exceeds the host's %u",
                   ssid, host_ssid);
        error_append_hint(errp, "Use ssidsize=auto to take the host's.\n");
        return false;
    }
    if (s->ril == ON_OFF_AUTO_ON && !FIELD_EX32(hw->idr[3], IDR3, RIL)) {
        error_setg(errp, "arm-smmuv3: ril=on but the host has no range "
                   "invalidation");
        error_append_hint(errp, "Use ril=auto or ril=off.\n");
        return false;
    }
    if (s->ats == ON_OFF_AUTO_ON && !FIELD_EX32(hw->idr[0], IDR0, ATS)) {
        error_setg(errp, "arm-smmuv3: ats=on but the host SMMU has no ATS");
        error_append_hint(errp, "Use ats=auto or ats=off.\n");
        return false;
    }
    return true;
}

/*
 * The host SMMU behind @dev_id: the first one found decides the
 * guest-visible IDRs (at the next reset); a later device must be behind
 * an SMMU with the same IDRs, because it shares the vIOMMU.
 */
static bool smmuv3_accel_take_host(SMMUv3AccelState *a, uint32_t dev_id,
                                   const char *name, Error **errp)
{
    struct iommu_hw_info_arm_smmuv3 hw = { 0 };
    uint32_t type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;

    if (!iommufd_backend_get_hw_info(a->be, dev_id, &type, &hw, sizeof(hw),
                                     NULL, errp) ||
        !smmuv3_accel_check_host(a, type, &hw, errp)) {
        error_prepend(errp, "%s: ", name);
        return false;
    }
    if (!a->hw_valid) {
        a->hw = hw;
        a->hw_valid = true;
        return true;
    }
    if (memcmp(hw.idr, a->hw.idr, sizeof(hw.idr))) {
        error_setg(errp, "%s: its host SMMU differs from the one the other "
                   "devices behind this arm-smmuv3 use", name);
        error_append_hint(errp, "Put devices of different host SMMUs behind "
                          "different accelerated SMMUs (pxb-pcie).\n");
        return false;
    }
    return true;
}

/*
 * On a backend that places emulated endpoints behind its host IOMMU (the
 * simulated host), the host's IDRs and CMDQV are known at realize: ask
 * them through a device bound for the probe only. On /dev/iommu they come
 * from the first VFIO device, and the extension probes without a host.
 */
static bool smmuv3_accel_probe(SMMUv3AccelState *a, Error **errp)
{
    SMMUv3State *s = a->smmu;
    HostIOMMUDeviceIOMMUFD *idev;
    bool ok;

    if (!a->emulated_host) {
        /* The extension decides now what to offer, without a host. */
        return !smmuv3_accel_impl_probe ||
               smmuv3_accel_impl_probe(s, 0, &a->impl, &a->impl_opaque,
                                       errp);
    }
    idev = iommufd_backend_new_emulated_device(a->be, a->host_instance,
                                               "arm-smmuv3 probe", errp);
    if (!idev) {
        return false;
    }
    ok = smmuv3_accel_take_host(a, idev->devid, "arm-smmuv3", errp) &&
         (!smmuv3_accel_impl_probe ||
          smmuv3_accel_impl_probe(s, idev->devid, &a->impl, &a->impl_opaque,
                                  errp));
    object_unref(idev);
    return ok;
}

/* The guest-visible IDRs: QEMU's, narrowed and widened to the host's. */
static void smmuv3_accel_set_idrs(SMMUv3AccelState *a)
{
    SMMUv3State *s = a->smmu;
    const uint32_t *h = a->hw.idr;
    int ssid, oas;
    bool ril, ats;

    if (!a->hw_valid) {
        /* No host SMMU known yet (/dev/iommu, no device): QEMU's IDRs. */
        return;
    }
    ssid = a->ssidsize;
    oas = a->oas;
    if (ssid < 0) {
        ssid = FIELD_EX32(h[1], IDR1, SSIDSIZE);
    }
    if (oas < 0) {
        oas = smmuv3_accel_oas_bits(FIELD_EX32(h[5], IDR5, OAS));
    }
    ril = s->ril == ON_OFF_AUTO_AUTO ? FIELD_EX32(h[3], IDR3, RIL)
                                     : s->ril == ON_OFF_AUTO_ON;
    ats = s->ats == ON_OFF_AUTO_AUTO ? FIELD_EX32(h[0], IDR0, ATS)
                                     : s->ats == ON_OFF_AUTO_ON;

    /* Stage 1 only: the host owns stage 2. */
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, S1P, 1);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, S2P, 0);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, ATS, ats);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, TTF, FIELD_EX32(h[0], IDR0, TTF));
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, ASID16,
                           FIELD_EX32(h[0], IDR0, ASID16));
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, TERM_MODEL,
                           FIELD_EX32(h[0], IDR0, TERM_MODEL));
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, STALL_MODEL,
                           FIELD_EX32(h[0], IDR0, STALL_MODEL));
    s->idr[1] = FIELD_DP32(s->idr[1], IDR1, SSIDSIZE, ssid);
    s->idr[3] = FIELD_DP32(s->idr[3], IDR3, RIL, ril);
    s->idr[3] = FIELD_DP32(s->idr[3], IDR3, BBML,
                           FIELD_EX32(h[3], IDR3, BBML));
    s->idr[5] = FIELD_DP32(s->idr[5], IDR5, OAS,
                           smmuv3_accel_oas_field(oas));
    s->idr[5] = FIELD_DP32(s->idr[5], IDR5, GRAN4K,
                           FIELD_EX32(h[5], IDR5, GRAN4K));
    s->idr[5] = FIELD_DP32(s->idr[5], IDR5, GRAN16K,
                           FIELD_EX32(h[5], IDR5, GRAN16K));
    s->idr[5] = FIELD_DP32(s->idr[5], IDR5, GRAN64K,
                           FIELD_EX32(h[5], IDR5, GRAN64K));
}

/* Forget @ad: release what the host holds for it, in the kernel's order. */
static void smmuv3_accel_device_free(SMMUv3AccelState *a,
                                     SMMUv3AccelDevice *ad)
{
    trace_smmuv3_accel_unplug(ad->dev_id, ad->vsid);
    if (a->fault_dev == ad) {
        a->fault_dev = NULL;
    }
    smmuv3_accel_release(a, ad);
    smmuv3_accel_forget_device(a, ad->dev_id);
    if (ad->emulated) {
        /* Unbinding it, as closing a VFIO device does. */
        object_unref(ad->idev);
    }
    g_hash_table_remove(a->devices, ad->sdev);
}

/* A PCI device behind this SMMU went away (hot-unplug). */
static void smmuv3_accel_device_unrealize(DeviceListener *listener,
                                          DeviceState *dev)
{
    SMMUv3AccelState *a = container_of(listener, SMMUv3AccelState,
                                       device_listener);
    PCIDevice *pdev = (PCIDevice *)object_dynamic_cast(OBJECT(dev),
                                                       TYPE_PCI_DEVICE);
    SMMUv3State *s = a->smmu;
    GHashTableIter iter;
    SMMUDevice *sdev;
    SMMUv3AccelDevice *ad;

    if (!pdev) {
        return;
    }
    qemu_mutex_lock(&s->mutex);
    g_hash_table_iter_init(&iter, a->devices);
    while (g_hash_table_iter_next(&iter, (void **)&sdev, (void **)&ad)) {
        if (ad->emulated && sdev->bus == pci_get_bus(pdev) &&
            sdev->devfn == pdev->devfn) {
            smmuv3_accel_device_free(a, ad);
            break;
        }
    }
    qemu_mutex_unlock(&s->mutex);
}

static bool smmuv3_accel_bus_behind(SMMUState *bs, PCIBus *bus)
{
    while (bus) {
        if (bus == bs->primary_bus) {
            return true;
        }
        if (pci_bus_is_root(bus) || !bus->parent_dev) {
            return false;
        }
        bus = pci_get_bus(bus->parent_dev);
    }
    return false;
}

/*
 * An emulated endpoint behind this SMMU was plugged: on a backend that
 * can, bind it behind the host IOMMU now (its StreamID is the guest's,
 * its physical one the host's). Root ports count: their MSIs are DMA.
 * A host bridge does none.
 */
static void smmuv3_accel_bind_emulated(SMMUv3AccelState *a, PCIDevice *pdev)
{
    SMMUState *bs = ARM_SMMU(a->smmu);
    SMMUv3AccelDevice *ad;
    SMMUPciBus *sbus;
    SMMUDevice *sdev;
    HostIOMMUDeviceIOMMUFD *idev;
    g_autofree char *path = NULL;
    Error *err = NULL;

    if (smmuv3_accel_direct_dma(bs, pdev) ||
        pci_get_word(pdev->config + PCI_CLASS_DEVICE) ==
        PCI_CLASS_BRIDGE_HOST) {
        return;
    }
    sbus = g_hash_table_lookup(bs->smmu_pcibus_by_busptr, pci_get_bus(pdev));
    sdev = sbus ? sbus->pbdev[pdev->devfn] : NULL;
    if (!sdev || g_hash_table_lookup(a->devices, sdev)) {
        /*
         * No bus master yet (a cold-plugged device: the reset binds it),
         * or known already (a listener replay).
         */
        return;
    }
    path = DEVICE(pdev)->id ? g_strdup(DEVICE(pdev)->id)
                            : object_get_canonical_path(OBJECT(pdev));
    if (!a->emulated_host) {
        /* QEMU walks its stage 1 (smmuv3_accel_translate_walk()). */
        return;
    }
    idev = iommufd_backend_new_emulated_device(a->be, a->host_instance, path,
                                               &err);
    if (!idev) {
        /* Its DMA aborts; say why once, with the fix. */
        error_report_err(err);
        return;
    }
    ad = g_new0(SMMUv3AccelDevice, 1);
    ad->sdev = sdev;
    ad->idev = idev;
    ad->emulated = true;
    ad->dev_id = idev->devid;
    trace_smmuv3_accel_bind_emulated(smmu_get_sid(sdev), ad->dev_id);
    smmuv3_accel_device_added(a, ad);
}

/*
 * A virtio device without VIRTIO_F_ACCESS_PLATFORM puts guest-physical
 * addresses on the bus and QEMU honours them: its DMA never reaches the
 * SMMU. Nothing fails, so the user would never know: say so, with the fix.
 */
static void smmuv3_accel_device_realize(DeviceListener *listener,
                                        DeviceState *dev)
{
    SMMUv3AccelState *a = container_of(listener, SMMUv3AccelState,
                                       device_listener);
    PCIDevice *pdev = (PCIDevice *)object_dynamic_cast(OBJECT(dev),
                                                       TYPE_PCI_DEVICE);
    g_autofree char *path = NULL;

    if (pdev && smmuv3_accel_bus_behind(ARM_SMMU(a->smmu),
                                        pci_get_bus(pdev))) {
        qemu_mutex_lock(&a->smmu->mutex);
        smmuv3_accel_bind_emulated(a, pdev);
        qemu_mutex_unlock(&a->smmu->mutex);
    }
    if (!pdev || !object_property_find(OBJECT(dev), "iommu_platform") ||
        object_property_get_bool(OBJECT(dev), "iommu_platform", NULL) ||
        !smmuv3_accel_bus_behind(ARM_SMMU(a->smmu), pci_get_bus(pdev))) {
        return;
    }
    path = dev->id ? g_strdup(dev->id) : object_get_canonical_path(OBJECT(dev));
    warn_report("%s '%s' is behind arm-smmuv3,accel=on but its DMA bypasses "
                "the IOMMU (iommu_platform=off)",
                object_get_typename(OBJECT(dev)), path);
    error_printf("Add iommu_platform=on (and disable-legacy=on) to the "
                 "device to translate its DMA through the SMMU.\n");
}

/* ---- passed-through devices (vfio-pci iommufd=) ---- */

bool smmuv3_accel_direct_dma(SMMUState *bs, PCIDevice *pdev)
{
    /* A VFIO device's DMA goes to the host IOMMU, never through QEMU. */
    return ARM_SMMUV3(bs)->accel &&
           object_dynamic_cast(OBJECT(pdev), TYPE_VFIO_PCI);
}

bool smmuv3_accel_msi_direct_gpa(SMMUState *bs, PCIDevice *pdev, hwaddr *gpa)
{
    SMMUv3State *s = ARM_SMMUV3(bs);

    /*
     * The guest programs the device with an IOVA of its stage 1 that maps
     * its doorbell; the device itself writes the host's MSI window (see
     * SMMUV3_ACCEL_HOST_MSI_BASE). Either way the interrupt is the
     * machine's doorbell: KVM's route and QEMU's delivery go there.
     */
    if (!s->msi_gpa || !smmuv3_accel_direct_dma(bs, pdev)) {
        return false;
    }
    *gpa = s->msi_gpa;
    return true;
}

bool smmuv3_accel_set_iommu_device(SMMUState *bs, SMMUDevice *sdev,
                                   HostIOMMUDevice *hiod, Error **errp)
{
    SMMUv3State *s = ARM_SMMUV3(bs);
    SMMUv3AccelState *a = s->s_accel;
    HostIOMMUDeviceIOMMUFD *idev;
    SMMUv3AccelDevice *ad;
    bool ok;

    if (!s->accel) {
        return true;
    }
    idev = (HostIOMMUDeviceIOMMUFD *)
           object_dynamic_cast(OBJECT(hiod), TYPE_HOST_IOMMU_DEVICE_IOMMUFD);
    if (!idev) {
        error_setg(errp, "arm-smmuv3,accel=on: %s has no iommufd backend",
                   hiod->name);
        error_append_hint(errp, "Add iommufd=<id> to the vfio-pci device, "
                          "with -object iommufd,id=<id>.\n");
        return false;
    }
    if (!a->be) {
        /* Upstream's command line: the SMMU takes its devices' iommufd. */
        a->be = idev->iommufd;
    } else if (a->be != idev->iommufd) {
        error_setg(errp, "arm-smmuv3,accel=on: %s uses another iommufd "
                   "object than the SMMU", hiod->name);
        error_append_hint(errp, "Give the SMMU and every VFIO device behind "
                          "it the same iommufd=<id>.\n");
        return false;
    }
    if (a->emulated_host) {
        error_setg(errp, "arm-smmuv3,accel=on: %s is a VFIO device, but "
                   "the SMMU's host is simulated", hiod->name);
        error_append_hint(errp, "Use -object iommufd for VFIO devices.\n");
        return false;
    }
    qemu_mutex_lock(&s->mutex);
    /* The extension first: a refused device must not decide the IDRs. */
    ok = (!a->impl || !a->impl->check_host ||
          a->impl->check_host(a->impl_opaque, idev->devid, hiod->name,
                              errp)) &&
         smmuv3_accel_take_host(a, idev->devid, hiod->name, errp);
    if (ok) {
        ad = g_new0(SMMUv3AccelDevice, 1);
        ad->sdev = sdev;
        ad->idev = idev;
        ad->dev_id = idev->devid;
        ad->home_hwpt_id = idev->hwpt_id;
        trace_smmuv3_accel_set_iommu_device(smmu_get_sid(sdev), ad->dev_id,
                                            ad->home_hwpt_id);
        smmuv3_accel_device_added(a, ad);
    }
    qemu_mutex_unlock(&s->mutex);
    return ok;
}

void smmuv3_accel_unset_iommu_device(SMMUState *bs, SMMUDevice *sdev)
{
    SMMUv3State *s = ARM_SMMUV3(bs);
    SMMUv3AccelState *a = s->s_accel;
    SMMUv3AccelDevice *ad;

    if (!s->accel || !a) {
        return;
    }
    qemu_mutex_lock(&s->mutex);
    ad = g_hash_table_lookup(a->devices, sdev);
    if (ad) {
        /* Before VFIO detaches it from its own HWPT and unbinds it. */
        smmuv3_accel_device_free(a, ad);
    }
    qemu_mutex_unlock(&s->mutex);
}

/* Emulated endpoints cold-plugged before their bus masters existed. */
static void smmuv3_accel_bind_all(SMMUv3AccelState *a)
{
    SMMUState *bs = ARM_SMMU(a->smmu);
    GHashTableIter iter;
    SMMUPciBus *sbus;
    int devfn;

    g_hash_table_iter_init(&iter, bs->smmu_pcibus_by_busptr);
    while (g_hash_table_iter_next(&iter, NULL, (void **)&sbus)) {
        for (devfn = 0; devfn < SMMU_PCI_DEVFN_MAX; devfn++) {
            PCIDevice *pdev = sbus->bus->devices[devfn];

            if (sbus->pbdev[devfn] && pdev &&
                !g_hash_table_lookup(a->devices, sbus->pbdev[devfn])) {
                smmuv3_accel_bind_emulated(a, pdev);
            }
        }
    }
}

/*
 * What became of the host's events, read-only on the SMMU object: the
 * records written into the guest EVTQ and each way one was dropped. With
 * the host's own counts (iommufd-sim's stats: delivered, lost) they
 * account for every event exactly: delivered = written + dropped-*.
 */
static void smmuv3_accel_add_event_counters(SMMUv3AccelState *a)
{
    static const struct {
        const char *name;
        size_t off;
    } counters[] = {
        { "x-events-written", offsetof(SMMUv3AccelState, evt_written) },
        { "x-events-dropped-full",
          offsetof(SMMUv3AccelState, evt_dropped_full) },
        { "x-events-dropped-disabled",
          offsetof(SMMUv3AccelState, evt_dropped_off) },
        { "x-events-dropped-abort",
          offsetof(SMMUv3AccelState, evt_dropped_abort) },
        { "x-events-host-overflows",
          offsetof(SMMUv3AccelState, evt_host_lost) },
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(counters); i++) {
        object_property_add_uint64_ptr(OBJECT(a->smmu), counters[i].name,
                                       (uint64_t *)((char *)a +
                                                    counters[i].off),
                                       OBJ_PROP_FLAG_READ);
    }
}

bool smmuv3_accel_realize(SMMUv3State *s, Error **errp)
{
    SMMUState *bs = ARM_SMMU(s);
    SMMUv3AccelState *a;

    a = g_new0(SMMUv3AccelState, 1);
    a->smmu = s;
    a->be = s->iommufd;
    /* Checked by smmuv3_accel_check_properties() already. */
    smmuv3_accel_parse_uint(s->ssidsize, "ssidsize", 20, &a->ssidsize,
                            &error_abort);
    smmuv3_accel_parse_uint(s->oas, "oas", 48, &a->oas, &error_abort);
    a->emulated_host = a->be && iommufd_backend_has_emulated_devices(a->be);
    if (a->emulated_host &&
        !iommufd_backend_claim_instance(a->be, &a->host_instance, errp)) {
        g_free(a);
        return false;
    }
    a->veventq_fd = -1;
    a->devices = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    a->doomed = g_array_new(false, false, sizeof(SMMUv3AccelDoomed));
    s->s_accel = a;

    if (!smmuv3_accel_probe(a, errp)) {
        goto fail;
    }
    error_setg(&a->migration_blocker, "arm-smmuv3,accel=on: the host's "
               "nested translation state cannot be migrated");
    if (migrate_add_blocker(&a->migration_blocker, errp) < 0) {
        goto fail;
    }
    bs->mrtypename = TYPE_SMMUV3_ACCEL_IOMMU_MEMORY_REGION;
    a->fault_bh = qemu_bh_new(smmuv3_accel_fault_bh, a);
    a->exit_notifier.notify = smmuv3_accel_exit;
    qemu_add_exit_notifier(&a->exit_notifier);
    a->device_listener.realize = smmuv3_accel_device_realize;
    a->device_listener.unrealize = smmuv3_accel_device_unrealize;
    device_listener_register(&a->device_listener);
    smmuv3_accel_add_event_counters(a);
    return true;

fail:
    g_hash_table_destroy(a->devices);
    g_array_free(a->doomed, true);
    g_free(a);
    s->s_accel = NULL;
    return false;
}

void smmuv3_accel_reset(SMMUv3State *s)
{
    SMMUv3AccelState *a = s->s_accel;

    qemu_mutex_lock(&s->mutex);
    smmuv3_accel_host_down(a);
    smmuv3_accel_bind_all(a);
    smmuv3_accel_set_idrs(a);
    if (a->impl) {
        a->impl->reset(a->impl_opaque);
    }
    qemu_mutex_unlock(&s->mutex);
}

/* ---- services for implementation extensions (CMDQV) ---- */

void smmuv3_accel_register_impl(SMMUv3AccelImplProbe probe)
{
    smmuv3_accel_impl_probe = probe;
}

void smmuv3_accel_host_destroy(SMMUv3State *s, uint32_t id)
{
    smmuv3_accel_destroy_id(s->s_accel, id, 0);
}

void smmuv3_accel_host_reap(SMMUv3State *s)
{
    smmuv3_accel_reap(s->s_accel);
}

bool smmuv3_accel_host_ensure(SMMUv3State *s, Error **errp)
{
    SMMUv3AccelState *a = s->s_accel;
    SMMUv3AccelDevice *ad;
    HostIOMMUDeviceIOMMUFD *idev;

    qemu_mutex_lock(&s->mutex);
    ad = smmuv3_accel_any_device(a);
    if (ad) {
        /* A device the guest will use: the allocations name it. */
        smmuv3_accel_host_up(a, ad->dev_id, errp);
    } else if (!a->host_up && a->emulated_host) {
        /* No device yet: a binding for the allocation calls is enough. */
        idev = iommufd_backend_new_emulated_device(a->be, a->host_instance,
                                                   "arm-smmuv3", errp);
        if (idev) {
            smmuv3_accel_host_up(a, idev->devid, errp);
            object_unref(idev);
        }
    } else if (!a->host_up) {
        error_setg(errp, "no device behind the SMMU to allocate host objects "
                   "with");
    }
    qemu_mutex_unlock(&s->mutex);
    return a->host_up;
}

const uint32_t *smmuv3_accel_host_idr(SMMUv3State *s)
{
    return s->s_accel->hw.idr;
}

IOMMUFDBackend *smmuv3_accel_backend(SMMUv3State *s)
{
    return s->s_accel->be;
}

static void smmuv3_accel_iommu_class_init(ObjectClass *klass,
                                          const void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = smmuv3_accel_translate;
}

static const TypeInfo smmuv3_accel_types[] = {
    {
        .name = TYPE_SMMUV3_ACCEL_IOMMU_MEMORY_REGION,
        .parent = TYPE_IOMMU_MEMORY_REGION,
        .class_init = smmuv3_accel_iommu_class_init,
    },
};

DEFINE_TYPES(smmuv3_accel_types)
