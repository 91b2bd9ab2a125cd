/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One DMA read by an NVMe controller (QEMU's nvme in the host box), from
 * user space with its BAR0 mapped: its admin submission queue is put at
 * an IOVA and its doorbell rung, so that the controller fetches a 64-byte
 * command from there, translated by the IOMMU in front of it. The
 * controller is reset before and after. Used by conformance-real (BAR0
 * through VFIO, in L1) and nvme-dma (BAR0 through sysfs, in L2).
 */
#ifndef NVME_FETCH_H
#define NVME_FETCH_H

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#define NVME_BAR_LEN    0x2000
#define NVME_CC         0x14
#define NVME_CSTS       0x1c
#define NVME_AQA        0x24
#define NVME_ASQ        0x28
#define NVME_ACQ        0x30
#define NVME_SQ0TDBL    0x1000

/* BAR0 registers: device memory, every access must reach the device. */
static inline uint32_t nvme_reg_read32(uint8_t *bar, unsigned off)
{
    return __atomic_load_n((uint32_t *)(bar + off), __ATOMIC_SEQ_CST);
}

static inline void nvme_reg_write32(uint8_t *bar, unsigned off, uint32_t val)
{
    __atomic_store_n((uint32_t *)(bar + off), val, __ATOMIC_SEQ_CST);
}

static inline void nvme_reg_write64(uint8_t *bar, unsigned off, uint64_t val)
{
    nvme_reg_write32(bar, off, (uint32_t)val);
    nvme_reg_write32(bar, off + 4, (uint32_t)(val >> 32));
}

/* CSTS.RDY == @want within two seconds. */
static inline int nvme_wait_rdy(uint8_t *bar, uint32_t want)
{
    for (int i = 0; i < 2000; i++) {
        if ((nvme_reg_read32(bar, NVME_CSTS) & 1) == want) {
            return 0;
        }
        usleep(1000);
    }
    return -ETIMEDOUT;
}

/* The fetch from @iova; 0, or -ETIMEDOUT if the controller did not run. */
static inline int nvme_fetch_admin_command(uint8_t *bar, uint64_t iova)
{
    int rc;

    nvme_reg_write32(bar, NVME_CC, 0);
    rc = nvme_wait_rdy(bar, 0);
    if (!rc) {
        /* 2-entry admin queues, 64-byte SQEs, 16-byte CQEs, 4K pages */
        nvme_reg_write32(bar, NVME_AQA, (1u << 16) | 1);
        nvme_reg_write64(bar, NVME_ASQ, iova);
        nvme_reg_write64(bar, NVME_ACQ, iova + 0x1000);
        nvme_reg_write32(bar, NVME_CC, (4u << 20) | (6u << 16) | 1);
        rc = nvme_wait_rdy(bar, 1);
    }
    if (!rc) {
        nvme_reg_write32(bar, NVME_SQ0TDBL, 1);
        usleep(20000);
    }
    nvme_reg_write32(bar, NVME_CC, 0);
    nvme_wait_rdy(bar, 0);
    return rc;
}

#endif
