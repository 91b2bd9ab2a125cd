/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the iommufd-sim Check suites: thin wrappers around
 * the uAPI that return the errno, so each rule reads as one line.
 */
#ifndef SIM_TEST_UTIL_H
#define SIM_TEST_UTIL_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <glib.h>
#include <linux/iommufd.h>

#include "iommufd-sim.h"
#include "smmu-hw.h"
#include "cmdqv-hw.h"

#define T_PAGE          4096ull
#define T_GPA_BASE      0x40000000ull
#define T_BUF_SIZE      (2ull << 20)

#define STE0_V          (1ull << 0)
#define STE0_CFG(c)     ((uint64_t)(c) << 1)
#define STE_CFG_ABORT   0
#define STE_CFG_BYPASS  4
#define STE_CFG_S1      5
#define STE1_EATS(e)    ((uint64_t)(e) << 28)

static inline void *t_buf_alloc(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    ck_assert_ptr_ne(p, MAP_FAILED);
    return p;
}

static inline int t_ioas_alloc(IommufdSim *s, uint32_t *id)
{
    struct iommu_ioas_alloc a = { .size = sizeof(a) };
    int rc = iommufd_sim_ioctl(s, IOMMU_IOAS_ALLOC, &a);

    *id = a.out_ioas_id;
    return rc;
}

static inline int t_map(IommufdSim *s, uint32_t ioas, void *va, uint64_t len,
                        uint64_t *iova, uint32_t flags)
{
    struct iommu_ioas_map m = {
        .size = sizeof(m),
        .flags = flags,
        .ioas_id = ioas,
        .user_va = (uintptr_t)va,
        .length = len,
        .iova = *iova,
    };
    int rc = iommufd_sim_ioctl(s, IOMMU_IOAS_MAP, &m);

    *iova = m.iova;
    return rc;
}

#define T_MAP_RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define T_MAP_FIXED (T_MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA)

static inline int t_map_fixed(IommufdSim *s, uint32_t ioas, void *va,
                              uint64_t len, uint64_t iova)
{
    return t_map(s, ioas, va, len, &iova, T_MAP_FIXED);
}

static inline int t_unmap(IommufdSim *s, uint32_t ioas, uint64_t iova,
                          uint64_t *len)
{
    struct iommu_ioas_unmap u = {
        .size = sizeof(u), .ioas_id = ioas, .iova = iova, .length = *len,
    };
    int rc = iommufd_sim_ioctl(s, IOMMU_IOAS_UNMAP, &u);

    *len = u.length;
    return rc;
}

static inline int t_destroy(IommufdSim *s, uint32_t id)
{
    struct iommu_destroy d = { .size = sizeof(d), .id = id };

    return iommufd_sim_ioctl(s, IOMMU_DESTROY, &d);
}

static inline int t_hwpt_alloc(IommufdSim *s, uint32_t dev, uint32_t pt,
                               uint32_t flags, uint32_t data_type,
                               const void *data, uint32_t len, uint32_t *id)
{
    struct iommu_hwpt_alloc a = {
        .size = sizeof(a),
        .flags = flags,
        .dev_id = dev,
        .pt_id = pt,
        .data_type = data_type,
        .data_len = len,
        .data_uptr = (uintptr_t)data,
    };
    int rc = iommufd_sim_ioctl(s, IOMMU_HWPT_ALLOC, &a);

    *id = a.out_hwpt_id;
    return rc;
}

static inline int t_nested_alloc(IommufdSim *s, uint32_t dev, uint32_t pt,
                                 uint64_t ste0, uint64_t ste1, uint32_t *id)
{
    struct iommu_hwpt_arm_smmuv3 d = { .ste = { ste0, ste1 } };

    return t_hwpt_alloc(s, dev, pt, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, &d,
                        sizeof(d), id);
}

static inline int t_viommu_alloc(IommufdSim *s, uint32_t type, uint32_t dev,
                                 uint32_t hwpt, void *data, uint32_t len,
                                 uint32_t *id)
{
    struct iommu_viommu_alloc a = {
        .size = sizeof(a),
        .type = type,
        .dev_id = dev,
        .hwpt_id = hwpt,
        .data_len = len,
        .data_uptr = (uintptr_t)data,
    };
    int rc = iommufd_sim_ioctl(s, IOMMU_VIOMMU_ALLOC, &a);

    *id = a.out_viommu_id;
    return rc;
}

static inline int t_vdev_alloc(IommufdSim *s, uint32_t viommu, uint32_t dev,
                               uint64_t vsid, uint32_t *id)
{
    struct iommu_vdevice_alloc a = {
        .size = sizeof(a), .viommu_id = viommu, .dev_id = dev,
        .virt_id = vsid,
    };
    int rc = iommufd_sim_ioctl(s, IOMMU_VDEVICE_ALLOC, &a);

    *id = a.out_vdevice_id;
    return rc;
}

static inline int t_veventq_alloc(IommufdSim *s, uint32_t viommu,
                                  uint32_t type, uint32_t depth, uint32_t *id,
                                  int *fd)
{
    struct iommu_veventq_alloc a = {
        .size = sizeof(a), .viommu_id = viommu, .type = type,
        .veventq_depth = depth,
    };
    int rc = iommufd_sim_ioctl(s, IOMMU_VEVENTQ_ALLOC, &a);

    *id = a.out_veventq_id;
    *fd = a.out_veventq_fd;
    return rc;
}

static inline int t_hw_queue_alloc(IommufdSim *s, uint32_t viommu,
                                   uint32_t index, uint64_t iova,
                                   uint64_t len, uint32_t *id)
{
    struct iommu_hw_queue_alloc a = {
        .size = sizeof(a), .viommu_id = viommu,
        .type = IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, .index = index,
        .nesting_parent_iova = iova, .length = len,
    };
    int rc = iommufd_sim_ioctl(s, IOMMU_HW_QUEUE_ALLOC, &a);

    *id = a.out_hw_queue_id;
    return rc;
}

static inline int t_invalidate(IommufdSim *s, uint32_t id, void *cmds,
                               uint32_t entry_len, uint32_t *num)
{
    struct iommu_hwpt_invalidate inv = {
        .size = sizeof(inv),
        .hwpt_id = id,
        .data_uptr = (uintptr_t)cmds,
        .data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
        .entry_len = entry_len,
        .entry_num = *num,
    };
    int rc = iommufd_sim_ioctl(s, IOMMU_HWPT_INVALIDATE, &inv);

    *num = inv.entry_num;
    return rc;
}

#endif
