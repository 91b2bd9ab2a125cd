/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim object lifecycles and the data flows end to end: teardown
 * orders (the working one leaves nothing; each wrong one is EBUSY),
 * vDEVICE tombstones, a nested translation fault reaching the vEVENTQ
 * with the vSID, an S2 fault staying host-side, the CMDQV executing
 * guest VCMDQs from the mmapped VINTF page0, and the JSON stats.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "sim-test-util.h"

#define PSID        0x100
#define VSID        0x42
#define ASID        7

/* Guest memory layout, as IPA offsets from T_GPA_BASE */
#define G_CD        0x0000
#define G_L0        0x1000
#define G_L1        0x2000
#define G_L2        0x3000
#define G_L3        0x4000
#define G_DATA      0x8000
#define G_QUEUE0    0x10000
#define G_QUEUE1    0x11000

typedef struct Host {
    IommufdSim *s;
    uint8_t *buf;
    uint32_t dev, ioas, s2, viommu, vdev, nested, veventq, teventq;
    uint32_t q0, q1;
    int fd, tfd;
    void *page0;
    uint64_t mmap_offset;
} Host;

static Host h;

static uint64_t *g64(uint64_t off)
{
    return (uint64_t *)(h.buf + off);
}

/* A linear CD for ASID with a 4K-granule, 48-bit TTB0 at G_L0. */
static void build_guest_tables(void)
{
    uint64_t *cd = g64(G_CD);

    memset(h.buf, 0, 0x10000);
    cd[0] = 16 |                    /* T0SZ: 48-bit VA */
            (0ull << 6) |           /* TG0: 4K */
            (1ull << 30) |          /* EPD1 */
            (1ull << 31) |          /* V */
            (5ull << 32) |          /* IPS: 48 bits */
            (1ull << 41) |          /* AA64 */
            (1ull << 45) |          /* R: record faults */
            ((uint64_t)ASID << 48);
    cd[1] = T_GPA_BASE + G_L0;
    g64(G_L0)[0] = (T_GPA_BASE + G_L1) | 3;
    g64(G_L1)[0] = (T_GPA_BASE + G_L2) | 3;
    g64(G_L2)[0] = (T_GPA_BASE + G_L3) | 3;
    /* VA 0x1000 -> IPA G_DATA: page, AF, nG, AP = RW at any EL */
    g64(G_L3)[1] = (T_GPA_BASE + G_DATA) | 3 | (1ull << 10) | (1ull << 11) |
                   (1ull << 6);
    /* VA 0x2000 -> an IPA outside the IOAS: a stage-2 fault */
    g64(G_L3)[2] = 0x7000000000ull | 3 | (1ull << 10) | (1ull << 6);
}

static void setup(void)
{
    uint64_t iova = T_GPA_BASE;

    memset(&h, 0, sizeof(h));
    h.fd = h.tfd = -1;
    h.s = iommufd_sim_new(NULL);
    h.buf = t_buf_alloc(T_BUF_SIZE);
    build_guest_tables();
    ck_assert_int_eq(iommufd_sim_bind(h.s, 0, PSID, &h.dev), 0);
    ck_assert_int_eq(t_ioas_alloc(h.s, &h.ioas), 0);
    ck_assert_int_eq(t_map(h.s, h.ioas, h.buf, T_BUF_SIZE, &iova,
                           T_MAP_FIXED), 0);
    ck_assert_int_eq(t_hwpt_alloc(h.s, h.dev, h.ioas,
                                  IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0,
                                  &h.s2), 0);
}

static void teardown(void)
{
    iommufd_sim_free(h.s);
    munmap(h.buf, T_BUF_SIZE);
}

/* The whole stack of a TEGRA241 guest, as a VMM builds it. */
static void build_stack(void)
{
    struct iommu_viommu_tegra241_cmdqv data;
    uint32_t pt;

    ck_assert_int_eq(t_viommu_alloc(h.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    h.dev, h.s2, &data, sizeof(data),
                                    &h.viommu), 0);
    h.mmap_offset = data.out_vintf_mmap_offset;
    ck_assert_int_eq(iommufd_sim_mmap(h.s, 0x10000, PROT_READ | PROT_WRITE,
                                      MAP_SHARED, h.mmap_offset, &h.page0),
                     0);
    ck_assert_int_eq(t_vdev_alloc(h.s, h.viommu, h.dev, VSID, &h.vdev), 0);
    ck_assert_int_eq(t_veventq_alloc(h.s, h.viommu,
                                     IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 16,
                                     &h.veventq, &h.fd), 0);
    ck_assert_int_eq(t_veventq_alloc(h.s, h.viommu,
                                     IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, 16,
                                     &h.teventq, &h.tfd), 0);
    ck_assert_int_eq(t_hw_queue_alloc(h.s, h.viommu, 0, T_GPA_BASE + G_QUEUE0,
                                      256, &h.q0), 0);
    ck_assert_int_eq(t_hw_queue_alloc(h.s, h.viommu, 1, T_GPA_BASE + G_QUEUE1,
                                      256, &h.q1), 0);
    ck_assert_int_eq(t_nested_alloc(h.s, h.dev, h.viommu,
                                    STE0_V | STE0_CFG(STE_CFG_S1) |
                                    (T_GPA_BASE + G_CD), 0, &h.nested), 0);
    pt = h.nested;
    ck_assert_int_eq(iommufd_sim_attach(h.s, h.dev, &pt), 0);
}

START_TEST(test_teardown_working_order)
{
    uint64_t len = UINT64_MAX;

    build_stack();
    ck_assert_uint_eq(iommufd_sim_live_objects(h.s), 12);
    ck_assert_int_eq(iommufd_sim_detach(h.s, h.dev), 0);
    ck_assert_int_eq(t_destroy(h.s, h.vdev), 0);
    ck_assert_int_eq(iommufd_sim_close(h.s, h.fd), 0);
    ck_assert_int_eq(iommufd_sim_close(h.s, h.tfd), 0);
    ck_assert_int_eq(t_destroy(h.s, h.veventq), 0);
    ck_assert_int_eq(t_destroy(h.s, h.teventq), 0);
    ck_assert_int_eq(t_destroy(h.s, h.q1), 0);
    ck_assert_int_eq(t_destroy(h.s, h.q0), 0);
    ck_assert_int_eq(t_destroy(h.s, h.nested), 0);
    ck_assert_int_eq(iommufd_sim_munmap(h.s, h.page0, 0x10000), 0);
    ck_assert_int_eq(t_destroy(h.s, h.viommu), 0);
    ck_assert_int_eq(t_destroy(h.s, h.s2), 0);
    ck_assert_int_eq(t_unmap(h.s, h.ioas, 0, &len), 0);
    ck_assert_int_eq(t_destroy(h.s, h.ioas), 0);
    ck_assert_uint_eq(iommufd_sim_live_objects(h.s), 0);
    ck_assert_int_eq(iommufd_sim_unbind(h.s, h.dev), 0);
    ck_assert_uint_eq(iommufd_sim_live_objects(h.s), 0);
}
END_TEST

START_TEST(test_teardown_wrong_orders)
{
    build_stack();
    /* IOAS <- paging HWPT */
    ck_assert_int_eq(t_destroy(h.s, h.ioas), -EBUSY);
    /* parent HWPT <- vIOMMU */
    ck_assert_int_eq(t_destroy(h.s, h.s2), -EBUSY);
    /* vIOMMU <- nested HWPT, vDEVICE, vEVENTQs, HW_QUEUEs, mmap */
    ck_assert_int_eq(t_destroy(h.s, h.viommu), -EBUSY);
    /* HWPT <- attached device */
    ck_assert_int_eq(t_destroy(h.s, h.nested), -EBUSY);
    /* vEVENTQ <- its open fd */
    ck_assert_int_eq(t_destroy(h.s, h.veventq), -EBUSY);
    /* HW_QUEUE i-1 <- i */
    ck_assert_int_eq(t_destroy(h.s, h.q0), -EBUSY);

    ck_assert_int_eq(iommufd_sim_detach(h.s, h.dev), 0);
    ck_assert_int_eq(t_destroy(h.s, h.nested), 0);
    ck_assert_int_eq(t_destroy(h.s, h.viommu), -EBUSY);     /* vDEVICE */
    ck_assert_int_eq(t_destroy(h.s, h.vdev), 0);
    ck_assert_int_eq(t_destroy(h.s, h.viommu), -EBUSY);     /* vEVENTQs */
    ck_assert_int_eq(iommufd_sim_close(h.s, h.fd), 0);
    ck_assert_int_eq(iommufd_sim_close(h.s, h.tfd), 0);
    ck_assert_int_eq(t_destroy(h.s, h.veventq), 0);
    ck_assert_int_eq(t_destroy(h.s, h.teventq), 0);
    ck_assert_int_eq(t_destroy(h.s, h.viommu), -EBUSY);     /* HW queues */
    ck_assert_int_eq(t_destroy(h.s, h.q1), 0);
    ck_assert_int_eq(t_destroy(h.s, h.q0), 0);
    ck_assert_int_eq(t_destroy(h.s, h.viommu), -EBUSY);     /* the mmap */
    ck_assert_int_eq(iommufd_sim_munmap(h.s, h.page0, 0x10000), 0);
    ck_assert_int_eq(t_destroy(h.s, h.viommu), 0);
    ck_assert_int_eq(t_destroy(h.s, h.viommu), -ENOENT);
    ck_assert_int_eq(t_destroy(h.s, h.s2), 0);
    ck_assert_int_eq(t_destroy(h.s, h.ioas), 0);
    ck_assert_uint_eq(iommufd_sim_live_objects(h.s), 0);
}
END_TEST

START_TEST(test_free_with_everything_live)
{
    /*
     * iommufd_sim_free() with the whole stack live and the engine running
     * must stop the engine and release all of it: the vEVENTQ fds it
     * handed out are closed (ASan reports any leaked memory).
     */
    build_stack();
    iommufd_sim_start_engine(h.s);
    ck_assert_uint_eq(iommufd_sim_live_objects(h.s), 12);
    ck_assert_int_ne(fcntl(h.fd, F_GETFD), -1);
    ck_assert_int_ne(fcntl(h.tfd, F_GETFD), -1);
    iommufd_sim_free(h.s);
    h.s = NULL;
    ck_assert_int_eq(fcntl(h.fd, F_GETFD), -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(fcntl(h.tfd, F_GETFD), -1);
    ck_assert_int_eq(errno, EBADF);
}
END_TEST

START_TEST(test_vdevice_tombstone)
{
    uint32_t dev2, vdev2, id, pt;
    IommufdSimDeviceInfo info;

    build_stack();
    ck_assert_int_eq(iommufd_sim_bind(h.s, 0, PSID + 1, &dev2), 0);
    ck_assert_int_eq(t_vdev_alloc(h.s, h.viommu, dev2, VSID + 1, &vdev2), 0);
    pt = h.nested;
    ck_assert_int_eq(iommufd_sim_attach(h.s, dev2, &pt), 0);
    ck_assert_int_eq(iommufd_sim_unbind(h.s, dev2), 0);
    ck_assert_int_eq(iommufd_sim_query_device(h.s, dev2, &info), -ENOENT);
    /* DESTROY of the tombstone: ENOENT; the id is not reused */
    ck_assert_int_eq(t_destroy(h.s, vdev2), -ENOENT);
    ck_assert_int_eq(t_ioas_alloc(h.s, &id), 0);
    ck_assert_uint_ne(id, vdev2);
    ck_assert_uint_eq(id, dev2);        /* the device's own id is free */
    /* the vSID is free again on the vIOMMU, and its hold is gone */
    ck_assert_int_eq(iommufd_sim_bind(h.s, 0, PSID + 2, &dev2), 0);
    ck_assert_int_eq(t_vdev_alloc(h.s, h.viommu, dev2, VSID + 1, &vdev2), 0);
    ck_assert_int_eq(t_destroy(h.s, vdev2), 0);
    /* the nested HWPT lost the device's hold */
    ck_assert_int_eq(iommufd_sim_detach(h.s, h.dev), 0);
    ck_assert_int_eq(t_destroy(h.s, h.nested), 0);
}
END_TEST

static ssize_t read_all(int fd, void *buf, size_t len)
{
    return iommufd_sim_read(h.s, fd, buf, len, NULL);
}

static bool fd_readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

START_TEST(test_nested_translation_fault_event)
{
    struct {
        struct iommufd_vevent_header hdr;
        uint64_t evt[4];
    } rec;
    IommufdSimTranslation t;
    IommufdSimStats st;

    build_stack();
    /* a good translation: S1 from the guest's tables, S2 from the IOAS */
    ck_assert_int_eq(iommufd_sim_translate(h.s, h.dev, false, 0, 0x1234,
                                           IOMMUFD_SIM_READ, &t), 0);
    ck_assert_uint_eq(t.ipa, T_GPA_BASE + G_DATA + 0x234);
    ck_assert_ptr_eq(t.hva, h.buf + G_DATA + 0x234);
    ck_assert(!t.iotlb_hit);
    ck_assert_int_eq(iommufd_sim_translate(h.s, h.dev, false, 0, 0x1238,
                                           IOMMUFD_SIM_WRITE, &t), 0);
    ck_assert(t.iotlb_hit);
    ck_assert(!fd_readable(h.fd));
    /* an unmapped VA: F_TRANSLATION, forwarded with the vSID */
    ck_assert_int_eq(iommufd_sim_translate(h.s, h.dev, false, 0, 0x5000,
                                           IOMMUFD_SIM_READ, &t), -EFAULT);
    ck_assert(t.fault);
    ck_assert(t.forwarded);
    ck_assert_uint_eq(t.event[0] & 0xff, 0x10);
    ck_assert_uint_eq(t.event[0] >> 32, PSID);
    ck_assert(fd_readable(h.fd));
    ck_assert_int_eq(read_all(h.fd, &rec, sizeof(rec)), sizeof(rec));
    ck_assert_uint_eq(rec.hdr.flags, 0);
    ck_assert_uint_eq(rec.hdr.sequence, 0);
    ck_assert_uint_eq(rec.evt[0] & 0xff, 0x10);
    ck_assert_uint_eq(rec.evt[0] >> 32, VSID);
    ck_assert_uint_eq(rec.evt[0] & 0xffffffffull, t.event[0] & 0xffffffffull);
    ck_assert_uint_eq(rec.evt[2], 0x5000);
    ck_assert(!fd_readable(h.fd));
    iommufd_sim_get_stats(h.s, &st);
    ck_assert_uint_eq(st.translations, 3);
    ck_assert_uint_eq(st.iotlb_hits, 1);
    ck_assert_uint_eq(st.faults, 1);
    ck_assert_uint_eq(st.events_delivered, 1);
    /* a guest TLBI through the vIOMMU drops the cached entry */
    {
        uint64_t cmd[1][2] = { { 0x11 | ((uint64_t)ASID << 48), 0 } };
        uint32_t num = 1;

        ck_assert_int_eq(t_invalidate(h.s, h.viommu, cmd, 16, &num), 0);
    }
    ck_assert_int_eq(iommufd_sim_translate(h.s, h.dev, false, 0, 0x1234,
                                           IOMMUFD_SIM_READ, &t), 0);
    ck_assert(!t.iotlb_hit);
}
END_TEST

START_TEST(test_s2_fault_host_only)
{
    IommufdSimTranslation t;
    IommufdSimStats st;
    uint8_t buf[64];

    build_stack();
    /* S1 maps VA 0x2000 to an IPA the IOAS does not map */
    ck_assert_int_eq(iommufd_sim_translate(h.s, h.dev, false, 0, 0x2000,
                                           IOMMUFD_SIM_READ, &t), -EFAULT);
    ck_assert(t.fault);
    ck_assert(t.event[1] & (1ull << 39));       /* S2 */
    ck_assert(!t.forwarded);
    ck_assert(!fd_readable(h.fd));
    ck_assert_int_eq(read_all(h.fd, buf, sizeof(buf)), 0);
    iommufd_sim_get_stats(h.s, &st);
    ck_assert_uint_eq(st.events_host_only, 1);
    ck_assert_uint_eq(st.events_delivered, 0);
}
END_TEST

START_TEST(test_fault_without_vdevice_host_only)
{
    IommufdSimTranslation t;
    uint32_t pt, nested;

    /* bypass vSTE, no vDEVICE: no vmaster, a fault stays host-side */
    ck_assert_int_eq(t_viommu_alloc(h.s, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, h.dev,
                                    h.s2, NULL, 0, &h.viommu), 0);
    ck_assert_int_eq(t_veventq_alloc(h.s, h.viommu, 1, 4, &h.veventq, &h.fd),
                     0);
    ck_assert_int_eq(t_nested_alloc(h.s, h.dev, h.viommu,
                                    STE0_V | STE0_CFG(STE_CFG_BYPASS), 0,
                                    &nested), 0);
    pt = nested;
    ck_assert_int_eq(iommufd_sim_attach(h.s, h.dev, &pt), 0);
    ck_assert_int_eq(iommufd_sim_translate(h.s, h.dev, false, 0,
                                           T_GPA_BASE + 0x10,
                                           IOMMUFD_SIM_READ, &t), 0);
    ck_assert_ptr_eq(t.hva, h.buf + 0x10);
    ck_assert_int_eq(iommufd_sim_translate(h.s, h.dev, false, 0, 0x1000,
                                           IOMMUFD_SIM_READ, &t), -EFAULT);
    ck_assert(!t.forwarded);
    ck_assert(!fd_readable(h.fd));
}
END_TEST

/* ---- CMDQV end to end ---- */

/* volatile: the page is shared with the engine, as MMIO would be */
#define VCMDQ(q, reg)   ((volatile uint32_t *)((uint8_t *)h.page0 + \
                                               0x80 * (q) + (reg)))
#define V_CONS          0x0
#define V_PROD          0x4
#define V_CONFIG        0x8
#define V_STATUS        0xc

typedef struct Trace {
    unsigned n;
    uint64_t cmd[64][2];
    bool vcmdq[64];
} Trace;

static void trace_cb(void *opaque, unsigned smmu, bool vcmdq,
                     const uint64_t cmd[2])
{
    Trace *t = opaque;

    if (t->n < 64) {
        t->cmd[t->n][0] = cmd[0];
        t->cmd[t->n][1] = cmd[1];
        t->vcmdq[t->n] = vcmdq;
    }
    t->n++;
}

static unsigned run_engine(void)
{
    unsigned n, total = 0;

    while ((n = iommufd_sim_engine_step(h.s))) {
        total += n;
    }
    return total;
}

START_TEST(test_cmdqv_end_to_end)
{
    struct {
        struct iommufd_vevent_header hdr;
        uint64_t map[2];
    } rec;
    uint64_t *q0 = g64(G_QUEUE0);
    IommufdSimStats st;
    Trace trace = { 0 };
    uint16_t vmid;
    IommufdSimDeviceInfo info;

    build_stack();
    ck_assert_int_eq(iommufd_sim_query_device(h.s, h.dev, &info), 0);
    vmid = info.ste[2] & 0xffff;
    iommufd_sim_set_cmd_trace(h.s, trace_cb, &trace);
    /* the guest fills queue 0 and enables it through page0 */
    q0[0] = 0x40 | ((uint64_t)VSID << 32);      /* ATC_INV vSID */
    q0[1] = 0x3000;
    q0[2] = 0x11 | ((uint64_t)ASID << 48);      /* TLBI_NH_ASID */
    q0[3] = 0;
    q0[4] = 0x46;                               /* CMD_SYNC */
    q0[5] = 0;
    *VCMDQ(0, V_CONFIG) = 1;
    *VCMDQ(0, V_PROD) = 3;
    ck_assert_uint_eq(run_engine(), 3);
    ck_assert_uint_eq(*VCMDQ(0, V_CONS) & 0x1f, 3);
    ck_assert_uint_eq(*VCMDQ(0, V_STATUS) & 1, 1);
    ck_assert_uint_eq(trace.n, 2);
    ck_assert(trace.vcmdq[0]);
    ck_assert_uint_eq(trace.cmd[0][0], 0x40 | ((uint64_t)PSID << 32));
    ck_assert_uint_eq(trace.cmd[0][1], 0x3000);
    ck_assert_uint_eq(trace.cmd[1][0] & 0xff, 0x11);
    ck_assert_uint_eq((trace.cmd[1][0] >> 32) & 0xffff, vmid);
    iommufd_sim_get_stats(h.s, &st);
    ck_assert_uint_eq(st.vcmdq_commands, 3);
    ck_assert_uint_eq(st.ioctls[IOMMUFD_CMD_HWPT_INVALIDATE - 0x80], 0);

    /* an illegal command (CFGI_STE) stops the queue: a TEGRA241 vEVENT */
    q0[6] = 0x03 | ((uint64_t)VSID << 32);
    q0[7] = 0;
    *VCMDQ(0, V_PROD) = 4;
    ck_assert(!fd_readable(h.tfd));
    run_engine();
    ck_assert_uint_eq((*VCMDQ(0, V_CONS) >> 24) & 0x7f, 1);    /* ILL */
    ck_assert(fd_readable(h.tfd));
    ck_assert_int_eq(read_all(h.tfd, &rec, sizeof(rec)), sizeof(rec));
    ck_assert_uint_eq(rec.hdr.sequence, 0);
    ck_assert_uint_eq(rec.map[0], 1);           /* LVCMDQ 0 */
    ck_assert_uint_eq(rec.map[1], 0);
    ck_assert(!fd_readable(h.fd));              /* not the ARM queue */
    iommufd_sim_get_stats(h.s, &st);
    ck_assert_uint_eq(st.events_delivered, 1);
}
END_TEST

/* The VMM tells the host of a page0 write: the queue runs in that call. */
START_TEST(test_cmdqv_mmap_written)
{
    uint64_t *q0 = g64(G_QUEUE0);
    IommufdSimStats st;
    int dummy;

    build_stack();
    q0[0] = 0x11 | ((uint64_t)ASID << 48);      /* TLBI_NH_ASID */
    q0[1] = 0;
    q0[2] = 0x46;                               /* CMD_SYNC */
    q0[3] = 0;
    *VCMDQ(0, V_CONFIG) = 1;
    *VCMDQ(0, V_PROD) = 2;
    /* Not a mapping of this host: nothing runs. */
    ck_assert_uint_eq(iommufd_sim_mmap_written(h.s, &dummy), 0);
    ck_assert_uint_eq(iommufd_sim_mmap_written(h.s, NULL), 0);
    ck_assert_uint_eq(*VCMDQ(0, V_CONS) & 0x1f, 0);
    /* The page0 mapping: both commands run now, no engine step. */
    ck_assert_uint_eq(iommufd_sim_mmap_written(h.s, h.page0), 2);
    ck_assert_uint_eq(*VCMDQ(0, V_CONS) & 0x1f, 2);
    iommufd_sim_get_stats(h.s, &st);
    ck_assert_uint_eq(st.vcmdq_commands, 2);
    ck_assert_uint_eq(st.vcmdq_kicks, 1);
    ck_assert_uint_eq(run_engine(), 0);
    /* After the munmap the address is no mapping any more. */
    q0[4] = 0x46;
    q0[5] = 0;
    *VCMDQ(0, V_PROD) = 3;
    ck_assert_int_eq(iommufd_sim_munmap(h.s, h.page0, 0x10000), 0);
    ck_assert_uint_eq(iommufd_sim_mmap_written(h.s, h.page0), 0);
    iommufd_sim_get_stats(h.s, &st);
    ck_assert_uint_eq(st.vcmdq_kicks, 1);
    ck_assert_uint_eq(st.vcmdq_commands, 2);
}
END_TEST

START_TEST(test_cmdqv_injected_error_and_thread)
{
    struct {
        struct iommufd_vevent_header hdr;
        uint64_t map[2];
    } rec;
    gint64 deadline;

    build_stack();
    /* queue 1 errors (ATC sync timeout), as hardware would report it */
    ck_assert_int_eq(iommufd_sim_inject_vcmdq_error(h.s, h.viommu, 1, 3), 0);
    ck_assert_int_eq(read_all(h.tfd, &rec, sizeof(rec)), sizeof(rec));
    ck_assert_uint_eq(rec.map[0], 2);
    ck_assert_int_eq(iommufd_sim_inject_vcmdq_error(h.s, h.s2, 1, 3),
                     -ENOENT);

    /* the engine thread consumes queue 0 without any call from us */
    iommufd_sim_start_engine(h.s);
    /* (atomic stores: the engine thread is running; PROD publishes) */
    __atomic_store_n(&g64(G_QUEUE0)[0], 0x11 | ((uint64_t)ASID << 48),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&g64(G_QUEUE0)[2], 0x46, __ATOMIC_RELAXED);
    *VCMDQ(0, V_CONFIG) = 1;
    __atomic_store_n(VCMDQ(0, V_PROD), 2, __ATOMIC_RELEASE);
    deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while ((*VCMDQ(0, V_CONS) & 0x1f) != 2 &&
           g_get_monotonic_time() < deadline) {
        g_usleep(1000);
    }
    ck_assert_uint_eq(*VCMDQ(0, V_CONS) & 0x1f, 2);
    iommufd_sim_stop_engine(h.s);
}
END_TEST

/* ---- stats ---- */

static void assert_json_has(const char *json, const char *needle)
{
    ck_assert_msg(strstr(json, needle), "\"%s\" missing from %s", needle,
                  json);
}

START_TEST(test_stats_json)
{
    uint64_t cmd[2][2] = { { 0x12, 0x1000 }, { 0x40 | ((uint64_t)VSID << 32),
                                               0 } };
    IommufdSimTranslation t;
    IommufdSimStats st;
    uint32_t num = 2;
    char *json;

    build_stack();
    ck_assert_int_eq(t_invalidate(h.s, h.viommu, cmd, 16, &num), 0);
    ck_assert_int_eq(iommufd_sim_translate(h.s, h.dev, false, 0, 0x5000,
                                           IOMMUFD_SIM_READ, &t), -EFAULT);
    iommufd_sim_get_stats(h.s, &st);
    ck_assert_uint_eq(st.ioctls[IOMMUFD_CMD_HWPT_ALLOC - 0x80], 2);
    ck_assert_uint_eq(st.ioctls[IOMMUFD_CMD_HW_QUEUE_ALLOC - 0x80], 2);
    ck_assert_uint_eq(st.ioctls[IOMMUFD_CMD_HWPT_INVALIDATE - 0x80], 1);
    ck_assert_uint_eq(st.invalidate_entries, 2);
    ck_assert_uint_eq(st.cmds_forwarded[0x12], 1);
    ck_assert_uint_eq(st.cmds_forwarded[0x40], 1);
    ck_assert_uint_eq(st.cmds_forwarded[0x46], 1);
    ck_assert_uint_eq(st.events_delivered, 1);
    ck_assert_uint_eq(st.faults, 1);

    json = iommufd_sim_stats_json(h.s);
    assert_json_has(json, "\"ioctls\": {");
    assert_json_has(json, "\"IOMMU_HWPT_ALLOC\": 2");
    assert_json_has(json, "\"IOMMU_VIOMMU_ALLOC\": 1");
    assert_json_has(json, "\"IOMMU_HWPT_INVALIDATE\": 1");
    assert_json_has(json, "\"IOMMU_DESTROY\": 0");
    assert_json_has(json, "\"invalidate_entries\": 2");
    assert_json_has(json, "\"events\": {\"delivered\": 1, \"lost\": 0, "
                    "\"host_only\": 0}");
    assert_json_has(json, "\"stale_iotlb_hits\": 0");
    assert_json_has(json, "\"vcmdq_commands\": 0");
    assert_json_has(json, "\"live_objects\": 12");
    assert_json_has(json, "\"forwarded_cmds\": {\"TLBI_NH_VA\": 1, "
                    "\"ATC_INV\": 1, \"CMD_SYNC\": 1}");
    assert_json_has(json, "\"translations\": 1");
    assert_json_has(json, "\"iotlb_hits\": 0");
    assert_json_has(json, "\"faults\": 1");
    assert_json_has(json, "\"type\": \"hwpt_nested\"");
    assert_json_has(json, "\"type\": \"hw_queue\"");
    assert_json_has(json, "\"type\": \"vdevice\"");
    assert_json_has(json, "\"devices\": [{\"id\": 1, \"smmu\": 0, "
                    "\"psid\": 256");
    g_free(json);
}
END_TEST

static Suite *sim_lifecycle_suite(void)
{
    Suite *s = suite_create("iommufd-sim-lifecycle");
    TCase *tc = tcase_create("lifecycle");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_teardown_working_order);
    tcase_add_test(tc, test_teardown_wrong_orders);
    tcase_add_test(tc, test_free_with_everything_live);
    tcase_add_test(tc, test_vdevice_tombstone);
    tcase_add_test(tc, test_nested_translation_fault_event);
    tcase_add_test(tc, test_s2_fault_host_only);
    tcase_add_test(tc, test_fault_without_vdevice_host_only);
    tcase_add_test(tc, test_cmdqv_end_to_end);
    tcase_add_test(tc, test_cmdqv_mmap_written);
    tcase_add_test(tc, test_cmdqv_injected_error_and_thread);
    tcase_add_test(tc, test_stats_json);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sim_lifecycle_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
