/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The conformance cases against the running kernel's /dev/iommu, with
 * VFIO cdev devices (/dev/vfio/devices/vfioN, bound to vfio-pci) as the
 * devices. Built static for the host box's L1.
 *   conformance-real [-c CASE-PREFIX] /dev/vfio/devices/vfioN...
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "conformance.h"
#include "nvme-fetch.h"

typedef struct RealHost {
    int iommufd;
    const char *path[CONF_MAX_DEVICES];
    int fd[CONF_MAX_DEVICES];
    bool bound[CONF_MAX_DEVICES];
} RealHost;

static int real_open(ConfHost *h)
{
    RealHost *r = h->opaque;

    r->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
    if (r->iommufd < 0) {
        return -errno;
    }
    for (unsigned i = 0; i < h->num_devices; i++) {
        r->bound[i] = false;
        r->fd[i] = open(r->path[i], O_RDWR | O_CLOEXEC);
        if (r->fd[i] < 0) {
            return -errno;
        }
    }
    return 0;
}

static void real_close(ConfHost *h)
{
    RealHost *r = h->opaque;

    for (unsigned i = 0; i < h->num_devices; i++) {
        if (r->fd[i] >= 0) {
            close(r->fd[i]);
            r->fd[i] = -1;
        }
    }
    close(r->iommufd);
}

static int real_ioctl(ConfHost *h, unsigned long request, void *arg)
{
    RealHost *r = h->opaque;

    return ioctl(r->iommufd, request, arg) ? -errno : 0;
}

static int real_bind(ConfHost *h, unsigned dev, uint32_t *dev_id)
{
    RealHost *r = h->opaque;
    struct vfio_device_bind_iommufd b = {
        .argsz = sizeof(b), .iommufd = r->iommufd,
    };

    if (dev >= h->num_devices) {
        return -ENODEV;
    }
    if (r->fd[dev] < 0) {
        /* Unbound by closing: bind again on a new open file. */
        r->fd[dev] = open(r->path[dev], O_RDWR | O_CLOEXEC);
        if (r->fd[dev] < 0) {
            return -errno;
        }
    }
    if (ioctl(r->fd[dev], VFIO_DEVICE_BIND_IOMMUFD, &b)) {
        return -errno;
    }
    r->bound[dev] = true;
    *dev_id = b.out_devid;
    return 0;
}

static int real_attach(ConfHost *h, unsigned dev, uint32_t *pt_id)
{
    RealHost *r = h->opaque;
    struct vfio_device_attach_iommufd_pt a = {
        .argsz = sizeof(a), .pt_id = *pt_id,
    };

    if (ioctl(r->fd[dev], VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a)) {
        return -errno;
    }
    *pt_id = a.pt_id;
    return 0;
}

static int real_detach(ConfHost *h, unsigned dev)
{
    RealHost *r = h->opaque;
    struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

    return ioctl(r->fd[dev], VFIO_DEVICE_DETACH_IOMMUFD_PT, &d) ? -errno : 0;
}

static int real_unbind(ConfHost *h, unsigned dev)
{
    RealHost *r = h->opaque;

    /* A VFIO cdev unbinds from the iommufd when its file is closed. */
    if (r->fd[dev] < 0) {
        return -EBADF;
    }
    close(r->fd[dev]);
    r->fd[dev] = -1;
    r->bound[dev] = false;
    return 0;
}

static ssize_t real_read(ConfHost *h, int fd, void *buf, size_t count)
{
    ssize_t n = read(fd, buf, count);

    return n < 0 ? -errno : n;
}

static int real_close_fd(ConfHost *h, int fd)
{
    return close(fd) ? -errno : 0;
}

/*
 * Device 0 must be an NVMe controller (QEMU's nvme in the host box): it
 * fetches a command from @iova (nvme-fetch.h), one DMA read by the device
 * itself, translated by the real SMMU.
 */
static int real_dma_read(ConfHost *h, uint64_t iova)
{
    RealHost *r = h->opaque;
    struct vfio_region_info cfg = {
        .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX,
    };
    struct vfio_region_info bar0 = {
        .argsz = sizeof(bar0), .index = VFIO_PCI_BAR0_REGION_INDEX,
    };
    uint8_t *bar;
    uint16_t cmd;
    int fd = r->fd[0], rc;

    if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &cfg) ||
        ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &bar0)) {
        return -errno;
    }
    /* Memory space and bus master enable. */
    if (pread(fd, &cmd, 2, cfg.offset + 4) != 2) {
        return -EIO;
    }
    cmd |= 0x6;
    if (pwrite(fd, &cmd, 2, cfg.offset + 4) != 2) {
        return -EIO;
    }
    bar = mmap(NULL, NVME_BAR_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
               bar0.offset);
    if (bar == MAP_FAILED) {
        return -errno;
    }
    rc = nvme_fetch_admin_command(bar, iova);
    munmap(bar, NVME_BAR_LEN);
    return rc;
}

static int real_poll(ConfHost *h, int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, ms) > 0 && (p.revents & POLLIN);
}

static int real_mmap(ConfHost *h, size_t length, off_t offset, void **addr)
{
    RealHost *r = h->opaque;
    void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED,
                   r->iommufd, offset);

    if (p == MAP_FAILED) {
        return -errno;
    }
    *addr = p;
    return 0;
}

static int real_munmap(ConfHost *h, void *addr, size_t length)
{
    return munmap(addr, length) ? -errno : 0;
}

static const ConfHostOps real_ops = {
    .open = real_open,
    .close = real_close,
    .ioctl = real_ioctl,
    .bind = real_bind,
    .attach = real_attach,
    .detach = real_detach,
    .unbind = real_unbind,
    .read = real_read,
    .close_fd = real_close_fd,
    .dma_read = real_dma_read,
    .poll = real_poll,
    .mmap = real_mmap,
    .munmap = real_munmap,
};

int main(int argc, char **argv)
{
    RealHost r = { .iommufd = -1 };
    ConfHost h = { .name = "/dev/iommu", .ops = &real_ops, .opaque = &r };
    const char *filter = NULL;
    int i = 1;

    if (argc > 2 && !strcmp(argv[1], "-c")) {
        filter = argv[2];
        i = 3;
    }
    for (; i < argc && h.num_devices < CONF_MAX_DEVICES; i++) {
        r.path[h.num_devices] = argv[i];
        r.fd[h.num_devices++] = -1;
    }
    if (!h.num_devices) {
        fprintf(stderr, "usage: %s [-c CASE] /dev/vfio/devices/vfioN...\n",
                argv[0]);
        return 2;
    }
    return conf_run(&h, filter);
}
