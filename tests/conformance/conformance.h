/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Differential conformance of the iommufd uAPI: one table of cases, run
 * against a host (iommufd-sim in this process, or the real /dev/iommu
 * with VFIO cdev devices), each printing what it observed as lines
 *   <case> <step> rc=<errno name> [field=value ...]
 * so that two hosts' outputs can be compared line by line
 * (tests/box/conformance-diff.py).
 */
#ifndef CONFORMANCE_H
#define CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONF_MAX_DEVICES 4

typedef struct ConfHost ConfHost;

typedef struct ConfHostOps {
    /* A fresh iommufd context with every device unbound. */
    int (*open)(ConfHost *h);
    void (*close)(ConfHost *h);
    /* ioctl on the iommufd: 0, or a negative errno. */
    int (*ioctl)(ConfHost *h, unsigned long request, void *arg);
    /* Device N (0-based): VFIO_DEVICE_BIND/ATTACH/DETACH_IOMMUFD(_PT). */
    int (*bind)(ConfHost *h, unsigned dev, uint32_t *dev_id);
    int (*attach)(ConfHost *h, unsigned dev, uint32_t *pt_id);
    int (*detach)(ConfHost *h, unsigned dev);
    int (*unbind)(ConfHost *h, unsigned dev);
    /* read() on an fd the iommufd handed out; bytes or a negative errno. */
    ssize_t (*read)(ConfHost *h, int fd, void *buf, size_t count);
    int (*close_fd)(ConfHost *h, int fd);
    /*
     * Make device 0 read from @iova once, as its own DMA (the real host:
     * the NVMe fetches an admin command from there; the simulator:
     * iommufd_sim_translate). 0, or a negative errno if it could not.
     */
    int (*dma_read)(ConfHost *h, uint64_t iova);
    /* Wait up to @ms for @fd to be readable: 1 readable, 0 not. */
    int (*poll)(ConfHost *h, int fd, int ms);
    /* mmap of the iommufd (shared, read/write): 0, or a negative errno. */
    int (*mmap)(ConfHost *h, size_t length, off_t offset, void **addr);
    int (*munmap)(ConfHost *h, void *addr, size_t length);
} ConfHostOps;

struct ConfHost {
    const char *name;
    const ConfHostOps *ops;
    unsigned num_devices;
    uint32_t psid[CONF_MAX_DEVICES];    /* physical StreamIDs */
    void *opaque;
};

/* Run every case (or those whose name starts with filter); 0 on success. */
int conf_run(ConfHost *h, const char *filter);

/*
 * The physical SMMU the host box's L0 presents (QEMU's emulated
 * arm-smmuv3,stage=nested with S2FWB, patch 0010): the simulator is
 * configured with the same ID registers so that hw_info compares.
 */
#define CONF_L0_IDR0 0x0d44101bu
#define CONF_L0_IDR1 0x02730010u
#define CONF_L0_IDR2 0x00000000u
#define CONF_L0_IDR3 0x00001514u
#define CONF_L0_IDR4 0x00000000u
#define CONF_L0_IDR5 0x00000074u
#define CONF_L0_IIDR 0x00000000u
#define CONF_L0_AIDR 0x00000001u

#endif
