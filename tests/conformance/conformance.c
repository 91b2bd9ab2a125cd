/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The case table of the iommufd differential conformance (conformance.h).
 * A case only calls the uAPI and prints what came back; it never judges:
 * the comparison of two hosts' outputs is the test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/iommufd.h>

#include "conformance.h"

#define PAGE            4096ull
#define BUF_SIZE        (4ull << 20)
#define SW_MSI_START    0x8000000ull    /* arm-smmu-v3's MSI_IOVA_BASE */

/* STE and command fields used by the cases (SMMUv3 spec, 5.2 and 4). */
#define STE0_V          (1ull << 0)
#define STE0_CFG(c)     ((uint64_t)(c) << 1)
#define CFG_ABORT       0
#define CFG_BYPASS      4
#define CFG_S1          5
#define CFG_S2          6
#define STE0_S1CTXPTR(a) ((uint64_t)(a) & 0x000ffffffffffff0ull)
#define STE1_EATS(e)    ((uint64_t)(e) << 28)
#define CMD_CFGI_STE    0x03
#define CMD_CFGI_CD     0x05
#define CMD_CFGI_CD_ALL 0x06
#define CMD_TLBI_NH_ALL 0x10
#define CMD_TLBI_NH_ASID 0x11
#define CMD_TLBI_NH_VA  0x12
#define CMD_TLBI_NH_VAA 0x13
#define CMD_TLBI_NSNH_ALL 0x30
#define CMD_ATC_INV     0x40
#define CMD_SYNC        0x46
#define CMD_SID(s)      ((uint64_t)(s) << 32)
#define CMD_ASID(a)     ((uint64_t)(a) << 48)

static ConfHost *host;
static const char *case_name;
static uint8_t *buf;            /* BUF_SIZE bytes, page aligned */

/* The errnos the uAPI answers with, by name (the same on every libc). */
#define ERRNAME(e) { e, #e }
static const struct {
    int err;
    const char *name;
} errnames[] = {
    ERRNAME(EPERM), ERRNAME(ENOENT), ERRNAME(EIO), ERRNAME(ENXIO),
    ERRNAME(E2BIG), ERRNAME(EBADF), ERRNAME(EAGAIN), ERRNAME(ENOMEM),
    ERRNAME(EACCES), ERRNAME(EFAULT), ERRNAME(EBUSY), ERRNAME(EEXIST),
    ERRNAME(ENODEV), ERRNAME(EINVAL), ERRNAME(ENOTTY), ERRNAME(ENOSPC),
    ERRNAME(ESPIPE), ERRNAME(ERANGE), ERRNAME(ENOSYS), ERRNAME(EMSGSIZE),
    ERRNAME(EOPNOTSUPP), ERRNAME(EADDRINUSE), ERRNAME(EOVERFLOW),
    ERRNAME(ETIMEDOUT),
};

static const char *err_name(int rc)
{
    static char other[16];
    if (rc == 0) {
        return "0";
    }
    if (rc > 0) {
        snprintf(other, sizeof(other), "+%d", rc);
        return other;
    }
    for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++) {
        if (errnames[i].err == -rc) {
            return errnames[i].name;
        }
    }
    snprintf(other, sizeof(other), "E%d", -rc);
    return other;
}

/* One observation: "<case> <step> rc=<name> <fields>". */
static void obs(const char *step, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void obs(const char *step, int rc, const char *fmt, ...)
{
    char text[1024] = " ";
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text + 1, sizeof(text) - 1, fmt, ap);
    va_end(ap);
    if (!text[1]) {
        text[0] = 0;    /* no fields: no separating space either */
    }
    printf("%s %s rc=%s%s\n", case_name, step, err_name(rc), text);
}

/* An observation with nothing but the return value. */
static void res(const char *step, int rc)
{
    obs(step, rc, "%s", "");
}

static int io(unsigned long req, void *arg)
{
    return host->ops->ioctl(host, req, arg);
}

/* uAPI wrappers: each returns 0 or -errno and fills its output. */
static int ioas_alloc(uint32_t *id)
{
    struct iommu_ioas_alloc a = { .size = sizeof(a) };
    int rc = io(IOMMU_IOAS_ALLOC, &a);

    *id = rc ? 0 : a.out_ioas_id;
    return rc;
}

static int destroy(uint32_t id)
{
    struct iommu_destroy d = { .size = sizeof(d), .id = id };

    return io(IOMMU_DESTROY, &d);
}

static int map(uint32_t ioas, uint64_t off, uint64_t len, uint64_t *iova,
               uint32_t flags)
{
    struct iommu_ioas_map m = {
        .size = sizeof(m), .flags = flags, .ioas_id = ioas,
        .user_va = (uintptr_t)(buf + off), .length = len, .iova = *iova,
    };
    int rc = io(IOMMU_IOAS_MAP, &m);

    *iova = m.iova;
    return rc;
}

#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED (RW | IOMMU_IOAS_MAP_FIXED_IOVA)

static int map_fixed(uint32_t ioas, uint64_t iova, uint64_t len)
{
    return map(ioas, 0, len, &iova, FIXED);
}

static int unmap(uint32_t ioas, uint64_t iova, uint64_t *len)
{
    struct iommu_ioas_unmap u = {
        .size = sizeof(u), .ioas_id = ioas, .iova = iova, .length = *len,
    };
    int rc = io(IOMMU_IOAS_UNMAP, &u);

    *len = u.length;
    return rc;
}

static int hwpt_alloc(uint32_t dev, uint32_t pt, uint32_t flags,
                      uint32_t type, const void *data, uint32_t len,
                      uint32_t *id)
{
    struct iommu_hwpt_alloc a = {
        .size = sizeof(a), .flags = flags, .dev_id = dev, .pt_id = pt,
        .data_type = type, .data_len = len, .data_uptr = (uintptr_t)data,
    };
    int rc = io(IOMMU_HWPT_ALLOC, &a);

    *id = rc ? 0 : a.out_hwpt_id;
    return rc;
}

static int nested_alloc(uint32_t dev, uint32_t viommu, uint64_t ste0,
                        uint64_t ste1, uint32_t *id)
{
    struct iommu_hwpt_arm_smmuv3 d = { .ste = { ste0, ste1 } };

    return hwpt_alloc(dev, viommu, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, &d,
                      sizeof(d), id);
}

static int viommu_alloc(uint32_t dev, uint32_t hwpt, uint32_t type,
                        uint32_t flags, uint32_t *id)
{
    struct iommu_viommu_alloc a = {
        .size = sizeof(a), .flags = flags, .type = type, .dev_id = dev,
        .hwpt_id = hwpt,
    };
    int rc = io(IOMMU_VIOMMU_ALLOC, &a);

    *id = rc ? 0 : a.out_viommu_id;
    return rc;
}

static int vdevice_alloc(uint32_t viommu, uint32_t dev, uint64_t virt_id,
                         uint32_t *id)
{
    struct iommu_vdevice_alloc a = {
        .size = sizeof(a), .viommu_id = viommu, .dev_id = dev,
        .virt_id = virt_id,
    };
    int rc = io(IOMMU_VDEVICE_ALLOC, &a);

    *id = rc ? 0 : a.out_vdevice_id;
    return rc;
}

static int invalidate(uint32_t id, uint32_t type, const void *data,
                      uint32_t entry_len, uint32_t *num)
{
    struct iommu_hwpt_invalidate c = {
        .size = sizeof(c), .hwpt_id = id, .data_uptr = (uintptr_t)data,
        .data_type = type, .entry_len = entry_len, .entry_num = *num,
    };
    int rc = io(IOMMU_HWPT_INVALIDATE, &c);

    *num = c.entry_num;
    return rc;
}

static int veventq_alloc(uint32_t viommu, uint32_t type, uint32_t depth,
                         uint32_t flags, uint32_t *id, int *fd)
{
    struct iommu_veventq_alloc a = {
        .size = sizeof(a), .flags = flags, .viommu_id = viommu,
        .type = type, .veventq_depth = depth,
    };
    int rc = io(IOMMU_VEVENTQ_ALLOC, &a);

    *id = rc ? 0 : a.out_veventq_id;
    *fd = rc ? -1 : (int)a.out_veventq_fd;
    return rc;
}

static int hw_queue_alloc(uint32_t viommu, uint32_t type, uint32_t index,
                          uint64_t iova, uint64_t len, uint32_t *id)
{
    struct iommu_hw_queue_alloc a = {
        .size = sizeof(a), .viommu_id = viommu, .type = type, .index = index,
        .nesting_parent_iova = iova, .length = len,
    };
    int rc = io(IOMMU_HW_QUEUE_ALLOC, &a);

    *id = rc ? 0 : a.out_hw_queue_id;
    return rc;
}

static void print_ranges(const char *step, uint32_t ioas, uint32_t room)
{
    struct iommu_iova_range r[8] = { };
    struct iommu_ioas_iova_ranges q = {
        .size = sizeof(q), .ioas_id = ioas, .num_iovas = room,
        .allowed_iovas = (uintptr_t)r,
    };
    char text[512];
    size_t n = 0;
    int rc = io(IOMMU_IOAS_IOVA_RANGES, &q);

    text[0] = 0;
    for (uint32_t i = 0; !rc && i < q.num_iovas && i < 8; i++) {
        n += snprintf(text + n, sizeof(text) - n, " range%u=0x%" PRIx64
                      "-0x%" PRIx64, i, (uint64_t)r[i].start,
                      (uint64_t)r[i].last);
    }
    obs(step, rc, "num_iovas=%u out_iova_alignment=0x%" PRIx64 "%s",
        q.num_iovas, (uint64_t)q.out_iova_alignment, text);
}

/* A device bound and attached to a fresh IOAS with guest RAM mapped. */
typedef struct Setup {
    uint32_t dev[CONF_MAX_DEVICES];
    uint32_t ioas;
    uint32_t parent;    /* NEST_PARENT HWPT on ioas */
    uint32_t viommu;
} Setup;

static int bind(unsigned n, uint32_t *dev_id)
{
    return host->ops->bind(host, n, dev_id);
}

static int attach(unsigned n, uint32_t pt, uint32_t *out)
{
    uint32_t id = pt;
    int rc = host->ops->attach(host, n, &id);

    if (out) {
        *out = id;
    }
    return rc;
}

static int detach(unsigned n)
{
    return host->ops->detach(host, n);
}

/* Bind device 0, IOAS with buf at 0x100000, NEST_PARENT, vIOMMU. */
static int setup_viommu(Setup *s)
{
    int rc;

    memset(s, 0, sizeof(*s));
    rc = bind(0, &s->dev[0]);
    rc = rc ? rc : ioas_alloc(&s->ioas);
    rc = rc ? rc : map_fixed(s->ioas, 0x100000, BUF_SIZE);
    rc = rc ? rc : hwpt_alloc(s->dev[0], s->ioas,
                              IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0,
                              &s->parent);
    rc = rc ? rc : viommu_alloc(s->dev[0], s->parent,
                                IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0, &s->viommu);
    obs("setup", rc, "dev=%u ioas=%u parent=%u viommu=%u", s->dev[0],
        s->ioas, s->parent, s->viommu);
    return rc;
}

/* ---- cases ---- */

static void case_size_rules(void)
{
    struct {
        struct iommu_ioas_alloc a;
        uint8_t tail[8];
    } big = { .a.size = sizeof(big) };
    struct iommu_ioas_alloc small = { .size = 4 };
    struct iommu_destroy d = { .size = sizeof(d), .id = 0 };
    int rc;

    rc = io(IOMMU_IOAS_ALLOC, &small);
    res("size-short", rc);
    rc = io(IOMMU_IOAS_ALLOC, &big);
    obs("size-long-zero-tail", rc, "id=%u", rc ? 0 : big.a.out_ioas_id);
    big.tail[3] = 1;
    rc = io(IOMMU_IOAS_ALLOC, &big);
    res("size-long-nonzero-tail", rc);
    rc = io(IOMMU_DESTROY, &d);
    res("destroy-id0", rc);
    rc = io(_IO(IOMMUFD_TYPE, 0xbf), &d);
    res("unknown-command", rc);
    small.size = sizeof(small);
    small.flags = 1;
    rc = io(IOMMU_IOAS_ALLOC, &small);
    res("ioas-alloc-flags", rc);
}

static void case_ids(void)
{
    uint32_t a, b, c, d, dev;
    int rc;

    ioas_alloc(&a);
    ioas_alloc(&b);
    ioas_alloc(&c);
    obs("three-ioas", 0, "ids=%u,%u,%u", a, b, c);
    rc = destroy(b);
    res("destroy-middle", rc);
    rc = destroy(b);
    res("destroy-again", rc);
    rc = ioas_alloc(&d);
    obs("ioas-after-destroy", rc, "id=%u", d);
    rc = bind(0, &dev);
    obs("bind", rc, "dev_id=%u", dev);
    rc = destroy(dev);
    res("destroy-device-object", rc);
    rc = destroy(0x7fffffff);
    res("destroy-unknown", rc);
}

static void case_hw_info(void)
{
    struct iommu_hw_info_arm_smmuv3 data;
    struct iommu_hw_info q;
    uint32_t dev;
    int rc;

    rc = bind(0, &dev);
    obs("bind", rc, "dev_id=%u", dev);

    memset(&data, 0xa5, sizeof(data));
    q = (struct iommu_hw_info) {
        .size = sizeof(q), .dev_id = dev, .data_len = sizeof(data),
        .data_uptr = (uintptr_t)&data,
    };
    rc = io(IOMMU_GET_HW_INFO, &q);
    obs("full", rc, "type=%u data_len=%u caps=0x%" PRIx64 " flags=0x%x "
        "idr=%08x,%08x,%08x,%08x,%08x,%08x iidr=%08x aidr=%08x",
        q.out_data_type, q.data_len, (uint64_t)q.out_capabilities,
        data.flags, data.idr[0], data.idr[1], data.idr[2], data.idr[3],
        data.idr[4], data.idr[5], data.iidr, data.aidr);

    q = (struct iommu_hw_info) {
        .size = sizeof(q), .dev_id = dev, .data_len = 0,
    };
    rc = io(IOMMU_GET_HW_INFO, &q);
    obs("no-buffer", rc, "type=%u data_len=%u", q.out_data_type, q.data_len);

    memset(&data, 0xa5, sizeof(data));
    q = (struct iommu_hw_info) {
        .size = sizeof(q), .dev_id = dev, .data_len = 8,
        .data_uptr = (uintptr_t)&data,
    };
    rc = io(IOMMU_GET_HW_INFO, &q);
    obs("short-buffer", rc, "type=%u data_len=%u idr0=%08x idr1=%08x",
        q.out_data_type, q.data_len, data.idr[0], data.idr[1]);

    q = (struct iommu_hw_info) {
        .size = sizeof(q), .dev_id = dev, .data_len = sizeof(data),
        .data_uptr = (uintptr_t)&data, .flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE,
        .in_data_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3,
    };
    rc = io(IOMMU_GET_HW_INFO, &q);
    obs("input-type-smmuv3", rc, "type=%u data_len=%u", q.out_data_type,
        q.data_len);
    q.in_data_type = IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV;
    q.data_len = sizeof(data);
    rc = io(IOMMU_GET_HW_INFO, &q);
    res("input-type-cmdqv", rc);
    q.in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
    q.data_len = sizeof(data);
    rc = io(IOMMU_GET_HW_INFO, &q);
    res("input-type-vtd", rc);

    q = (struct iommu_hw_info) {
        .size = sizeof(q), .dev_id = dev, .flags = 1u << 7,
    };
    rc = io(IOMMU_GET_HW_INFO, &q);
    res("unknown-flag", rc);
    q = (struct iommu_hw_info) { .size = sizeof(q), .dev_id = dev + 100 };
    rc = io(IOMMU_GET_HW_INFO, &q);
    res("unknown-device", rc);
}

static void case_iova_ranges(void)
{
    uint32_t ioas, dev, pt;
    int rc;

    ioas_alloc(&ioas);
    print_ranges("empty-ioas-no-room", ioas, 0);
    print_ranges("empty-ioas", ioas, 8);
    rc = bind(0, &dev);
    obs("bind", rc, "dev_id=%u", dev);
    rc = attach(0, ioas, &pt);
    obs("attach-ioas", rc, "pt_id=%u", pt);
    print_ranges("attached-no-room", ioas, 0);
    print_ranges("attached", ioas, 8);
    rc = detach(0);
    res("detach", rc);
    print_ranges("detached", ioas, 8);
    rc = hwpt_alloc(dev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0, &pt);
    obs("nest-parent", rc, "id=%u", pt);
    print_ranges("nest-parent-only", ioas, 8);
    rc = attach(0, pt, NULL);
    res("attach-nest-parent", rc);
    print_ranges("nest-parent-attached", ioas, 8);
    detach(0);
    destroy(pt);
    print_ranges("nest-parent-destroyed", ioas, 8);
}

static void case_map_rules(void)
{
    uint64_t iova, len;
    uint32_t ioas;
    int rc;

    ioas_alloc(&ioas);
    iova = 0x100000;
    rc = map(ioas, 0, PAGE / 2, &iova, FIXED);
    res("unaligned-length", rc);
    iova = 0x100800;
    rc = map(ioas, 0, PAGE, &iova, FIXED);
    res("unaligned-iova", rc);
    iova = 0x100000;
    rc = map(ioas, 0, 0, &iova, FIXED);
    res("zero-length", rc);
    iova = 0x100000;
    rc = map(ioas, 0, PAGE, &iova, IOMMU_IOAS_MAP_FIXED_IOVA);
    res("no-permission", rc);
    iova = 0x100000;
    rc = map(ioas, 0, PAGE, &iova, FIXED | (1u << 5));
    res("unknown-flag", rc);
    rc = map_fixed(ioas, 0x100000, 4 * PAGE);
    res("fixed", rc);
    rc = map_fixed(ioas, 0x102000, 4 * PAGE);
    res("fixed-overlap", rc);
    iova = 0;
    rc = map(ioas, 0, PAGE, &iova, RW);
    obs("kernel-chooses", rc, "iova=0x%" PRIx64, iova);
    iova = 0;
    rc = map(ioas, 0, 4 * PAGE, &iova, RW);
    obs("kernel-chooses-4-pages", rc, "iova=0x%" PRIx64, iova);
    rc = map_fixed(ioas, 0xfffffffffffff000ull, PAGE);
    res("fixed-top-page", rc);
    rc = map_fixed(ioas, 0xfffffffffffff000ull, 2 * PAGE);
    res("fixed-wraps", rc);

    len = PAGE;
    rc = unmap(ioas, 0x101000, &len);
    obs("unmap-middle", rc, "length=0x%" PRIx64, len);
    len = 8 * PAGE;
    rc = unmap(ioas, 0x100000, &len);
    obs("unmap-covering", rc, "length=0x%" PRIx64, len);
    len = PAGE;
    rc = unmap(ioas, 0x100000, &len);
    obs("unmap-nothing", rc, "length=0x%" PRIx64, len);
    len = PAGE / 2;
    rc = unmap(ioas, 0x100000, &len);
    obs("unmap-unaligned", rc, "length=0x%" PRIx64, len);
    len = UINT64_MAX;
    rc = unmap(ioas, 0, &len);
    obs("unmap-all", rc, "length=0x%" PRIx64, len);
    len = UINT64_MAX;
    rc = unmap(ioas, 0, &len);
    obs("unmap-all-empty", rc, "length=0x%" PRIx64, len);
    len = PAGE;
    rc = unmap(ioas + 100, 0, &len);
    res("unmap-unknown-ioas", rc);
}

static void case_map_reserved(void)
{
    uint32_t ioas, dev, pt;
    int rc;

    bind(0, &dev);
    ioas_alloc(&ioas);
    rc = attach(0, ioas, &pt);
    obs("attach", rc, "pt_id=%u", pt);
    rc = map_fixed(ioas, SW_MSI_START, PAGE);
    res("fixed-in-sw-msi", rc);
    rc = map_fixed(ioas, SW_MSI_START - PAGE, 2 * PAGE);
    res("fixed-into-sw-msi", rc);
    rc = map_fixed(ioas, SW_MSI_START + 0x100000, PAGE);
    res("fixed-after-sw-msi", rc);
    rc = map_fixed(ioas, 1ull << 48, PAGE);
    res("fixed-2^48", rc);
    rc = map_fixed(ioas, (1ull << 44) - PAGE, PAGE);
    res("fixed-below-2^44", rc);
    rc = map_fixed(ioas, 1ull << 44, PAGE);
    res("fixed-2^44", rc);
    rc = map_fixed(ioas, 0, PAGE);
    res("fixed-zero", rc);
}

static void case_attach_over_reserved(void)
{
    uint32_t ioas, dev, pt;
    uint64_t len = PAGE;
    int rc;

    bind(0, &dev);
    ioas_alloc(&ioas);
    rc = map_fixed(ioas, SW_MSI_START, PAGE);
    res("map-sw-msi-unattached", rc);
    rc = attach(0, ioas, &pt);
    obs("attach-over-sw-msi", rc, "pt_id=%u", pt);
    rc = unmap(ioas, SW_MSI_START, &len);
    obs("unmap", rc, "length=0x%" PRIx64, len);
    rc = map_fixed(ioas, 1ull << 50, PAGE);
    res("map-2^50-unattached", rc);
    rc = attach(0, ioas, &pt);
    obs("attach-over-high", rc, "pt_id=%u", pt);
}

static void case_copy(void)
{
    struct iommu_ioas_copy c;
    uint32_t a, b;
    int rc;

    ioas_alloc(&a);
    ioas_alloc(&b);
    map_fixed(a, 0x100000, 4 * PAGE);
    c = (struct iommu_ioas_copy) {
        .size = sizeof(c), .flags = FIXED, .dst_ioas_id = b,
        .src_ioas_id = a, .length = 2 * PAGE, .dst_iova = 0x200000,
        .src_iova = 0x101000,
    };
    rc = io(IOMMU_IOAS_COPY, &c);
    obs("fixed", rc, "dst_iova=0x%" PRIx64, (uint64_t)c.dst_iova);
    rc = io(IOMMU_IOAS_COPY, &c);
    res("fixed-again", rc);
    c.flags = RW;
    c.dst_iova = 0;
    rc = io(IOMMU_IOAS_COPY, &c);
    obs("kernel-chooses", rc, "dst_iova=0x%" PRIx64, (uint64_t)c.dst_iova);
    c.flags = FIXED;
    c.src_iova = 0x300000;
    c.dst_iova = 0x400000;
    rc = io(IOMMU_IOAS_COPY, &c);
    res("unmapped-source", rc);
    c.src_iova = 0x103000;
    rc = io(IOMMU_IOAS_COPY, &c);
    res("source-past-end", rc);
    print_ranges("ranges-after", b, 8);
}

static void case_hwpt_alloc(void)
{
    struct iommu_hwpt_arm_smmuv3 ste = {
        .ste = { STE0_V | STE0_CFG(CFG_BYPASS), 0 },
    };
    uint32_t dev, ioas, paging, parent, id;
    int rc;

    bind(0, &dev);
    ioas_alloc(&ioas);
    rc = hwpt_alloc(dev, ioas, 0, 0, NULL, 0, &paging);
    obs("paging", rc, "id=%u", paging);
    rc = hwpt_alloc(dev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0,
                    &parent);
    obs("nest-parent", rc, "id=%u", parent);
    rc = hwpt_alloc(dev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT |
                    IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0, NULL, 0, &id);
    res("nest-parent-dirty", rc);
    rc = hwpt_alloc(dev, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0, NULL, 0,
                    &id);
    res("dirty", rc);
    rc = hwpt_alloc(dev, ioas, IOMMU_HWPT_ALLOC_PASID, 0, NULL, 0, &id);
    obs("pasid", rc, "id=%u", id);
    if (!rc) {
        destroy(id);
    }
    rc = hwpt_alloc(dev, ioas, 1u << 10, 0, NULL, 0, &id);
    res("unknown-flag", rc);
    rc = hwpt_alloc(dev, ioas, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, &ste,
                    sizeof(ste), &id);
    res("data-on-ioas", rc);
    rc = hwpt_alloc(dev, parent, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, &ste,
                    sizeof(ste), &id);
    res("nested-on-parent-hwpt", rc);
    rc = hwpt_alloc(dev, ioas, 0, 0x77, &ste, sizeof(ste), &id);
    res("unknown-data-type", rc);
    rc = hwpt_alloc(dev + 100, ioas, 0, 0, NULL, 0, &id);
    res("unknown-device", rc);
    rc = hwpt_alloc(dev, ioas + 100, 0, 0, NULL, 0, &id);
    res("unknown-pt", rc);
    rc = hwpt_alloc(dev, dev, 0, 0, NULL, 0, &id);
    res("pt-is-device", rc);
    rc = destroy(ioas);
    res("destroy-ioas-with-hwpts", rc);
    rc = destroy(paging);
    res("destroy-paging", rc);
    rc = destroy(parent);
    res("destroy-parent", rc);
    rc = destroy(ioas);
    res("destroy-ioas", rc);
}

static void case_viommu_alloc(void)
{
    uint32_t dev, ioas, paging, parent, id, id2;
    int rc;

    bind(0, &dev);
    ioas_alloc(&ioas);
    hwpt_alloc(dev, ioas, 0, 0, NULL, 0, &paging);
    hwpt_alloc(dev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0, &parent);
    rc = viommu_alloc(dev, paging, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0, &id);
    res("on-plain-paging", rc);
    rc = viommu_alloc(dev, ioas, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0, &id);
    res("on-ioas", rc);
    rc = viommu_alloc(dev, parent, IOMMU_VIOMMU_TYPE_DEFAULT, 0, &id);
    res("type-default", rc);
    rc = viommu_alloc(dev, parent, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, 0, &id);
    res("type-cmdqv-without-data", rc);
    rc = viommu_alloc(dev, parent, 0x55, 0, &id);
    res("type-unknown", rc);
    rc = viommu_alloc(dev, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 1, &id);
    res("flags", rc);
    rc = viommu_alloc(dev + 100, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0, &id);
    res("unknown-device", rc);
    rc = viommu_alloc(dev, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0, &id);
    obs("smmuv3", rc, "id=%u", id);
    rc = viommu_alloc(dev, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0, &id2);
    obs("second-smmuv3", rc, "id=%u", id2);
    rc = destroy(parent);
    res("destroy-parent-in-use", rc);
    rc = destroy(id2);
    res("destroy-second", rc);
    rc = destroy(id);
    res("destroy-first", rc);
    rc = destroy(parent);
    res("destroy-parent", rc);
}

static void case_vste(void)
{
    static const struct {
        const char *name;
        uint64_t ste0, ste1;
    } vste[] = {
        { "invalid", 0, 0 },
        { "abort", STE0_V | STE0_CFG(CFG_ABORT), 0 },
        { "bypass", STE0_V | STE0_CFG(CFG_BYPASS), 0 },
        { "s1", STE0_V | STE0_CFG(CFG_S1) | STE0_S1CTXPTR(0x180000), 0 },
        { "s2-only", STE0_V | STE0_CFG(CFG_S2), 0 },
        { "cfg-all-ones", STE0_V | STE0_CFG(7), 0 },
        { "eats-1", STE0_V | STE0_CFG(CFG_S1) | STE0_S1CTXPTR(0x180000),
          STE1_EATS(1) },
        { "eats-2", STE0_V | STE0_CFG(CFG_S1) | STE0_S1CTXPTR(0x180000),
          STE1_EATS(2) },
        { "s1fmt-s1cdmax", STE0_V | STE0_CFG(CFG_S1) |
          STE0_S1CTXPTR(0x180000) | (1ull << 4) | (3ull << 59), 0 },
        { "ste0-bit-6", STE0_V | STE0_CFG(CFG_S1) | (1ull << 6), 0 },
        { "ste0-bit-58", STE0_V | STE0_CFG(CFG_S1) | (1ull << 58), 0 },
        { "ste1-s1dss-s1cir", STE0_V | STE0_CFG(CFG_S1), 3ull | (1ull << 2) },
        { "ste1-s1stalld", STE0_V | STE0_CFG(CFG_S1), 1ull << 27 },
        { "ste1-strw", STE0_V | STE0_CFG(CFG_S1), 1ull << 30 },
        { "ste1-shcfg", STE0_V | STE0_CFG(CFG_S1), 1ull << 44 },
        { "ste1-bit-63", STE0_V | STE0_CFG(CFG_S1), 1ull << 63 },
    };
    Setup s;
    uint32_t id;
    char step[64];
    int rc;

    if (setup_viommu(&s)) {
        return;
    }
    for (size_t i = 0; i < sizeof(vste) / sizeof(vste[0]); i++) {
        rc = nested_alloc(s.dev[0], s.viommu, vste[i].ste0, vste[i].ste1, &id);
        snprintf(step, sizeof(step), "alloc-%s", vste[i].name);
        res(step, rc);
        if (!rc) {
            destroy(id);
        }
    }
    rc = hwpt_alloc(s.dev[0], s.viommu, IOMMU_HWPT_ALLOC_NEST_PARENT,
                    IOMMU_HWPT_DATA_ARM_SMMUV3,
                    &(struct iommu_hwpt_arm_smmuv3){ { STE0_V, 0 } },
                    sizeof(struct iommu_hwpt_arm_smmuv3), &id);
    res("alloc-flags-nest-parent", rc);
    rc = hwpt_alloc(s.dev[0], s.viommu, 0, IOMMU_HWPT_DATA_ARM_SMMUV3,
                    &(struct iommu_hwpt_arm_smmuv3){ { STE0_V, 0 } }, 8, &id);
    res("alloc-short-data", rc);
    rc = hwpt_alloc(s.dev[0], s.viommu, 0, IOMMU_HWPT_DATA_NONE, NULL, 0, &id);
    res("alloc-no-data", rc);
}

static void case_nested_attach(void)
{
    uint32_t s1, byp, abrt, vdev, pt;
    Setup s;
    int rc;

    if (setup_viommu(&s)) {
        return;
    }
    nested_alloc(s.dev[0], s.viommu, STE0_V | STE0_CFG(CFG_S1) |
                 STE0_S1CTXPTR(0x180000), 0, &s1);
    nested_alloc(s.dev[0], s.viommu, STE0_V | STE0_CFG(CFG_BYPASS), 0, &byp);
    nested_alloc(s.dev[0], s.viommu, STE0_V | STE0_CFG(CFG_ABORT), 0, &abrt);
    obs("nested", 0, "s1=%u bypass=%u abort=%u", s1, byp, abrt);
    rc = attach(0, s1, &pt);
    res("attach-s1-no-vdevice", rc);
    rc = attach(0, byp, &pt);
    obs("attach-bypass-no-vdevice", rc, "pt_id=%u", pt);
    rc = attach(0, abrt, &pt);
    obs("replace-abort-no-vdevice", rc, "pt_id=%u", pt);
    rc = vdevice_alloc(s.viommu, s.dev[0], 0x10, &vdev);
    obs("vdevice", rc, "id=%u", vdev);
    rc = attach(0, s1, &pt);
    obs("replace-s1", rc, "pt_id=%u", pt);
    rc = destroy(s1);
    res("destroy-attached-s1", rc);
    rc = destroy(vdev);
    res("destroy-vdevice-while-attached", rc);
    rc = attach(0, s.parent, &pt);
    obs("replace-parent", rc, "pt_id=%u", pt);
    rc = attach(0, s.ioas, &pt);
    obs("replace-ioas", rc, "pt_id=%u", pt);
    rc = detach(0);
    res("detach", rc);
    rc = detach(0);
    res("detach-again", rc);
    rc = destroy(s1);
    res("destroy-s1", rc);
    rc = destroy(s.viommu);
    res("destroy-viommu-with-hwpts", rc);
}

static void case_vdevice(void)
{
    uint32_t v1, v2, v3, dev1 = 0;
    Setup s;
    int rc;

    if (setup_viommu(&s)) {
        return;
    }
    rc = vdevice_alloc(s.viommu, s.dev[0], 0x10, &v1);
    obs("alloc", rc, "id=%u", v1);
    rc = vdevice_alloc(s.viommu, s.dev[0], 0x20, &v2);
    res("same-device-again", rc);
    if (host->num_devices > 1) {
        rc = bind(1, &dev1);
        obs("bind-second", rc, "dev_id=%u", dev1);
        rc = vdevice_alloc(s.viommu, dev1, 0x10, &v2);
        res("same-virt-id", rc);
        rc = vdevice_alloc(s.viommu, dev1, 1ull << 32, &v2);
        res("virt-id-2^32", rc);
        rc = vdevice_alloc(s.viommu, dev1, 0xffffffffull, &v2);
        obs("virt-id-max32", rc, "id=%u", v2);
        if (!rc) {
            destroy(v2);
        }
    }
    rc = vdevice_alloc(s.viommu + 100, s.dev[0], 0x30, &v3);
    res("unknown-viommu", rc);
    rc = vdevice_alloc(s.parent, s.dev[0], 0x30, &v3);
    res("viommu-is-hwpt", rc);
    rc = destroy(s.viommu);
    res("destroy-viommu-with-vdevice", rc);
    rc = destroy(v1);
    res("destroy", rc);
    rc = vdevice_alloc(s.viommu, s.dev[0], 0x10, &v1);
    obs("realloc", rc, "id=%u", v1);
    rc = host->ops->unbind(host, 0);
    res("unbind-with-vdevice", rc);
    rc = destroy(v1);
    res("destroy-after-unbind", rc);
    rc = destroy(s.viommu);
    res("destroy-viommu", rc);
}

static void case_invalidate(void)
{
    uint64_t cmd[8][2];
    uint32_t vdev, num, pt;
    Setup s;
    int rc;

    if (setup_viommu(&s)) {
        return;
    }
    vdevice_alloc(s.viommu, s.dev[0], 0x10, &vdev);

#define VI IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3
    memset(cmd, 0, sizeof(cmd));
    cmd[0][0] = CMD_TLBI_NH_ALL;
    cmd[1][0] = CMD_TLBI_NH_ASID | CMD_ASID(5);
    cmd[2][0] = CMD_TLBI_NH_VA | CMD_ASID(5);
    cmd[2][1] = 0x200000;
    cmd[3][0] = CMD_TLBI_NH_VAA;
    cmd[3][1] = 0x200000;
    cmd[4][0] = CMD_TLBI_NSNH_ALL;
    cmd[5][0] = CMD_CFGI_CD | CMD_SID(0x10);
    cmd[6][0] = CMD_CFGI_CD_ALL | CMD_SID(0x10);
    cmd[7][0] = CMD_ATC_INV | CMD_SID(0x10);
    num = 8;
    rc = invalidate(s.viommu, VI, cmd, sizeof(cmd[0]), &num);
    obs("all-supported", rc, "entry_num=%u", num);

    cmd[3][0] = CMD_CFGI_STE | CMD_SID(0x10);
    num = 8;
    rc = invalidate(s.viommu, VI, cmd, sizeof(cmd[0]), &num);
    obs("cfgi-ste-at-3", rc, "entry_num=%u", num);
    cmd[3][0] = CMD_SYNC;
    num = 8;
    rc = invalidate(s.viommu, VI, cmd, sizeof(cmd[0]), &num);
    obs("sync-at-3", rc, "entry_num=%u", num);
    cmd[3][0] = CMD_TLBI_NH_VAA;
    cmd[5][0] = CMD_CFGI_CD | CMD_SID(0x99);
    num = 8;
    rc = invalidate(s.viommu, VI, cmd, sizeof(cmd[0]), &num);
    obs("unknown-vsid-at-5", rc, "entry_num=%u", num);
    cmd[5][0] = CMD_CFGI_CD | CMD_SID(0x10);
    cmd[0][0] = 0xff;
    num = 8;
    rc = invalidate(s.viommu, VI, cmd, sizeof(cmd[0]), &num);
    obs("opcode-ff-at-0", rc, "entry_num=%u", num);
    cmd[0][0] = CMD_TLBI_NH_ALL;

    num = 0;
    rc = invalidate(s.viommu, VI, cmd, sizeof(cmd[0]), &num);
    obs("zero-entries", rc, "entry_num=%u", num);
    num = 0;
    rc = invalidate(s.viommu, VI, NULL, 0, &num);
    obs("zero-entries-no-len", rc, "entry_num=%u", num);
    num = 2;
    rc = invalidate(s.viommu, VI, cmd, 8, &num);
    obs("entry-len-8", rc, "entry_num=%u", num);
    num = 2;
    rc = invalidate(s.viommu, VI, cmd, 32, &num);
    obs("entry-len-32", rc, "entry_num=%u", num);
    num = 2;
    rc = invalidate(s.viommu, VI, NULL, sizeof(cmd[0]), &num);
    obs("null-data", rc, "entry_num=%u", num);
    num = 2;
    rc = invalidate(s.viommu, 0x66, cmd, sizeof(cmd[0]), &num);
    obs("unknown-type", rc, "entry_num=%u", num);
    num = 2;
    rc = invalidate(s.parent, VI, cmd, sizeof(cmd[0]), &num);
    obs("on-parent-hwpt", rc, "entry_num=%u", num);
    nested_alloc(s.dev[0], s.viommu, STE0_V | STE0_CFG(CFG_BYPASS), 0, &pt);
    num = 2;
    rc = invalidate(pt, VI, cmd, sizeof(cmd[0]), &num);
    obs("on-nested-hwpt", rc, "entry_num=%u", num);
    num = 2;
    rc = invalidate(s.ioas, VI, cmd, sizeof(cmd[0]), &num);
    obs("on-ioas", rc, "entry_num=%u", num);
#undef VI
}

static void case_veventq(void)
{
    uint32_t id, id2;
    int fd, fd2;
    uint8_t rec[64];
    ssize_t n;
    Setup s;
    int rc;

    if (setup_viommu(&s)) {
        return;
    }
    rc = veventq_alloc(s.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 0, 0, &id, &fd);
    res("depth-0", rc);
    rc = veventq_alloc(s.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 1u << 30, 0,
                       &id, &fd);
    res("depth-2^30", rc);
    if (!rc) {
        host->ops->close_fd(host, fd);
        destroy(id);
    }
    rc = veventq_alloc(s.viommu, IOMMU_VEVENTQ_TYPE_DEFAULT, 64, 0, &id, &fd);
    res("type-default", rc);
    rc = veventq_alloc(s.viommu, IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, 64, 0,
                       &id, &fd);
    res("type-cmdqv", rc);
    if (!rc) {
        host->ops->close_fd(host, fd);
        destroy(id);
    }
    rc = veventq_alloc(s.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 64, 1, &id,
                       &fd);
    res("flags", rc);
    rc = veventq_alloc(s.parent, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 64, 0, &id,
                       &fd);
    res("on-hwpt", rc);
    rc = veventq_alloc(s.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 64, 0, &id,
                       &fd);
    obs("smmuv3", rc, "fd_valid=%d", fd >= 0);
    rc = veventq_alloc(s.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 64, 0, &id2,
                       &fd2);
    res("second-same-type", rc);
    if (fd >= 0) {
        n = host->ops->read(host, fd, rec, sizeof(rec));
        obs("read-empty", n < 0 ? (int)n : 0, "bytes=%zd", n < 0 ? 0 : n);
        n = host->ops->read(host, fd, rec, 4);
        obs("read-short-buffer", n < 0 ? (int)n : 0, "bytes=%zd",
            n < 0 ? 0 : n);
    }
    rc = destroy(s.viommu);
    res("destroy-viommu-with-veventq", rc);
    rc = destroy(id);
    res("destroy-veventq-fd-open", rc);
    if (fd >= 0) {
        host->ops->close_fd(host, fd);
    }
    rc = destroy(id);
    res("destroy-veventq-again", rc);
    rc = destroy(s.viommu);
    res("destroy-viommu", rc);
}

static void case_attach_rules(void)
{
    uint32_t ioas, ioas2, dev, dev1, pt, pt2, paging;
    int rc;

    rc = bind(0, &dev);
    obs("bind", rc, "dev_id=%u", dev);
    ioas_alloc(&ioas);
    ioas_alloc(&ioas2);
    rc = attach(0, ioas, &pt);
    obs("attach-ioas", rc, "pt_id=%u", pt);
    rc = attach(0, ioas, &pt2);
    obs("attach-same-ioas", rc, "pt_id=%u", pt2);
    rc = attach(0, ioas2, &pt2);
    obs("replace-other-ioas", rc, "pt_id=%u", pt2);
    rc = destroy(pt);
    res("destroy-old-auto-hwpt", rc);
    rc = destroy(ioas2);
    res("destroy-attached-ioas", rc);
    rc = attach(0, 0x7fff, &pt2);
    res("attach-unknown", rc);
    rc = attach(0, dev, &pt2);
    res("attach-device-id", rc);
    hwpt_alloc(dev, ioas, 0, 0, NULL, 0, &paging);
    rc = attach(0, paging, &pt2);
    obs("replace-paging", rc, "pt_id=%u", pt2);
    if (host->num_devices > 1) {
        rc = bind(1, &dev1);
        obs("bind-second", rc, "dev_id=%u", dev1);
        rc = attach(1, paging, &pt2);
        obs("second-on-same-paging", rc, "pt_id=%u", pt2);
        rc = attach(1, ioas, &pt2);
        obs("second-on-ioas", rc, "pt_id=%u", pt2);
        rc = host->ops->unbind(host, 1);
        res("unbind-second-attached", rc);
    }
    rc = detach(0);
    res("detach", rc);
    rc = destroy(paging);
    res("destroy-paging", rc);
    rc = destroy(ioas2);
    res("destroy-ioas2", rc);
    rc = destroy(ioas);
    res("destroy-ioas", rc);
}

static void case_option(void)
{
    struct iommu_option o = {
        .size = sizeof(o), .option_id = IOMMU_OPTION_RLIMIT_MODE,
        .op = IOMMU_OPTION_OP_GET,
    };
    uint32_t ioas;
    int rc;

    rc = io(IOMMU_OPTION, &o);
    obs("rlimit-get", rc, "val=%" PRIu64, (uint64_t)o.val64);
    ioas_alloc(&ioas);
    o = (struct iommu_option) {
        .size = sizeof(o), .option_id = IOMMU_OPTION_HUGE_PAGES,
        .op = IOMMU_OPTION_OP_GET, .object_id = ioas,
    };
    rc = io(IOMMU_OPTION, &o);
    obs("huge-pages-get", rc, "val=%" PRIu64, (uint64_t)o.val64);
    o.op = IOMMU_OPTION_OP_SET;
    o.val64 = 0;
    rc = io(IOMMU_OPTION, &o);
    res("huge-pages-set-0", rc);
    o.val64 = 2;
    rc = io(IOMMU_OPTION, &o);
    res("huge-pages-set-2", rc);
    o.object_id = 0;
    o.val64 = 1;
    rc = io(IOMMU_OPTION, &o);
    res("huge-pages-no-object", rc);
    o.option_id = 77;
    rc = io(IOMMU_OPTION, &o);
    res("unknown-option", rc);
}

/*
 * A CD at @iova (an IOVA of buf) that the SMMU accepts and whose
 * translation tables are both disabled (EPD0, EPD1): every access through
 * it is a stage-1 translation fault, recorded (CD.R).
 */
static void write_faulting_cd(uint64_t iova)
{
    uint64_t *cd = (uint64_t *)(buf + (iova - 0x100000));

    memset(cd, 0, 64);
    cd[0] = 16 |                        /* T0SZ: 48-bit VA */
            (1ull << 14) |              /* EPD0 */
            (16ull << 16) |             /* T1SZ */
            (2ull << 22) |              /* TG1: 4K */
            (1ull << 30) |              /* EPD1 */
            (1ull << 31) |              /* V */
            (5ull << 32) |              /* IPS: 48 bits */
            (1ull << 41) |              /* AA64 */
            (1ull << 45) |              /* R: record faults */
            (1ull << 46) |              /* A: abort on fault */
            (7ull << 48);               /* ASID 7 */
}

/* Read @fd until empty or @max records, printing each record. */
static void print_vevents(const char *step, int fd, int wait_ms)
{
    uint8_t rec[8 * 40];
    char name[64];
    ssize_t n, off;
    int ready, i = 0;

    ready = host->ops->poll(host, fd, wait_ms);
    snprintf(name, sizeof(name), "%s-ready", step);
    obs(name, 0, "readable=%d", ready);
    if (!ready) {
        return;
    }
    n = host->ops->read(host, fd, rec, sizeof(rec));
    snprintf(name, sizeof(name), "%s-read", step);
    obs(name, n < 0 ? (int)n : 0, "bytes=%zd", n < 0 ? 0 : n);
    for (off = 0; n > 0 && off + 8 <= n; i++) {
        uint32_t flags, seq;

        memcpy(&flags, rec + off, 4);
        memcpy(&seq, rec + off + 4, 4);
        snprintf(name, sizeof(name), "%s-record%d", step, i);
        if (flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
            obs(name, 0, "flags=0x%x sequence=%u", flags, seq);
            off += 8;
            continue;
        }
        if (off + 40 > n) {
            obs(name, 0, "truncated");
            break;
        }
        {
            uint64_t e[4];

            memcpy(e, rec + off + 8, 32);
            /*
             * Word 1 low bits are the StreamID-independent STAG/flags;
             * word 3 is the fault's IPA, unknown for a stage-1 fault.
             */
            obs(name, 0, "flags=0x%x sequence=%u evt0=0x%016" PRIx64
                " evt1=0x%016" PRIx64 " evt2=0x%016" PRIx64, flags, seq,
                e[0], e[1], e[2]);
        }
        off += 40;
    }
}

static void case_dma_fault(void)
{
    uint32_t s1, vdev, q;
    Setup s;
    int fd, rc;

    if (setup_viommu(&s)) {
        return;
    }
    write_faulting_cd(0x180000);
    rc = vdevice_alloc(s.viommu, s.dev[0], 0x10, &vdev);
    res("vdevice", rc);
    rc = nested_alloc(s.dev[0], s.viommu, STE0_V | STE0_CFG(CFG_S1) |
                      STE0_S1CTXPTR(0x180000), 0, &s1);
    res("nested-s1", rc);
    rc = veventq_alloc(s.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 2, 0, &q,
                       &fd);
    res("veventq-depth-2", rc);
    if (rc) {
        return;
    }
    rc = attach(0, s1, NULL);
    res("attach-s1", rc);
    print_vevents("before-dma", fd, 0);
    rc = host->ops->dma_read(host, 0x7654000);
    res("dma-1", rc);
    /*
     * The SQE fetch is 16 faulting reads; when dma_read() returns, a
     * loaded host's event thread may have handled only some of them.
     * Read once all 16 are in: two queued, the rest lost.
     */
    usleep(500000);
    print_vevents("after-dma-1", fd, 2000);
    /* Three faults into a queue of two: the third is lost. */
    for (int i = 0; i < 3; i++) {
        char step[16];

        snprintf(step, sizeof(step), "dma-burst-%d", i);
        rc = host->ops->dma_read(host, 0x2345000 + i * 0x10000);
        res(step, rc);
    }
    /* Let the host's event thread handle all 48 before looking. */
    usleep(500000);
    print_vevents("after-burst", fd, 2000);
    print_vevents("after-drain", fd, 100);
    /* Bypass: the same DMA faults no more. */
    rc = nested_alloc(s.dev[0], s.viommu, STE0_V | STE0_CFG(CFG_BYPASS), 0,
                      &q);
    rc = rc ? rc : attach(0, q, NULL);
    res("replace-bypass", rc);
    rc = host->ops->dma_read(host, 0x7654000);
    res("dma-bypass", rc);
    print_vevents("after-dma-bypass", fd, 500);
    host->ops->close_fd(host, fd);
}

/*
 * The VINTF page0 a TEGRA241 vIOMMU hands out is MMIO (VM_IO | VM_PFNMAP):
 * an IOAS takes it without a domain, which only pins later, and a domain
 * cannot pin it. A VMM that maps its guest's RAM regions must skip it.
 */
static void hw_queue_page0_unpinnable(Setup *s,
                                      struct iommu_viommu_tegra241_cmdqv *d)
{
    uint64_t len = d->out_vintf_mmap_length;
    uint32_t ioas2, id;
    void *page0;
    int rc;

    rc = host->ops->mmap(host, len, d->out_vintf_mmap_offset, &page0);
    res("page0-mmap", rc);
    if (rc) {
        return;
    }
    {
        struct iommu_ioas_map m = {
            .size = sizeof(m), .flags = FIXED, .ioas_id = s->ioas,
            .user_va = (uintptr_t)page0, .length = len, .iova = 0x40000000,
        };

        rc = io(IOMMU_IOAS_MAP, &m);
        res("page0-map-with-domain", rc);
        if (!rc) {
            unmap(s->ioas, 0x40000000, &len);
        }
        rc = ioas_alloc(&ioas2);
        m.ioas_id = ioas2;
        rc = rc ? rc : io(IOMMU_IOAS_MAP, &m);
        res("page0-map-no-domain", rc);
        rc = hwpt_alloc(s->dev[0], ioas2, 0, IOMMU_HWPT_DATA_NONE, NULL, 0,
                        &id);
        res("page0-hwpt-on-it", rc);
        if (!rc) {
            destroy(id);
        }
        destroy(ioas2);
    }
    rc = host->ops->munmap(host, page0, d->out_vintf_mmap_length);
    res("page0-munmap", rc);
}

/*
 * Tegra241 CMDQV HW queues (hosts without a CMDQV stop at the vIOMMU).
 * Every queue is one page or less, so that its pages are contiguous on
 * a real host whatever the kernel's allocator did.
 */
static void case_hw_queue(void)
{
    struct iommu_viommu_tegra241_cmdqv data = { 0 };
    struct iommu_viommu_alloc va = {
        .size = sizeof(va), .type = IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
        .data_len = sizeof(data), .data_uptr = (uintptr_t)&data,
    };
    const uint32_t t = IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV;
    /* Each refused on its own (the queue below, the size, the base). */
    static const struct {
        const char *step;
        uint32_t type, index;
        uint64_t iova, len;
    } bad[] = {
        { "type-default", IOMMU_HW_QUEUE_TYPE_DEFAULT, 0, 0x100000, 4096 },
        { "index-1-first", IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 1, 0x100000,
          4096 },
        { "length-16", IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 0, 0x100000, 16 },
        { "length-not-pow2", IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 0,
          0x100000, 0x300 },
        { "base-unaligned", IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 0, 0x100010,
          32 },
        { "unmapped", IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 0, 0x40000000,
          4096 },
    };
    uint32_t q0, q1, id;
    Setup s;
    int rc;

    if (setup_viommu(&s)) {
        return;
    }
    rc = hw_queue_alloc(s.viommu, t, 0, 0x100000, 4096, &id);
    res("on-smmuv3-viommu", rc);
    va.dev_id = s.dev[0];
    va.hwpt_id = s.parent;
    rc = io(IOMMU_VIOMMU_ALLOC, &va);
    obs("cmdqv-viommu", rc, "mmap_length=0x%" PRIx64,
        (uint64_t)data.out_vintf_mmap_length);
    if (rc) {
        return;
    }
    hw_queue_page0_unpinnable(&s, &data);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rc = hw_queue_alloc(va.out_viommu_id, bad[i].type, bad[i].index,
                            bad[i].iova, bad[i].len, &id);
        res(bad[i].step, rc);
        if (!rc) {
            destroy(id);
        }
    }
    rc = hw_queue_alloc(va.out_viommu_id, t, 0, 0x100000, 4096, &q0);
    res("index-0", rc);
    rc = hw_queue_alloc(va.out_viommu_id, t, 0, 0x101000, 4096, &id);
    res("index-0-again", rc);
    rc = hw_queue_alloc(va.out_viommu_id, t, 2, 0x102000, 4096, &id);
    res("index-past-vintf", rc);
    rc = hw_queue_alloc(va.out_viommu_id, t, 1, 0x102000, 4096, &q1);
    res("index-1", rc);
    rc = destroy(va.out_viommu_id);
    res("destroy-viommu-busy", rc);
    rc = q0 ? destroy(q0) : -1;
    res("destroy-0-before-1", rc);
    rc = q1 ? destroy(q1) : -1;
    res("destroy-1", rc);
    rc = q0 ? destroy(q0) : -1;
    res("destroy-0", rc);
    rc = destroy(va.out_viommu_id);
    res("destroy-viommu", rc);
}

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    { "size-rules", case_size_rules },
    { "ids", case_ids },
    { "hw-info", case_hw_info },
    { "iova-ranges", case_iova_ranges },
    { "map-rules", case_map_rules },
    { "map-reserved", case_map_reserved },
    { "attach-over-reserved", case_attach_over_reserved },
    { "copy", case_copy },
    { "hwpt-alloc", case_hwpt_alloc },
    { "viommu-alloc", case_viommu_alloc },
    { "vste", case_vste },
    { "nested-attach", case_nested_attach },
    { "vdevice", case_vdevice },
    { "invalidate", case_invalidate },
    { "veventq", case_veventq },
    { "attach-rules", case_attach_rules },
    { "option", case_option },
    { "dma-fault", case_dma_fault },
    { "hw-queue", case_hw_queue },
};

int conf_run(ConfHost *h, const char *filter)
{
    int rc, ran = 0;

    host = h;
    buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memset(buf, 0x5a, BUF_SIZE);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (filter && strncmp(cases[i].name, filter, strlen(filter))) {
            continue;
        }
        case_name = cases[i].name;
        rc = h->ops->open(h);
        if (rc) {
            res("open", rc);
            return 1;
        }
        cases[i].fn();
        fflush(stdout);
        h->ops->close(h);
        ran++;
    }
    fprintf(stderr, "conformance: %d cases on %s\n", ran, h->name);
    return ran ? 0 : 1;
}
