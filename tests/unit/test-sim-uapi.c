/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim uAPI rules, one assertion per rule with its errno beside
 * the call (host-iommufd-semantics.md, Linux 7.2). The fixture is a
 * Grace-like host with one device (pSID 0x100) bound on SMMU 0, an IOAS
 * with 2 MiB of "guest RAM" at IOVA 1 GiB, a NEST_PARENT HWPT, an
 * ARM_SMMUV3 vIOMMU and a vDEVICE with vSID 0x42.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim-test-util.h"

typedef struct Fixture {
    IommufdSim *s;
    uint8_t *buf;
    uint32_t dev, dev2, ioas, s2, viommu, vdev;
} Fixture;

static Fixture f;

#define PSID        0x100
#define VSID        0x42

static void setup_cfg(const IommufdSimConfig *cfg)
{
    uint64_t iova = T_GPA_BASE;

    memset(&f, 0, sizeof(f));
    f.s = iommufd_sim_new(cfg);
    f.buf = t_buf_alloc(T_BUF_SIZE);
    ck_assert_int_eq(iommufd_sim_bind(f.s, 0, PSID, &f.dev), 0);
    ck_assert_int_eq(iommufd_sim_bind(f.s, 0, PSID + 1, &f.dev2), 0);
    ck_assert_int_eq(t_ioas_alloc(f.s, &f.ioas), 0);
    ck_assert_int_eq(t_map(f.s, f.ioas, f.buf, T_BUF_SIZE, &iova,
                           T_MAP_FIXED), 0);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.ioas,
                                  IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0,
                                  &f.s2), 0);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, f.dev,
                                    f.s2, NULL, 0, &f.viommu), 0);
    ck_assert_int_eq(t_vdev_alloc(f.s, f.viommu, f.dev, VSID, &f.vdev), 0);
}

static void setup(void)
{
    setup_cfg(NULL);
}

static void teardown(void)
{
    iommufd_sim_free(f.s);
    munmap(f.buf, T_BUF_SIZE);
}

/* ---- general rules ---- */

START_TEST(test_general_size_rules)
{
    struct {
        struct iommu_ioas_alloc a;
        uint32_t tail[2];
    } big = { .a = { .size = sizeof(big) } };
    struct iommu_ioas_alloc small = { .size = 8 };
    uint32_t id;

    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_ALLOC, &small),
                     -EINVAL);
    big.tail[1] = 1;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_ALLOC, &big), -E2BIG);
    big.tail[1] = 0;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_ALLOC, &big), 0);
    ck_assert_uint_ne(big.a.out_ioas_id, 0);
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, _IO(IOMMUFD_TYPE, 0xa0), &big),
                     -ENOTTY);
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, _IO('x', 0x81), &big), -ENOTTY);
    ck_assert_int_eq(t_destroy(f.s, 9999), -ENOENT);
    /* an id of the wrong type: ENOENT */
    ck_assert_int_eq(t_map_fixed(f.s, f.s2, f.buf, T_PAGE, 0x1000), -ENOENT);
    /* but HWPT_ALLOC's pt_id: EINVAL */
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.vdev, 0, 0, NULL, 0, &id),
                     -EINVAL);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, 9999, 0, 0, NULL, 0, &id),
                     -EINVAL);
    /* a bound device is held by its binding */
    ck_assert_int_eq(t_destroy(f.s, f.dev), -EBUSY);
}
END_TEST

START_TEST(test_ids_lowest_free)
{
    uint32_t a, b, c;

    ck_assert_int_eq(t_ioas_alloc(f.s, &a), 0);
    ck_assert_int_eq(t_ioas_alloc(f.s, &b), 0);
    ck_assert_uint_eq(b, a + 1);
    ck_assert_int_eq(t_destroy(f.s, a), 0);
    ck_assert_int_eq(t_ioas_alloc(f.s, &c), 0);
    ck_assert_uint_eq(c, a);                    /* xarray: lowest free */
}
END_TEST

/* ---- GET_HW_INFO ---- */

static int hw_info(uint32_t dev, uint32_t flags, uint32_t type, void *data,
                   uint32_t *len, uint32_t *out_type)
{
    struct iommu_hw_info h = {
        .size = sizeof(h), .flags = flags, .dev_id = dev, .data_len = *len,
        .data_uptr = (uintptr_t)data, .in_data_type = type,
    };
    int rc = iommufd_sim_ioctl(f.s, IOMMU_GET_HW_INFO, &h);

    *len = h.data_len;
    *out_type = h.out_data_type;
    return rc;
}

START_TEST(test_hw_info)
{
    struct iommu_hw_info_arm_smmuv3 arm;
    struct iommu_hw_info_tegra241_cmdqv tegra;
    struct iommu_hw_info h = { .size = sizeof(h), .dev_id = f.dev };
    uint8_t big[64];
    uint32_t len, type;

    h.flags = 2;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_GET_HW_INFO, &h),
                     -EOPNOTSUPP);
    h.flags = 0;
    h.__reserved[1] = 1;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_GET_HW_INFO, &h),
                     -EOPNOTSUPP);
    len = sizeof(arm);
    ck_assert_int_eq(hw_info(999, 0, 0, &arm, &len, &type), -ENOENT);

    len = sizeof(arm);
    ck_assert_int_eq(hw_info(f.dev, 0, 0, &arm, &len, &type), 0);
    ck_assert_uint_eq(type, IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
    ck_assert_uint_eq(len, sizeof(arm));
    ck_assert_uint_eq((arm.idr[0] >> 27) & 3, 1);      /* 2-level ST */
    ck_assert_uint_eq(arm.idr[0] & 3, 3);              /* S1P | S2P */
    ck_assert_uint_eq(arm.idr[5] & 7, 5);              /* 48-bit OAS */
    ck_assert_uint_eq((arm.idr[1] >> 6) & 0x1f, 20);   /* SSIDSIZE */
    ck_assert(arm.idr[3] & (1u << 10));                /* RIL */
    ck_assert_uint_ne(arm.aidr, 0);

    /* a bigger buffer: trailing bytes zeroed, kernel length written back */
    memset(big, 0xaa, sizeof(big));
    len = sizeof(big);
    ck_assert_int_eq(hw_info(f.dev, 0, 0, big, &len, &type), 0);
    ck_assert_uint_eq(len, sizeof(arm));
    ck_assert_uint_eq(big[sizeof(arm)], 0);
    ck_assert_uint_eq(big[sizeof(big) - 1], 0);
    /* a smaller one: only that much is copied */
    memset(big, 0xaa, sizeof(big));
    len = 8;
    ck_assert_int_eq(hw_info(f.dev, 0, 0, big, &len, &type), 0);
    ck_assert_uint_eq(len, sizeof(arm));
    ck_assert_uint_eq(big[8], 0xaa);
    /* data_len 0 is legal */
    len = 0;
    ck_assert_int_eq(hw_info(f.dev, 0, 0, NULL, &len, &type), 0);
    ck_assert_uint_eq(len, sizeof(arm));

    /* without INPUT_TYPE the type is DEFAULT */
    len = sizeof(arm);
    ck_assert_int_eq(hw_info(f.dev, 0, IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV,
                             &arm, &len, &type), 0);
    ck_assert_uint_eq(type, IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
    len = sizeof(tegra);
    ck_assert_int_eq(hw_info(f.dev, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
                             IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, &tegra, &len,
                             &type), 0);
    ck_assert_uint_eq(type, IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV);
    ck_assert_uint_eq(len, sizeof(tegra));
    ck_assert_uint_eq(tegra.log2vcmdqs, 1);
    ck_assert_uint_eq(tegra.log2vsids, 4);
    len = sizeof(arm);
    ck_assert_int_eq(hw_info(f.dev, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
                             IOMMU_HW_INFO_TYPE_ARM_SMMUV3, &arm, &len,
                             &type), 0);
    ck_assert_int_eq(hw_info(f.dev, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
                             IOMMU_HW_INFO_TYPE_INTEL_VTD, &arm, &len,
                             &type), -EOPNOTSUPP);
}
END_TEST

START_TEST(test_hw_info_no_cmdqv)
{
    IommufdSimConfig cfg = { .no_cmdqv = true };
    struct iommu_hw_info_tegra241_cmdqv tegra;
    struct iommu_viommu_tegra241_cmdqv data;
    uint32_t len = sizeof(tegra), type, id;

    teardown();
    setup_cfg(&cfg);
    ck_assert_int_eq(hw_info(f.dev, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
                             IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, &tegra, &len,
                             &type), -EOPNOTSUPP);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    f.dev, f.s2, &data, sizeof(data), &id),
                     -EOPNOTSUPP);
}
END_TEST

/* The SID slots per VINTF are what was asked, one included. */
START_TEST(test_hw_info_vsids)
{
    static const struct {
        unsigned vsids;
        int log2;               /* -1: the configuration is refused */
    } cases[] = {
        { 0, 4 }, { 1, 0 }, { 2, 1 }, { 16, 4 }, { 3, -1 }, { 32, -1 },
    };
    struct iommu_hw_info_tegra241_cmdqv tegra;
    uint32_t len, type;
    unsigned i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        IommufdSimConfig cfg = { .cmdqv_vsids = cases[i].vsids };
        IommufdSim *s = iommufd_sim_new(&cfg);

        if (cases[i].log2 < 0) {
            ck_assert_ptr_null(s);
            continue;
        }
        ck_assert_ptr_nonnull(s);
        teardown();
        setup_cfg(&cfg);
        iommufd_sim_free(s);
        len = sizeof(tegra);
        ck_assert_int_eq(hw_info(f.dev, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
                                 IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, &tegra,
                                 &len, &type), 0);
        ck_assert_uint_eq(tegra.log2vsids, cases[i].log2);
    }
}
END_TEST

/* ---- IOAS ---- */

START_TEST(test_ioas_map_unmap)
{
    uint8_t *mem = t_buf_alloc(16 * T_PAGE);
    uint64_t iova, len;
    uint32_t ioas;

    ck_assert_int_eq(t_ioas_alloc(f.s, &ioas), 0);
    iova = 0x100000;
    ck_assert_int_eq(t_map(f.s, ioas, mem, T_PAGE, &iova, 1u << 5 |
                           T_MAP_FIXED), -EOPNOTSUPP);
    ck_assert_int_eq(t_map(f.s, ioas, mem, T_PAGE, &iova,
                           IOMMU_IOAS_MAP_FIXED_IOVA), -EINVAL);
    /* With no domain on the IOAS the kernel's IOVA alignment is 1 byte. */
    ck_assert_int_eq(t_map_fixed(f.s, ioas, mem, 100, 0x100800), 0);
    len = 100;
    ck_assert_int_eq(t_unmap(f.s, ioas, 0x100800, &len), 0);
    ck_assert_uint_eq(len, 100);
    ck_assert_int_eq(t_map_fixed(f.s, 999, mem, T_PAGE, 0x100000), -ENOENT);
    ck_assert_int_eq(t_map_fixed(f.s, ioas, mem, 4 * T_PAGE, 0x100000), 0);
    ck_assert_int_eq(t_map_fixed(f.s, ioas, mem, T_PAGE, 0x103000), -EEXIST);
    ck_assert_int_eq(t_map_fixed(f.s, ioas, mem, 2 * T_PAGE, 0xff000),
                     -EEXIST);
    ck_assert_int_eq(t_map_fixed(f.s, ioas, mem + 4 * T_PAGE, T_PAGE,
                                 0x104000), 0);
    /* allocated IOVA: aligned, not overlapping */
    iova = 0;
    ck_assert_int_eq(t_map(f.s, ioas, mem + 8 * T_PAGE, 2 * T_PAGE, &iova,
                           T_MAP_RW), 0);
    ck_assert_uint_ne(iova, 0);
    ck_assert_uint_eq(iova & (T_PAGE - 1), 0);
    ck_assert(iova + 2 * T_PAGE <= 0x100000 || iova >= 0x105000);

    /* unmap that splits a mapping: ENOENT */
    len = T_PAGE;
    ck_assert_int_eq(t_unmap(f.s, ioas, 0x101000, &len), -ENOENT);
    len = T_PAGE;
    ck_assert_int_eq(t_unmap(f.s, ioas, 0x200000, &len), -ENOENT);
    len = 0;
    ck_assert_int_eq(t_unmap(f.s, ioas, 0x100000, &len), -EINVAL);
    /* two whole areas at once, length written back */
    len = 5 * T_PAGE;
    ck_assert_int_eq(t_unmap(f.s, ioas, 0x100000, &len), 0);
    ck_assert_uint_eq(len, 5 * T_PAGE);
    /* unmap all */
    len = UINT64_MAX;
    ck_assert_int_eq(t_unmap(f.s, ioas, 0, &len), 0);
    ck_assert_uint_eq(len, 2 * T_PAGE);
    len = UINT64_MAX;
    ck_assert_int_eq(t_unmap(f.s, ioas, 0, &len), 0);
    ck_assert_uint_eq(len, 0);
    munmap(mem, 16 * T_PAGE);
}
END_TEST

START_TEST(test_ioas_copy_ranges_option)
{
    struct iommu_iova_range ranges[2];
    struct iommu_ioas_iova_ranges r = {
        .size = sizeof(r), .ioas_id = f.ioas, .num_iovas = 0,
        .allowed_iovas = (uintptr_t)ranges,
    };
    struct iommu_ioas_copy c = {
        .size = sizeof(c), .flags = T_MAP_FIXED, .src_ioas_id = f.ioas,
        .src_iova = T_GPA_BASE, .dst_iova = 0x200000, .length = 2 * T_PAGE,
    };
    struct iommu_option o = {
        .size = sizeof(o), .option_id = IOMMU_OPTION_HUGE_PAGES,
        .op = IOMMU_OPTION_OP_GET, .object_id = f.ioas,
    };
    uint32_t ioas2, pt;
    uint64_t len;

    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_IOVA_RANGES, &r),
                     -EMSGSIZE);
    /* The fixture's NEST_PARENT domain bounds the IOAS by its aperture. */
    ck_assert_uint_eq(r.num_iovas, 1);
    /* An attached device reserves its software MSI window: a hole. */
    pt = f.s2;
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev, &pt), 0);
    r.num_iovas = 0;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_IOVA_RANGES, &r),
                     -EMSGSIZE);
    ck_assert_uint_eq(r.num_iovas, 2);
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_IOVA_RANGES, &r), 0);
    ck_assert_uint_eq(ranges[0].start, 0);
    ck_assert_uint_eq(ranges[0].last, 0x7ffffff);
    ck_assert_uint_eq(ranges[1].start, 0x8100000);
    ck_assert_uint_eq(r.out_iova_alignment, T_PAGE);

    ck_assert_int_eq(t_ioas_alloc(f.s, &ioas2), 0);
    c.dst_ioas_id = ioas2;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_COPY, &c), 0);
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_COPY, &c), -EEXIST);
    c.src_iova = 0x1000;
    c.dst_iova = 0x300000;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_COPY, &c), -ENOENT);
    len = 2 * T_PAGE;
    ck_assert_int_eq(t_unmap(f.s, ioas2, 0x200000, &len), 0);

    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_OPTION, &o), 0);
    ck_assert_uint_eq(o.val64, 1);
    o.op = IOMMU_OPTION_OP_SET;
    o.val64 = 0;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_OPTION, &o), 0);
    o.op = IOMMU_OPTION_OP_GET;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_OPTION, &o), 0);
    ck_assert_uint_eq(o.val64, 0);
    o.op = IOMMU_OPTION_OP_SET;
    o.val64 = 2;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_OPTION, &o), -EINVAL);
    o.object_id = f.s2;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_OPTION, &o), -ENOENT);
    o.option_id = IOMMU_OPTION_RLIMIT_MODE;
    o.object_id = 0;
    o.op = IOMMU_OPTION_OP_GET;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_OPTION, &o), 0);
    o.op = IOMMU_OPTION_OP_SET;
    o.val64 = 1;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_OPTION, &o), -EBUSY);
    o.option_id = 7;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_OPTION, &o), -EOPNOTSUPP);
}
END_TEST

START_TEST(test_ioas_map_file)
{
    int fd = memfd_create("sim-test", 0);
    struct iommu_ioas_map_file m = {
        .size = sizeof(m), .flags = T_MAP_FIXED, .ioas_id = f.ioas,
        .fd = fd, .start = 0, .length = 4 * T_PAGE, .iova = 0x800000,
    };
    IommufdSimTranslation t;
    uint32_t hwpt;
    uint64_t len = 4 * T_PAGE;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 4 * T_PAGE), 0);
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_MAP_FILE, &m), 0);
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_MAP_FILE, &m),
                     -EEXIST);
    m.fd = -1;
    m.iova = 0x900000;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_MAP_FILE, &m),
                     -EBADF);
    /* the file pages are what a device behind the IOAS reaches */
    hwpt = f.ioas;
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev2, &hwpt), 0);
    ck_assert_int_eq(pwrite(fd, "hello", 5, T_PAGE), 5);
    ck_assert_int_eq(iommufd_sim_translate(f.s, f.dev2, false, 0,
                                           0x800000 + T_PAGE,
                                           IOMMUFD_SIM_READ, &t), 0);
    ck_assert_mem_eq(t.hva, "hello", 5);
    ck_assert_int_eq(t_unmap(f.s, f.ioas, 0x800000, &len), 0);
    close(fd);
}
END_TEST

/* ---- HWPT_ALLOC ---- */

START_TEST(test_hwpt_alloc_order)
{
    struct iommu_hwpt_arm_smmuv3 d = {
        .ste = { STE0_V | STE0_CFG(STE_CFG_BYPASS), 0 },
    };
    struct iommu_hwpt_alloc a = {
        .size = sizeof(a), .dev_id = f.dev, .pt_id = f.ioas,
    };
    uint32_t id, paging;

    /* __reserved first */
    a.__reserved = 1;
    a.dev_id = 999;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_ALLOC, &a),
                     -EOPNOTSUPP);
    a.__reserved = 0;
    /* data_type NONE with data_len, or a type without: EINVAL */
    a.data_len = 16;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_ALLOC, &a), -EINVAL);
    a.data_len = 0;
    a.data_type = IOMMU_HWPT_DATA_ARM_SMMUV3;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_ALLOC, &a), -EINVAL);
    a.data_type = 0;
    /* then the device */
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_ALLOC, &a), -ENOENT);
    a.dev_id = f.dev;
    /* then pt_id: EINVAL, not ENOENT */
    a.pt_id = 999;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_ALLOC, &a), -EINVAL);

    /* paging on an IOAS */
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.ioas, 1u << 7, 0, NULL, 0,
                                  &id), -EOPNOTSUPP);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.ioas,
                                  IOMMU_HWPT_ALLOC_NEST_PARENT |
                                  IOMMU_HWPT_FAULT_ID_VALID, 0, NULL, 0,
                                  &id), -EOPNOTSUPP);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.ioas,
                                  IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0, NULL, 0,
                                  &id), -EOPNOTSUPP);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.ioas, 0,
                                  IOMMU_HWPT_DATA_ARM_SMMUV3, &d, sizeof(d),
                                  &id), -EOPNOTSUPP);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.ioas, 0, 0, NULL, 0,
                                  &paging), 0);
    /* the paging HWPT holds the IOAS */
    ck_assert_int_eq(t_destroy(f.s, f.ioas), -EBUSY);

    /* pt_id a paging HWPT: arm-smmu-v3 has no domain_alloc_nested */
    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, f.s2, d.ste[0], 0, &id),
                     -EOPNOTSUPP);
    /* pt_id a vIOMMU */
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.viommu, 0,
                                  IOMMU_HWPT_DATA_ARM_SMMUV3, &d, 8, &id),
                     -EINVAL);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.viommu, 0,
                                  IOMMU_HWPT_DATA_ARM_SMMUV3, &d, 24, &id),
                     -EINVAL);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.viommu, 0,
                                  IOMMU_HWPT_DATA_VTD_S1, &d, sizeof(d), &id),
                     -EINVAL);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.viommu, 0,
                                  IOMMU_HWPT_DATA_ARM_SMMUV3, NULL, sizeof(d),
                                  &id), -EFAULT);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.viommu,
                                  IOMMU_HWPT_ALLOC_NEST_PARENT,
                                  IOMMU_HWPT_DATA_ARM_SMMUV3, &d, sizeof(d),
                                  &id), -EOPNOTSUPP);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.viommu, 0, 0, NULL, 0, &id),
                     -EOPNOTSUPP);
    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, f.viommu, d.ste[0], 0, &id),
                     0);
    /* pt_id a nested HWPT: EINVAL */
    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, id, d.ste[0], 0, &id),
                     -EINVAL);
    /* the nested HWPT holds the vIOMMU */
    ck_assert_int_eq(t_destroy(f.s, f.viommu), -EBUSY);
}
END_TEST

START_TEST(test_hwpt_parent_nesting)
{
    IommufdSimConfig cfg = { .parent_nesting = true };
    uint64_t ste0 = STE0_V | STE0_CFG(STE_CFG_BYPASS);
    uint32_t id, plain, nested, ioas = 0;

    teardown();
    setup_cfg(&cfg);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.ioas, 0, 0, NULL, 0, &plain),
                     0);
    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, plain, ste0, 0, &id),
                     -EINVAL);                 /* not NEST_PARENT */
    ioas = f.ioas;
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev2, &ioas), 0);
    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, ioas, ste0, 0, &id),
                     -EINVAL);                 /* auto domain */
    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, f.s2, ste0, 0, &nested), 0);
    ck_assert_int_eq(t_destroy(f.s, f.s2), -EBUSY);
    ck_assert_int_eq(t_destroy(f.s, nested), 0);
}
END_TEST

typedef struct VsteCase {
    uint64_t ste0, ste1;
    int rc;
} VsteCase;

static const VsteCase vste_cases[] = {
    /* V=0: accepted, becomes abort */
    { 0, 0, 0 },
    { STE0_CFG(7) | (1ull << 60), 1ull << 63, 0 },
    { STE0_V | STE0_CFG(STE_CFG_ABORT), 0, 0 },
    { STE0_V | STE0_CFG(STE_CFG_BYPASS), 0, 0 },
    { STE0_V | STE0_CFG(STE_CFG_S1) | 0x40000000ull, STE1_EATS(1), 0 },
    { STE0_V | STE0_CFG(STE_CFG_S1) | (3ull << 4) | (20ull << 59), 0xff, 0 },
    { STE0_V | STE0_CFG(STE_CFG_S1), 1ull << 27, 0 },
    /* outside the masks: EIO */
    { STE0_V | STE0_CFG(STE_CFG_S1) | (1ull << 52), 0, -EIO },
    { STE0_V | STE0_CFG(STE_CFG_S1), 1ull << 8, -EIO },
    { STE0_V | STE0_CFG(STE_CFG_S1), 1ull << 30, -EIO },
    /* Config not abort/bypass/S1: EIO */
    { STE0_V | STE0_CFG(6), 0, -EIO },
    { STE0_V | STE0_CFG(7), 0, -EIO },
    { STE0_V | STE0_CFG(1), 0, -EIO },
    /* EATS must be 0 or 1 */
    { STE0_V | STE0_CFG(STE_CFG_S1), STE1_EATS(2), -EIO },
    { STE0_V | STE0_CFG(STE_CFG_S1), STE1_EATS(3), -EIO },
};

START_TEST(test_vste_validation)
{
    const VsteCase *c = &vste_cases[_i];
    uint32_t id;

    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, f.viommu, c->ste0, c->ste1,
                                    &id), c->rc);
}
END_TEST

/* ---- attach ---- */

START_TEST(test_attach_rules)
{
    IommufdSimDeviceInfo info;
    uint32_t s1, abort_pt, bypass, pt, vdev2;

    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, f.viommu,
                                    STE0_V | STE0_CFG(STE_CFG_S1) | T_GPA_BASE,
                                    0, &s1), 0);
    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, f.viommu,
                                    STE0_V | STE0_CFG(STE_CFG_ABORT), 0,
                                    &abort_pt), 0);
    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, f.viommu,
                                    STE0_V | STE0_CFG(STE_CFG_BYPASS), 0,
                                    &bypass), 0);
    /* S1-translate needs a vDEVICE: ENOENT */
    pt = s1;
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev2, &pt), -ENOENT);
    /* abort and bypass do not */
    pt = abort_pt;
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev2, &pt), 0);
    ck_assert_int_eq(iommufd_sim_query_device(f.s, f.dev2, &info), 0);
    ck_assert(!info.vmaster);
    ck_assert_str_eq(info.attached_kind, "nested");
    pt = bypass;
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev2, &pt), 0);
    ck_assert_int_eq(iommufd_sim_query_device(f.s, f.dev2, &info), 0);
    ck_assert_uint_eq((info.ste[0] >> 1) & 7, 6);       /* plain S2 */
    /* with a vDEVICE: vmaster captured, physical STE nested with MEV */
    ck_assert_int_eq(t_vdev_alloc(f.s, f.viommu, f.dev2, 0x77, &vdev2), 0);
    pt = s1;
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev2, &pt), 0);
    ck_assert_int_eq(iommufd_sim_query_device(f.s, f.dev2, &info), 0);
    ck_assert(info.vmaster);
    ck_assert_uint_eq(info.vsid, 0x77);
    ck_assert_uint_eq((info.ste[0] >> 1) & 7, 7);       /* nested */
    ck_assert(info.ste[1] & (1ull << 19));              /* MEV */
    /* a HWPT with attached devices is busy */
    ck_assert_int_eq(t_destroy(f.s, s1), -EBUSY);
    /* any non-nested attach clears the vmaster */
    pt = f.ioas;
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev2, &pt), 0);
    ck_assert_uint_ne(pt, f.ioas);                      /* auto domain */
    ck_assert_int_eq(iommufd_sim_query_device(f.s, f.dev2, &info), 0);
    ck_assert(!info.vmaster);
    ck_assert_str_eq(info.attached_kind, "paging");
    ck_assert_int_eq(t_destroy(f.s, s1), 0);
    ck_assert_int_eq(t_destroy(f.s, f.ioas), -EBUSY);
    /* detach: the auto domain goes with its last device */
    ck_assert_int_eq(iommufd_sim_detach(f.s, f.dev2), 0);
    ck_assert_int_eq(t_destroy(f.s, pt), -ENOENT);
    ck_assert_int_eq(iommufd_sim_query_device(f.s, f.dev2, &info), 0);
    ck_assert_uint_eq(info.attached_id, 0);
    ck_assert_uint_eq(info.ste[0], 0);
    /* wrong object type, missing object */
    pt = f.viommu;
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev2, &pt), -EINVAL);
    pt = 999;
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev2, &pt), -ENOENT);
}
END_TEST

START_TEST(test_attach_other_smmu)
{
    IommufdSimConfig cfg = { .num_smmus = 2 };
    uint32_t dev_b, pt, id, s2b;

    teardown();
    setup_cfg(&cfg);
    ck_assert_int_eq(iommufd_sim_bind(f.s, 1, PSID, &dev_b), 0);
    ck_assert_int_eq(iommufd_sim_bind(f.s, 2, PSID, &id), -ENODEV);
    ck_assert_int_eq(iommufd_sim_bind(f.s, 1, PSID, &id), -EBUSY);
    pt = f.s2;
    ck_assert_int_eq(iommufd_sim_attach(f.s, dev_b, &pt), -EINVAL);
    ck_assert_int_eq(t_vdev_alloc(f.s, f.viommu, dev_b, 5, &id), -EINVAL);
    ck_assert_int_eq(t_hwpt_alloc(f.s, dev_b, f.viommu, 0,
                                  IOMMU_HWPT_DATA_ARM_SMMUV3, &id, 16, &id),
                     -EINVAL);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, dev_b,
                                    f.s2, NULL, 0, &id), -EINVAL);
    ck_assert_int_eq(t_hwpt_alloc(f.s, dev_b, f.ioas,
                                  IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0,
                                  &s2b), 0);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, dev_b,
                                    s2b, NULL, 0, &id), 0);
}
END_TEST

/* ---- VIOMMU_ALLOC ---- */

START_TEST(test_viommu_alloc)
{
    struct iommu_viommu_alloc a = {
        .size = sizeof(a), .type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
        .dev_id = f.dev, .hwpt_id = f.s2, .flags = 1,
    };
    struct iommu_viommu_tegra241_cmdqv data = { 0 };
    uint32_t id, plain;

    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_VIOMMU_ALLOC, &a),
                     -EOPNOTSUPP);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_DEFAULT, f.dev,
                                    f.s2, NULL, 0, &id), -EOPNOTSUPP);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 999,
                                    f.s2, NULL, 0, &id), -ENOENT);
    ck_assert_int_eq(t_viommu_alloc(f.s, 77, f.dev, f.s2, NULL, 0, &id),
                     -EOPNOTSUPP);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, f.dev,
                                    f.ioas, NULL, 0, &id), -ENOENT);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, f.ioas, 0, 0, NULL, 0, &plain),
                     0);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, f.dev,
                                    plain, NULL, 0, &id), -EINVAL);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    f.dev, f.s2, NULL, 0, &id), -EINVAL);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    f.dev, f.s2, &data, 8, &id), -EINVAL);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    f.dev, f.s2, &data, sizeof(data), &id),
                     0);
    ck_assert_uint_eq(data.out_vintf_mmap_length, 0x10000);
    ck_assert_uint_ne(data.out_vintf_mmap_offset, 0);
    /* the parent is held by its vIOMMUs */
    ck_assert_int_eq(t_destroy(f.s, f.s2), -EBUSY);
}
END_TEST

/* A fresh host of @cfg with one bound device and an empty IOAS. */
static void setup_bare(const IommufdSimConfig *cfg, uint32_t *dev,
                       uint32_t *ioas)
{
    teardown();
    memset(&f, 0, sizeof(f));
    f.s = iommufd_sim_new(cfg);
    f.buf = t_buf_alloc(T_BUF_SIZE);
    ck_assert_int_eq(iommufd_sim_bind(f.s, 0, 1, dev), 0);
    ck_assert_int_eq(t_ioas_alloc(f.s, ioas), 0);
}

START_TEST(test_viommu_no_nesting)
{
    IommufdSimConfig cfg = { .override_idr = true };
    uint32_t dev, ioas, s2, id;

    cfg.idr[0] = (1u << 27) | (2u << 2) | 1;    /* S2 only */
    cfg.idr[1] = 16;
    cfg.idr[5] = 5 | (1u << 4);
    setup_bare(&cfg, &dev, &ioas);
    ck_assert_int_eq(t_hwpt_alloc(f.s, dev, ioas,
                                  IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0,
                                  &s2), -EOPNOTSUPP);
    ck_assert_int_eq(t_hwpt_alloc(f.s, dev, ioas, 0, 0, NULL, 0, &s2), 0);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, dev,
                                    s2, NULL, 0, &id), -EOPNOTSUPP);
}
END_TEST

/* Nesting needs a CANWBS device or S2FWB (arm_smmu_get_viommu_size). */
START_TEST(test_viommu_canwbs_or_fwb)
{
    IommufdSimConfig cfg = { .no_canwbs = true };
    uint32_t dev, ioas, s2, id;
    int fwb;

    for (fwb = 0; fwb <= 1; fwb++) {
        if (fwb) {
            /* Grace's IDRs but IDR3.FWB */
            cfg.override_idr = true;
            cfg.idr[0] = (1u << 27) | (2u << 2) | 3;    /* S1P, S2P */
            cfg.idr[1] = 16;
            cfg.idr[3] = (1u << 10) | (1u << 8);        /* RIL, FWB */
            cfg.idr[5] = 5 | (1u << 4);
        }
        setup_bare(&cfg, &dev, &ioas);
        ck_assert_int_eq(t_hwpt_alloc(f.s, dev, ioas,
                                      IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL,
                                      0, &s2), 0);
        /* Grace has no FWB: a device that is not CANWBS cannot nest */
        ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, dev,
                                        s2, NULL, 0, &id),
                         fwb ? 0 : -EOPNOTSUPP);
    }
}
END_TEST

START_TEST(test_viommu_tegra_enospc)
{
    IommufdSimConfig cfg = { .cmdqv_log2_vintfs = 1 };  /* VINTF0 + 1 */
    struct iommu_viommu_tegra241_cmdqv data;
    uint32_t a, b;

    teardown();
    setup_cfg(&cfg);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    f.dev, f.s2, &data, sizeof(data), &a), 0);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    f.dev, f.s2, &data, sizeof(data), &b),
                     -ENOSPC);
    ck_assert_int_eq(t_destroy(f.s, a), 0);
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    f.dev, f.s2, &data, sizeof(data), &b), 0);
}
END_TEST

/* ---- VDEVICE_ALLOC ---- */

START_TEST(test_vdevice_alloc)
{
    struct iommu_viommu_tegra241_cmdqv data;
    uint32_t id, tv, last, devs[17];
    unsigned i;

    ck_assert_int_eq(t_vdev_alloc(f.s, 999, f.dev2, 1, &id), -ENOENT);
    ck_assert_int_eq(t_vdev_alloc(f.s, f.viommu, 999, 1, &id), -ENOENT);
    ck_assert_int_eq(t_vdev_alloc(f.s, f.s2, f.dev2, 1, &id), -ENOENT);
    /* the device already has a vDEVICE: EEXIST */
    ck_assert_int_eq(t_vdev_alloc(f.s, f.viommu, f.dev, 1, &id), -EEXIST);
    /* the virt_id is taken on this vIOMMU: EEXIST */
    ck_assert_int_eq(t_vdev_alloc(f.s, f.viommu, f.dev2, VSID, &id),
                     -EEXIST);
    ck_assert_int_eq(t_vdev_alloc(f.s, f.viommu, f.dev2, VSID + 1, &id), 0);
    /* the vDEVICE holds the vIOMMU */
    ck_assert_int_eq(t_destroy(f.s, f.viommu), -EBUSY);
    ck_assert_int_eq(t_destroy(f.s, id), 0);
    ck_assert_int_eq(t_destroy(f.s, id), -ENOENT);

    /* TEGRA241: SID slots */
    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    f.dev2, f.s2, &data, sizeof(data), &tv),
                     0);
    ck_assert_int_eq(t_vdev_alloc(f.s, tv, f.dev2, 0x100000, &id), -EINVAL);
    for (i = 0; i < 17; i++) {
        ck_assert_int_eq(iommufd_sim_bind(f.s, 0, 0x200 + i, &devs[i]), 0);
    }
    for (i = 0; i < 16; i++) {
        ck_assert_int_eq(t_vdev_alloc(f.s, tv, devs[i], 0x10 + i, &last), 0);
    }
    ck_assert_int_eq(t_vdev_alloc(f.s, tv, devs[16], 0x10, &id), -EEXIST);
    ck_assert_int_eq(t_vdev_alloc(f.s, tv, devs[16], 0x30, &id), -ENOSPC);
    ck_assert_int_eq(t_destroy(f.s, last), 0);  /* frees slot 15 */
    ck_assert_int_eq(t_vdev_alloc(f.s, tv, devs[16], 0x30, &id), 0);
}
END_TEST

START_TEST(test_vdevice_tegra_sid_regs)
{
    struct iommu_viommu_tegra241_cmdqv data;
    uint32_t tv, id, match, repl;
    bool found = false;
    unsigned v, s;

    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    f.dev2, f.s2, &data, sizeof(data), &tv),
                     0);
    ck_assert_int_eq(t_vdev_alloc(f.s, tv, f.dev2, 0x33, &id), 0);
    for (v = 1; v < 64 && !found; v++) {
        for (s = 0; s < 16; s++) {
            uint64_t base = 0x1000 + 0x100 * v;

            match = sim_cmdqv_read_reg(iommufd_sim_cmdqv_hw(f.s, 0),
                                       base + 0x40 + 4 * s);
            repl = sim_cmdqv_read_reg(iommufd_sim_cmdqv_hw(f.s, 0),
                                      base + 0x80 + 4 * s);
            if (match) {
                ck_assert_uint_eq(match, (0x33u << 1) | 1);
                ck_assert_uint_eq(repl, PSID + 1);
                found = true;
                break;
            }
        }
    }
    ck_assert(found);
}
END_TEST

/* ---- HWPT_INVALIDATE ---- */

typedef struct Trace {
    unsigned n;
    uint64_t cmd[256][2];
} Trace;

static Trace trace;

static void trace_cb(void *opaque, unsigned smmu, bool vcmdq,
                     const uint64_t cmd[2])
{
    Trace *t = opaque;

    if (t->n < 256) {
        t->cmd[t->n][0] = cmd[0];
        t->cmd[t->n][1] = cmd[1];
    }
    t->n++;
}

static uint16_t s2_vmid(void)
{
    IommufdSimDeviceInfo info;
    uint32_t pt = f.s2;

    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev2, &pt), 0);
    ck_assert_int_eq(iommufd_sim_query_device(f.s, f.dev2, &info), 0);
    ck_assert_int_eq(iommufd_sim_detach(f.s, f.dev2), 0);
    return info.ste[2] & 0xffff;
}

typedef struct InvCase {
    uint64_t cmd0, cmd1;
    int rc;
} InvCase;

static const InvCase inv_eio_cases[] = {
    { 0x46, 0, -EIO },                          /* CMD_SYNC */
    { 0x03 | ((uint64_t)VSID << 32), 0, -EIO }, /* CFGI_STE */
    { 0x04, 0, -EIO },                          /* CFGI_STE_RANGE */
    { 0x28, 0, -EIO },                          /* TLBI_S12_VMALL */
    { 0x2a, 0, -EIO },                          /* TLBI_S2_IPA */
    { 0x20, 0, -EIO },                          /* TLBI_EL3_ALL */
    { 0x01, 0, -EIO },                          /* PREFETCH_CONFIG */
    { 0x40 | (0x99ull << 32), 0, -EIO },        /* ATC_INV, unknown vSID */
    { 0x05 | (0x99ull << 32), 0, -EIO },        /* CFGI_CD, unknown vSID */
    { 0x12, 0x1000, 0 },                        /* TLBI_NH_VA */
};

START_TEST(test_invalidate_eio)
{
    const InvCase *c = &inv_eio_cases[_i];
    uint64_t cmds[3][2] = {
        { 0x11 | (1ull << 48), 0 },             /* TLBI_NH_ASID */
        { c->cmd0, c->cmd1 },
        { 0x10, 0 },
    };
    uint32_t num = 3;

    ck_assert_int_eq(t_invalidate(f.s, f.viommu, cmds, 16, &num), c->rc);
    ck_assert_uint_eq(num, c->rc ? 1 : 3);      /* index of the failure */
}
END_TEST

START_TEST(test_invalidate_convert)
{
    uint16_t vmid = s2_vmid();
    uint64_t cmds[6][2] = {
        { 0x12 | (0x55ull << 32) | (3ull << 48), 0xabc000 },  /* NH_VA */
        { 0x30 | (0x55ull << 32), 0x1234 },                    /* NSNH_ALL */
        { 0x40 | ((uint64_t)VSID << 32), 0x5000 },             /* ATC_INV */
        { 0x05 | ((uint64_t)VSID << 32), 1 },                  /* CFGI_CD */
        { 0x06 | ((uint64_t)VSID << 32), 0 },               /* CFGI_CD_ALL */
        { 0x13 | (0x55ull << 32), 0x2000 },                    /* NH_VAA */
    };
    IommufdSimStats st;
    uint32_t num = 6;

    memset(&trace, 0, sizeof(trace));
    iommufd_sim_set_cmd_trace(f.s, trace_cb, &trace);
    ck_assert_int_eq(t_invalidate(f.s, f.viommu, cmds, 16, &num), 0);
    ck_assert_uint_eq(num, 6);
    ck_assert_uint_eq(trace.n, 7);
    ck_assert_uint_eq(trace.cmd[0][0],
                      0x12 | ((uint64_t)vmid << 32) | (3ull << 48));
    ck_assert_uint_eq(trace.cmd[0][1], 0xabc000);
    ck_assert_uint_eq(trace.cmd[1][0], 0x10 | ((uint64_t)vmid << 32));
    ck_assert_uint_eq(trace.cmd[1][1], 0);
    ck_assert_uint_eq(trace.cmd[2][0], 0x40 | ((uint64_t)PSID << 32));
    ck_assert_uint_eq(trace.cmd[3][0], 0x05 | ((uint64_t)PSID << 32));
    ck_assert_uint_eq(trace.cmd[4][0], 0x06 | ((uint64_t)PSID << 32));
    ck_assert_uint_eq(trace.cmd[5][0], 0x13 | ((uint64_t)vmid << 32));
    ck_assert_uint_eq(trace.cmd[6][0] & 0xff, 0x46);   /* CMD_SYNC */
    iommufd_sim_get_stats(f.s, &st);
    ck_assert_uint_eq(st.cmds_forwarded[0x12], 1);
    ck_assert_uint_eq(st.cmds_forwarded[0x10], 1);
    ck_assert_uint_eq(st.cmds_forwarded[0x30], 0);
    ck_assert_uint_eq(st.cmds_forwarded[0x46], 1);
    ck_assert_uint_eq(st.invalidate_entries, 6);
}
END_TEST

START_TEST(test_invalidate_batches)
{
    uint64_t (*cmds)[2] = calloc(100, sizeof(*cmds));
    unsigned i, syncs = 0;
    uint32_t num;

    for (i = 0; i < 100; i++) {
        cmds[i][0] = 0x11 | ((uint64_t)i << 48);
    }
    memset(&trace, 0, sizeof(trace));
    iommufd_sim_set_cmd_trace(f.s, trace_cb, &trace);
    num = 100;
    ck_assert_int_eq(t_invalidate(f.s, f.viommu, cmds, 16, &num), 0);
    ck_assert_uint_eq(num, 100);
    ck_assert_uint_eq(trace.n, 102);            /* 63 + sync + 37 + sync */
    ck_assert_uint_eq(trace.cmd[63][0] & 0xff, 0x46);
    ck_assert_uint_eq(trace.cmd[101][0] & 0xff, 0x46);

    /* failing at entry 70: batch 1 issued, 63..69 converted, not issued */
    cmds[70][0] = 0x46;
    memset(&trace, 0, sizeof(trace));
    num = 100;
    ck_assert_int_eq(t_invalidate(f.s, f.viommu, cmds, 16, &num), -EIO);
    ck_assert_uint_eq(num, 70);
    ck_assert_uint_eq(trace.n, 64);
    for (i = 0; i < trace.n; i++) {
        syncs += (trace.cmd[i][0] & 0xff) == 0x46;
    }
    ck_assert_uint_eq(syncs, 1);
    free(cmds);
}
END_TEST

START_TEST(test_invalidate_args)
{
    struct iommu_hwpt_invalidate inv = {
        .size = sizeof(inv), .hwpt_id = f.viommu,
        .data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
        .entry_len = 16, .entry_num = 1, .__reserved = 1,
    };
    uint64_t cmds[2][3] = { { 0x10, 0, 0 }, { 0x10, 0, 7 } };
    uint32_t num, nested;

    inv.data_uptr = (uintptr_t)cmds;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_INVALIDATE, &inv),
                     -EOPNOTSUPP);
    ck_assert_uint_eq(inv.entry_num, 0);        /* always written back */
    inv.__reserved = 0;
    inv.data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1;
    inv.entry_num = 1;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_INVALIDATE, &inv),
                     -EINVAL);
    num = 1;
    ck_assert_int_eq(t_invalidate(f.s, f.viommu, NULL, 16, &num), -EINVAL);
    num = 1;
    ck_assert_int_eq(t_invalidate(f.s, f.viommu, cmds, 0, &num), -EINVAL);
    num = 1;
    ck_assert_int_eq(t_invalidate(f.s, f.viommu, cmds, 4097, &num), -EINVAL);
    num = (1u << 19) + 1;
    ck_assert_int_eq(t_invalidate(f.s, f.viommu, cmds, 16, &num), -EINVAL);
    num = 0;
    ck_assert_int_eq(t_invalidate(f.s, f.viommu, cmds, 16, &num), -EINVAL);
    num = 1;
    ck_assert_int_eq(t_invalidate(f.s, 999, cmds, 16, &num), -ENOENT);
    num = 1;
    ck_assert_int_eq(t_invalidate(f.s, f.s2, cmds, 16, &num), -EINVAL);
    num = 1;
    ck_assert_int_eq(t_invalidate(f.s, f.ioas, cmds, 16, &num), -EINVAL);
    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, f.viommu, 0, 0, &nested), 0);
    num = 1;
    ck_assert_int_eq(t_invalidate(f.s, nested, cmds, 16, &num), -EOPNOTSUPP);
    /* a longer entry: zero tail fine, non-zero tail E2BIG */
    num = 1;
    ck_assert_int_eq(t_invalidate(f.s, f.viommu, cmds, 24, &num), 0);
    ck_assert_uint_eq(num, 1);
    num = 2;
    ck_assert_int_eq(t_invalidate(f.s, f.viommu, cmds, 24, &num), -E2BIG);
    ck_assert_uint_eq(num, 0);
}
END_TEST

START_TEST(test_invalidate_iotlb_effect)
{
    /* TLBI forwarded with the S2 VMID reaches the IOTLB */
    uint64_t cmds[1][2] = { { 0x30, 0 } };
    SimSmmuStats before, after;
    uint32_t num = 1;

    sim_smmu_get_stats(iommufd_sim_smmu_hw(f.s, 0), &before);
    ck_assert_int_eq(t_invalidate(f.s, f.viommu, cmds, 16, &num), 0);
    sim_smmu_get_stats(iommufd_sim_smmu_hw(f.s, 0), &after);
    ck_assert_uint_eq(after.cmds[0x10], before.cmds[0x10] + 1);
    ck_assert_uint_eq(after.cmds[0x46], before.cmds[0x46] + 1);
}
END_TEST

/* ---- vEVENTQ ---- */

static void inject_events(unsigned n, uint32_t dev)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        uint64_t evt[4] = { 0x10, 0, 0x1000 * (i + 1), 0 };

        ck_assert_int_eq(iommufd_sim_inject_event(f.s, dev, evt), 1);
    }
}

static bool fd_readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

typedef struct Rec {
    struct iommufd_vevent_header hdr;
    uint64_t evt[4];
} Rec;

START_TEST(test_veventq_alloc)
{
    struct iommu_veventq_alloc a = {
        .size = sizeof(a), .viommu_id = f.viommu,
        .type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, .veventq_depth = 4,
        .flags = 1,
    };
    uint32_t id, id2;
    int fd, fd2;

    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_VEVENTQ_ALLOC, &a),
                     -EOPNOTSUPP);
    a.flags = 0;
    a.__reserved = 1;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_VEVENTQ_ALLOC, &a),
                     -EOPNOTSUPP);
    ck_assert_int_eq(t_veventq_alloc(f.s, f.viommu, 0, 4, &id, &fd),
                     -EOPNOTSUPP);
    ck_assert_int_eq(t_veventq_alloc(f.s, f.viommu, 1, 0, &id, &fd),
                     -EINVAL);
    ck_assert_int_eq(t_veventq_alloc(f.s, f.viommu, 1, (1u << 19) + 1, &id,
                                     &fd), -EINVAL);
    ck_assert_int_eq(t_veventq_alloc(f.s, 999, 1, 4, &id, &fd), -ENOENT);
    ck_assert_int_eq(t_veventq_alloc(f.s, f.s2, 1, 4, &id, &fd), -ENOENT);
    ck_assert_int_eq(t_veventq_alloc(f.s, f.viommu, 1, 4, &id, &fd), 0);
    ck_assert_int_eq(t_veventq_alloc(f.s, f.viommu, 1, 4, &id2, &fd2),
                     -EEXIST);
    ck_assert_int_eq(t_veventq_alloc(f.s, f.viommu, 2, 4, &id2, &fd2), 0);
    /* the fd holds the queue, the queue holds the vIOMMU */
    ck_assert_int_eq(t_destroy(f.s, id), -EBUSY);
    ck_assert_int_eq(iommufd_sim_close(f.s, fd), 0);
    ck_assert_int_eq(iommufd_sim_close(f.s, fd), -EBADF);
    ck_assert_int_eq(t_destroy(f.s, f.viommu), -EBUSY);
    ck_assert_int_eq(t_destroy(f.s, id), 0);
    ck_assert(fcntl(fd2, F_GETFD) & FD_CLOEXEC);
}
END_TEST

START_TEST(test_veventq_read)
{
    uint32_t id, pt;
    Rec r[4];
    off_t off = 8;
    int fd;

    pt = f.s2;
    ck_assert_int_eq(t_veventq_alloc(f.s, f.viommu, 1, 4, &id, &fd), 0);
    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, f.viommu,
                                    STE0_V | STE0_CFG(STE_CFG_BYPASS), 0,
                                    &pt), 0);
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev, &pt), 0);
    ck_assert(!fd_readable(fd));
    inject_events(2, f.dev);
    ck_assert(fd_readable(fd));
    ck_assert_int_eq(iommufd_sim_read(f.s, fd, r, sizeof(r), &off), -ESPIPE);
    ck_assert_int_eq(iommufd_sim_read(f.s, fd, r, 7, NULL), -EINVAL);
    /* the first normal record does not fit: EINVAL */
    ck_assert_int_eq(iommufd_sim_read(f.s, fd, r, 8, NULL), -EINVAL);
    ck_assert_int_eq(iommufd_sim_read(f.s, fd, r, sizeof(Rec) + 20, NULL),
                     sizeof(Rec));
    ck_assert_uint_eq(r[0].hdr.sequence, 0);
    ck_assert_uint_eq(r[0].hdr.flags, 0);
    ck_assert_uint_eq(r[0].evt[0] >> 32, VSID);         /* vSID in place */
    ck_assert_uint_eq(r[0].evt[0] & 0xff, 0x10);
    ck_assert_uint_eq(r[0].evt[2], 0x1000);
    off = 0;
    ck_assert_int_eq(iommufd_sim_read(f.s, fd, r, sizeof(r), &off),
                     sizeof(Rec));
    ck_assert_uint_eq(r[0].hdr.sequence, 1);
    ck_assert(!fd_readable(fd));
    ck_assert_int_eq(iommufd_sim_read(f.s, fd, r, sizeof(r), NULL), 0);
    ck_assert_int_eq(iommufd_sim_close(f.s, fd), 0);
}
END_TEST

START_TEST(test_veventq_lost_events)
{
    struct iommufd_vevent_header *h;
    IommufdSimStats st;
    uint8_t buf[512];
    uint32_t id, pt;
    Rec *rec;
    ssize_t n;
    int fd;

    ck_assert_int_eq(t_veventq_alloc(f.s, f.viommu, 1, 2, &id, &fd), 0);
    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, f.viommu,
                                    STE0_V | STE0_CFG(STE_CFG_ABORT), 0, &pt),
                     0);
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev, &pt), 0);
    /* depth 2: seq 0, 1 queued; 2 and 3 lost, the header carries 3 */
    inject_events(4, f.dev);
    iommufd_sim_get_stats(f.s, &st);
    ck_assert_uint_eq(st.events_delivered, 2);
    ck_assert_uint_eq(st.events_lost, 2);
    n = iommufd_sim_read(f.s, fd, buf, sizeof(buf), NULL);
    ck_assert_int_eq(n, 2 * sizeof(Rec) + 8);
    rec = (Rec *)buf;
    ck_assert_uint_eq(rec[0].hdr.sequence, 0);
    ck_assert_uint_eq(rec[1].hdr.sequence, 1);
    h = (struct iommufd_vevent_header *)(buf + 2 * sizeof(Rec));
    ck_assert_uint_eq(h->flags, IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
    ck_assert_uint_eq(h->sequence, 3);
    ck_assert(!fd_readable(fd));

    /*
     * full again, the reader frees one slot, the next event removes the
     * still-last LOST_EVENTS header: the reader sees a sequence gap
     */
    inject_events(3, f.dev);                    /* 4, 5 queued; 6 lost */
    n = iommufd_sim_read(f.s, fd, buf, sizeof(Rec), NULL);
    ck_assert_int_eq(n, sizeof(Rec));
    ck_assert_uint_eq(rec[0].hdr.sequence, 4);
    inject_events(1, f.dev);                    /* 7 */
    n = iommufd_sim_read(f.s, fd, buf, sizeof(buf), NULL);
    ck_assert_int_eq(n, 2 * sizeof(Rec));
    ck_assert_uint_eq(rec[0].hdr.sequence, 5);
    ck_assert_uint_eq(rec[1].hdr.sequence, 7);
    ck_assert_uint_eq(rec[1].hdr.flags, 0);
    /* a header-sized read stops before a normal record after the header */
    inject_events(3, f.dev);                    /* 8, 9; 10 lost */
    n = iommufd_sim_read(f.s, fd, buf, 2 * sizeof(Rec) + 4, NULL);
    ck_assert_int_eq(n, 2 * sizeof(Rec));
    n = iommufd_sim_read(f.s, fd, buf, 8, NULL);
    ck_assert_int_eq(n, 8);
    ck_assert_uint_eq(((struct iommufd_vevent_header *)buf)->sequence, 10);
    ck_assert_int_eq(iommufd_sim_close(f.s, fd), 0);
}
END_TEST

START_TEST(test_event_routing)
{
    uint64_t evt[4] = { 0x10, 0, 0x1000, 0 };
    IommufdSimStats st;
    uint32_t id, pt;
    int fd;

    /* no vmaster yet: host only */
    ck_assert_int_eq(iommufd_sim_inject_event(f.s, f.dev, evt), 0);
    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, f.viommu,
                                    STE0_V | STE0_CFG(STE_CFG_ABORT), 0, &pt),
                     0);
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev, &pt), 0);
    /* vmaster, but no ARM vEVENTQ: host only */
    ck_assert_int_eq(iommufd_sim_inject_event(f.s, f.dev, evt), 0);
    ck_assert_int_eq(t_veventq_alloc(f.s, f.viommu, 1, 8, &id, &fd), 0);
    ck_assert_int_eq(iommufd_sim_inject_event(f.s, f.dev, evt), 1);
    evt[1] = 1ull << 39;                        /* S2 */
    ck_assert_int_eq(iommufd_sim_inject_event(f.s, f.dev, evt), 0);
    evt[1] = 1ull << 31;                        /* stall */
    ck_assert_int_eq(iommufd_sim_inject_event(f.s, f.dev, evt), 0);
    evt[1] = 0;
    evt[0] = 0x02;                              /* C_BAD_STREAMID */
    ck_assert_int_eq(iommufd_sim_inject_event(f.s, f.dev, evt), 0);
    evt[0] = 0x0a;                              /* C_BAD_CD */
    ck_assert_int_eq(iommufd_sim_inject_event(f.s, f.dev, evt), 1);
    ck_assert_int_eq(iommufd_sim_inject_event(f.s, 999, evt), -ENOENT);
    iommufd_sim_get_stats(f.s, &st);
    ck_assert_uint_eq(st.events_host_only, 5);
    ck_assert_uint_eq(st.events_delivered, 2);
    ck_assert_int_eq(iommufd_sim_close(f.s, fd), 0);
}
END_TEST

/* A nested STE on f.dev and an ARM vEVENTQ of @depth: its fd. */
static int event_queue(uint32_t depth)
{
    uint32_t id, pt = f.s2;
    int fd;

    ck_assert_int_eq(t_nested_alloc(f.s, f.dev, f.viommu,
                                    STE0_V | STE0_CFG(STE_CFG_ABORT), 0, &pt),
                     0);
    ck_assert_int_eq(iommufd_sim_attach(f.s, f.dev, &pt), 0);
    ck_assert_int_eq(t_veventq_alloc(f.s, f.viommu, 1, depth, &id, &fd), 0);
    return fd;
}

START_TEST(test_inject_events_storm)
{
    uint64_t evt[4] = { 0x10, 0, 0x40000000, 0 };
    static Rec r[100];
    struct iommufd_vevent_header *h;
    IommufdSimStats st;
    ssize_t n;
    int fd, i;

    fd = event_queue(64);
    ck_assert_int_eq(iommufd_sim_inject_events(f.s, f.dev, evt,
                                               IOMMUFD_SIM_INJECT_MAX + 1, 0),
                     -EINVAL);
    ck_assert_int_eq(iommufd_sim_inject_events(f.s, 999, evt, 2, 0), -ENOENT);
    ck_assert_int_eq(iommufd_sim_inject_events(f.s, f.dev, evt, 0, 0), 0);
    /* 100 into a queue of 64: 64 queued, 36 lost, one LOST header */
    ck_assert_int_eq(iommufd_sim_inject_events(f.s, f.dev, evt, 100, 0x1000),
                     100);
    iommufd_sim_get_stats(f.s, &st);
    ck_assert_uint_eq(st.events_delivered, 64);
    ck_assert_uint_eq(st.events_lost, 36);
    n = iommufd_sim_read(f.s, fd, r, sizeof(r), NULL);
    ck_assert_int_eq(n, 64 * sizeof(Rec) + sizeof(*h));
    for (i = 0; i < 64; i++) {
        ck_assert_uint_eq(r[i].hdr.sequence, i);
        ck_assert_uint_eq(r[i].hdr.flags, 0);
        ck_assert_uint_eq(r[i].evt[0] >> 32, VSID);
        ck_assert_uint_eq(r[i].evt[2], 0x40000000 + 0x1000 * i);
    }
    h = (struct iommufd_vevent_header *)&r[64];
    ck_assert_uint_eq(h->flags, IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
    ck_assert_uint_eq(h->sequence, 99);
    ck_assert(!fd_readable(fd));
    ck_assert_int_eq(iommufd_sim_close(f.s, fd), 0);
}
END_TEST

/*
 * Records come out in order with consecutive sequence numbers while the
 * queue's ring grows with its head anywhere (a depth not a power of 2).
 */
START_TEST(test_veventq_ring_order)
{
    uint64_t evt[4] = { 0x10, 0, 0, 0 };
    static Rec r[64];
    uint64_t in = 0, out = 0;
    int fd, round;

    fd = event_queue(1000);
    for (round = 0; round < 200; round++) {
        uint32_t k = 1 + (round * 37) % 61, i;
        ssize_t n;

        evt[2] = in << 12;
        if (in - out + k > 1000) {
            k = 1000 - (in - out);
        }
        ck_assert_int_eq(iommufd_sim_inject_events(f.s, f.dev, evt, k, 1 << 12),
                         k);
        in += k;
        n = iommufd_sim_read(f.s, fd, r, sizeof(Rec) * (1 + round % 40),
                             NULL);
        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(n % sizeof(Rec), 0);
        for (i = 0; i < n / sizeof(Rec); i++, out++) {
            ck_assert_uint_eq(r[i].hdr.flags, 0);
            ck_assert_uint_eq(r[i].hdr.sequence, out);
            ck_assert_uint_eq(r[i].evt[2], out << 12);
        }
    }
    ck_assert_uint_gt(in - out, 500);     /* the ring grew past 256 */
    while (out < in) {
        ssize_t n = iommufd_sim_read(f.s, fd, r, sizeof(r), NULL);
        uint32_t i;

        for (i = 0; i < n / sizeof(Rec); i++, out++) {
            ck_assert_uint_eq(r[i].hdr.sequence, out);
            ck_assert_uint_eq(r[i].evt[2], out << 12);
        }
    }
    ck_assert(!fd_readable(fd));
    ck_assert_int_eq(iommufd_sim_close(f.s, fd), 0);
}
END_TEST

/* A queue in steady use allocates nothing per event. */
START_TEST(test_veventq_no_alloc_per_event)
{
    uint64_t evt[4] = { 0x10, 0, 0x1000, 0 };
    static Rec r[512];
    size_t before, after;
    int fd, pass;

    fd = event_queue(4096);
    for (pass = 0; pass < 2; pass++) {
        ssize_t n;

        before = mallinfo2().uordblks;
        ck_assert_int_eq(iommufd_sim_inject_events(f.s, f.dev, evt, 4096, 64),
                         4096);
        after = mallinfo2().uordblks;
        do {
            n = iommufd_sim_read(f.s, fd, r, sizeof(r), NULL);
        } while (n > 0);
    }
    /* (the first pass grew the ring; a record per event is 70+ bytes) */
    ck_assert_int_lt((ssize_t)(after - before), 4096);
    ck_assert_int_eq(iommufd_sim_close(f.s, fd), 0);
}
END_TEST

/* ---- HW_QUEUE_ALLOC ---- */

static uint32_t tegra_viommu(void)
{
    struct iommu_viommu_tegra241_cmdqv data;
    uint32_t id;

    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    f.dev, f.s2, &data, sizeof(data), &id),
                     0);
    return id;
}

START_TEST(test_hw_queue_alloc)
{
    struct iommu_hw_queue_alloc a = {
        .size = sizeof(a), .type = 1, .flags = 1, .length = 256,
        .nesting_parent_iova = T_GPA_BASE,
    };
    uint32_t tv = tegra_viommu(), q0, q1, id;
    uint8_t *big, *p1, *p2;
    uint64_t len, iova;

    a.viommu_id = tv;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HW_QUEUE_ALLOC, &a),
                     -EOPNOTSUPP);
    a.flags = 0;
    a.type = IOMMU_HW_QUEUE_TYPE_DEFAULT;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HW_QUEUE_ALLOC, &a),
                     -EOPNOTSUPP);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 0, T_GPA_BASE, 0, &id),
                     -EINVAL);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 0, UINT64_MAX - 10, 256, &id),
                     -EOVERFLOW);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, 999, 0, T_GPA_BASE, 256, &id),
                     -ENOENT);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, f.viommu, 0, T_GPA_BASE, 256,
                                      &id), -EOPNOTSUPP);
    a.type = 7;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HW_QUEUE_ALLOC, &a),
                     -EOPNOTSUPP);
    /* not mapped in the IOAS: ENOENT */
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 0, 0x10000, 256, &id),
                     -ENOENT);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 0,
                                      T_GPA_BASE + T_BUF_SIZE - 128, 256,
                                      &id), -ENOENT);
    /* mapped, but two areas of discontiguous user memory: EFAULT */
    p1 = t_buf_alloc(3 * T_PAGE);
    p2 = p1 + 2 * T_PAGE;
    ck_assert_int_eq(t_map_fixed(f.s, f.ioas, p2, T_PAGE, 0x10000000), 0);
    ck_assert_int_eq(t_map_fixed(f.s, f.ioas, p1, T_PAGE, 0x10001000), 0);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 0, 0x10000000, 0x2000, &id),
                     -EFAULT);
    /* TEGRA241 checks */
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 1, T_GPA_BASE, 256, &id),
                     -EIO);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 2, T_GPA_BASE, 256, &id),
                     -EINVAL);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 0, T_GPA_BASE, 96, &id),
                     -EINVAL);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 0, T_GPA_BASE, 16, &id),
                     -EINVAL);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 0, T_GPA_BASE + 128, 256,
                                      &id), -EINVAL);
    big = t_buf_alloc(16ull << 20);
    iova = 1ull << 32;
    ck_assert_int_eq(t_map(f.s, f.ioas, big, 16ull << 20, &iova,
                           T_MAP_FIXED), 0);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 0, iova, 16ull << 20, &id),
                     -EINVAL);                  /* > 1 << (CMDQS + 4) */
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 0, T_GPA_BASE, 256, &q0), 0);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 0, T_GPA_BASE + 256, 256,
                                      &id), -EEXIST);
    ck_assert_int_eq(t_hw_queue_alloc(f.s, tv, 1, T_GPA_BASE + 0x1000, 256,
                                      &q1), 0);
    /* pinned: IOAS unmap EBUSY */
    len = T_BUF_SIZE;
    ck_assert_int_eq(t_unmap(f.s, f.ioas, T_GPA_BASE, &len), -EBUSY);
    /* queue 1 holds queue 0; queues hold the vIOMMU */
    ck_assert_int_eq(t_destroy(f.s, q0), -EBUSY);
    ck_assert_int_eq(t_destroy(f.s, tv), -EBUSY);
    ck_assert_int_eq(t_destroy(f.s, q1), 0);
    ck_assert_int_eq(t_destroy(f.s, q0), 0);
    len = T_BUF_SIZE;
    ck_assert_int_eq(t_unmap(f.s, f.ioas, T_GPA_BASE, &len), 0);
    ck_assert_int_eq(t_destroy(f.s, tv), 0);
    munmap(big, 16ull << 20);
    munmap(p1, 3 * T_PAGE);
}
END_TEST

/* ---- mmap ---- */

START_TEST(test_mmap)
{
    struct iommu_viommu_tegra241_cmdqv data;
    uint32_t tv;
    void *p;

    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    f.dev, f.s2, &data, sizeof(data), &tv),
                     0);
    ck_assert_int_eq(iommufd_sim_mmap(f.s, 0x10000, PROT_READ | PROT_WRITE,
                                      MAP_SHARED,
                                      data.out_vintf_mmap_offset + 0x1000,
                                      &p), -ENXIO);
    ck_assert_int_eq(iommufd_sim_mmap(f.s, 0x10000, PROT_READ | PROT_WRITE,
                                      MAP_SHARED, 0x7000000, &p), -ENXIO);
    ck_assert_int_eq(iommufd_sim_mmap(f.s, 0x1000, PROT_READ | PROT_WRITE,
                                      MAP_SHARED,
                                      data.out_vintf_mmap_offset, &p),
                     -ENXIO);
    ck_assert_int_eq(iommufd_sim_mmap(f.s, 0x10000, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE,
                                      data.out_vintf_mmap_offset, &p),
                     -EINVAL);
    ck_assert_int_eq(iommufd_sim_mmap(f.s, 0x10000 + 100, PROT_READ,
                                      MAP_SHARED,
                                      data.out_vintf_mmap_offset, &p),
                     -EINVAL);
    ck_assert_int_eq(iommufd_sim_mmap(f.s, 0x10000, PROT_READ | PROT_EXEC,
                                      MAP_SHARED,
                                      data.out_vintf_mmap_offset, &p),
                     -EPERM);
    ck_assert_int_eq(iommufd_sim_mmap(f.s, 0x10000, PROT_READ | PROT_WRITE,
                                      MAP_SHARED,
                                      data.out_vintf_mmap_offset, &p), 0);
    /* a live mapping holds the vIOMMU */
    ck_assert_int_eq(t_destroy(f.s, tv), -EBUSY);
    ck_assert_int_eq(iommufd_sim_munmap(f.s, p, 0x10000), 0);
    ck_assert_int_eq(t_destroy(f.s, tv), 0);
    /* the offset is gone with its vIOMMU */
    ck_assert_int_eq(iommufd_sim_mmap(f.s, 0x10000, PROT_READ, MAP_SHARED,
                                      data.out_vintf_mmap_offset, &p),
                     -ENXIO);
}
END_TEST

/*
 * The page0 mapping is MMIO (VM_IO | VM_PFNMAP on a real host): a domain
 * cannot pin it, so an IOAS with one refuses it, one without takes it
 * (pinning is lazy) and then no domain can be built over it.
 */
START_TEST(test_mmap_unpinnable)
{
    struct iommu_viommu_tegra241_cmdqv data;
    struct iommu_ioas_copy c = {
        .size = sizeof(c), .flags = T_MAP_FIXED, .length = 0x10000,
        .dst_ioas_id = f.ioas, .dst_iova = 0x10000000,
        .src_iova = 0x10000000,
    };
    uint32_t tv, ioas2, hwpt;
    uint64_t len = 0x10000;
    void *p;

    ck_assert_int_eq(t_viommu_alloc(f.s, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                                    f.dev, f.s2, &data, sizeof(data), &tv),
                     0);
    ck_assert_int_eq(iommufd_sim_mmap(f.s, 0x10000, PROT_READ | PROT_WRITE,
                                      MAP_SHARED,
                                      data.out_vintf_mmap_offset, &p), 0);
    ck_assert_int_eq(t_map_fixed(f.s, f.ioas, p, 0x10000, 0x10000000),
                     -EFAULT);
    /* a part of it is refused as well */
    ck_assert_int_eq(t_map_fixed(f.s, f.ioas, (uint8_t *)p + 0x8000, 0x1000,
                                 0x10000000), -EFAULT);
    ck_assert_int_eq(t_ioas_alloc(f.s, &ioas2), 0);
    ck_assert_int_eq(t_map_fixed(f.s, ioas2, p, 0x10000, 0x10000000), 0);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, ioas2, 0, 0, NULL, 0, &hwpt),
                     -EFAULT);
    c.src_ioas_id = ioas2;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_IOAS_COPY, &c), -EFAULT);
    /* guest RAM next to it is still mapped as usual */
    ck_assert_int_eq(t_map_fixed(f.s, f.ioas, f.buf, T_PAGE, 0x10000000), 0);
    ck_assert_int_eq(t_unmap(f.s, ioas2, 0x10000000, &len), 0);
    ck_assert_int_eq(t_hwpt_alloc(f.s, f.dev, ioas2, 0, 0, NULL, 0, &hwpt),
                     0);
    ck_assert_int_eq(t_destroy(f.s, hwpt), 0);
    ck_assert_int_eq(t_destroy(f.s, ioas2), 0);
    ck_assert_int_eq(iommufd_sim_munmap(f.s, p, 0x10000), 0);
    ck_assert_int_eq(t_destroy(f.s, tv), 0);
}
END_TEST

/* ---- injection, counting, dirty tracking ---- */

START_TEST(test_inject_errno)
{
    IommufdSimStats before, after;
    uint32_t a, b, c;

    iommufd_sim_get_stats(f.s, &before);
    ck_assert_int_eq(iommufd_sim_inject_errno(f.s, IOMMU_IOAS_ALLOC, 2,
                                              ENOMEM), 0);
    ck_assert_int_eq(t_ioas_alloc(f.s, &a), 0);
    ck_assert_int_eq(t_ioas_alloc(f.s, &b), -ENOMEM);
    ck_assert_int_eq(t_ioas_alloc(f.s, &c), 0);
    ck_assert_uint_eq(c, a + 1);                /* no side effect */
    iommufd_sim_get_stats(f.s, &after);
    ck_assert_uint_eq(after.ioctls[IOMMUFD_CMD_IOAS_ALLOC - 0x80],
                      before.ioctls[IOMMUFD_CMD_IOAS_ALLOC - 0x80] + 3);
    ck_assert_uint_eq(after.ioctl_errors, before.ioctl_errors + 1);
    /* even a call that would fail anyway fails with the injected errno */
    ck_assert_int_eq(iommufd_sim_inject_errno(f.s, IOMMU_DESTROY, 1, EIO),
                     0);
    ck_assert_int_eq(t_destroy(f.s, a), -EIO);
    ck_assert_int_eq(t_destroy(f.s, a), 0);
    /* nth 0 disarms */
    ck_assert_int_eq(iommufd_sim_inject_errno(f.s, IOMMU_IOAS_ALLOC, 1,
                                              ENOMEM), 0);
    ck_assert_int_eq(iommufd_sim_inject_errno(f.s, IOMMU_IOAS_ALLOC, 0,
                                              ENOMEM), 0);
    ck_assert_int_eq(t_ioas_alloc(f.s, &b), 0);
    ck_assert_str_eq(iommufd_sim_ioctl_name(IOMMU_HWPT_INVALIDATE),
                     "IOMMU_HWPT_INVALIDATE");
    ck_assert_ptr_null(iommufd_sim_ioctl_name(_IO('x', 1)));
}
END_TEST

/*
 * A failing ioctl always has an errno (1..MAX_ERRNO): 0 would "succeed"
 * with no output, a negative one would be a positive return. Refused
 * requests arm nothing (nor disarm: nth 0 with errno 0).
 */
typedef struct BadInjection {
    unsigned long request;
    unsigned nth;
    int err;
} BadInjection;

static const BadInjection bad_injections[] = {
    { IOMMU_IOAS_ALLOC, 1, 0 },
    { IOMMU_IOAS_ALLOC, 1, -5 },
    { IOMMU_IOAS_ALLOC, 1, INT_MIN },
    { IOMMU_IOAS_ALLOC, 1, IOMMUFD_SIM_MAX_ERRNO + 1 },
    { IOMMU_IOAS_ALLOC, 0, 0 },
    { _IO('x', 1), 1, EIO },
};

START_TEST(test_inject_errno_refused)
{
    const BadInjection *b = &bad_injections[_i];
    IommufdSimStats before, after;
    uint32_t a;

    iommufd_sim_get_stats(f.s, &before);
    ck_assert_int_eq(iommufd_sim_inject_errno(f.s, b->request, b->nth,
                                              b->err), -EINVAL);
    ck_assert_int_eq(iommufd_sim_inject_invalidate_error(f.s, 0, b->err),
                     b->err >= 1 && b->err <= IOMMUFD_SIM_MAX_ERRNO ?
                     0 : -EINVAL);
    ck_assert_int_eq(t_ioas_alloc(f.s, &a), 0);
    ck_assert_int_eq(t_ioas_alloc(f.s, &a), 0);
    iommufd_sim_get_stats(f.s, &after);
    ck_assert_uint_eq(after.ioctl_errors, before.ioctl_errors);
    ck_assert_int_eq(iommufd_sim_inject_errno(f.s, IOMMU_IOAS_ALLOC, 1,
                                              IOMMUFD_SIM_MAX_ERRNO), 0);
    ck_assert_int_eq(t_ioas_alloc(f.s, &a), -IOMMUFD_SIM_MAX_ERRNO);
}
END_TEST

START_TEST(test_dirty_tracking)
{
    struct iommu_hwpt_set_dirty_tracking sd = {
        .size = sizeof(sd), .hwpt_id = f.s2, .flags = 1,
    };
    struct iommu_hwpt_get_dirty_bitmap gd = {
        .size = sizeof(gd), .hwpt_id = f.s2, .iova = T_GPA_BASE,
        .length = T_BUF_SIZE, .page_size = T_PAGE,
    };
    uint64_t bitmap[8];

    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_SET_DIRTY_TRACKING,
                                       &sd), -EOPNOTSUPP);
    sd.flags = 2;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_SET_DIRTY_TRACKING,
                                       &sd), -EOPNOTSUPP);
    sd.flags = 0;
    sd.hwpt_id = f.viommu;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_SET_DIRTY_TRACKING,
                                       &sd), -ENOENT);
    gd.data = (uintptr_t)bitmap;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_GET_DIRTY_BITMAP,
                                       &gd), -EOPNOTSUPP);
    gd.page_size = 0;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_GET_DIRTY_BITMAP,
                                       &gd), -EINVAL);
    gd.hwpt_id = f.ioas;
    ck_assert_int_eq(iommufd_sim_ioctl(f.s, IOMMU_HWPT_GET_DIRTY_BITMAP,
                                       &gd), -ENOENT);
}
END_TEST

static Suite *sim_uapi_suite(void)
{
    Suite *s = suite_create("iommufd-sim-uapi");
    TCase *tc = tcase_create("uapi");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_general_size_rules);
    tcase_add_test(tc, test_ids_lowest_free);
    tcase_add_test(tc, test_hw_info);
    tcase_add_test(tc, test_hw_info_no_cmdqv);
    tcase_add_test(tc, test_hw_info_vsids);
    tcase_add_test(tc, test_ioas_map_unmap);
    tcase_add_test(tc, test_ioas_copy_ranges_option);
    tcase_add_test(tc, test_ioas_map_file);
    tcase_add_test(tc, test_hwpt_alloc_order);
    tcase_add_test(tc, test_hwpt_parent_nesting);
    tcase_add_loop_test(tc, test_vste_validation, 0,
                        G_N_ELEMENTS(vste_cases));
    tcase_add_test(tc, test_attach_rules);
    tcase_add_test(tc, test_attach_other_smmu);
    tcase_add_test(tc, test_viommu_alloc);
    tcase_add_test(tc, test_viommu_no_nesting);
    tcase_add_test(tc, test_viommu_canwbs_or_fwb);
    tcase_add_test(tc, test_viommu_tegra_enospc);
    tcase_add_test(tc, test_vdevice_alloc);
    tcase_add_test(tc, test_vdevice_tegra_sid_regs);
    tcase_add_loop_test(tc, test_invalidate_eio, 0,
                        G_N_ELEMENTS(inv_eio_cases));
    tcase_add_test(tc, test_invalidate_convert);
    tcase_add_test(tc, test_invalidate_batches);
    tcase_add_test(tc, test_invalidate_args);
    tcase_add_test(tc, test_invalidate_iotlb_effect);
    tcase_add_test(tc, test_veventq_alloc);
    tcase_add_test(tc, test_veventq_read);
    tcase_add_test(tc, test_veventq_lost_events);
    tcase_add_test(tc, test_event_routing);
    tcase_add_test(tc, test_inject_events_storm);
    tcase_add_test(tc, test_veventq_ring_order);
    tcase_add_test(tc, test_veventq_no_alloc_per_event);
    tcase_add_test(tc, test_hw_queue_alloc);
    tcase_add_test(tc, test_mmap);
    tcase_add_test(tc, test_mmap_unpinnable);
    tcase_add_test(tc, test_inject_errno);
    tcase_add_loop_test(tc, test_inject_errno_refused, 0,
                        G_N_ELEMENTS(bad_injections));
    tcase_add_test(tc, test_dirty_tracking);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sim_uapi_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
