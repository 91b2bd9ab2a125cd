/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The conformance cases against iommufd-sim, configured as the host box's
 * physical SMMU (QEMU's emulated SMMUv3, stage=nested, no CMDQV) with the
 * two devices at the StreamIDs they have there. Prints the observations
 * on stdout.
 *   [CONF_SIM_CMDQV=1] [CONF_SIM_NO_FWB=1] [CONF_SIM_NO_CANWBS=1]
 *   conformance-sim [CASE-PREFIX]
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "iommufd-sim.h"
#include "conformance.h"

typedef struct SimHost {
    IommufdSim *sim;
    uint32_t dev_id[CONF_MAX_DEVICES];
} SimHost;

static int sim_open(ConfHost *h)
{
    SimHost *s = h->opaque;
    IommufdSimConfig cfg = {
        .num_smmus = 1,
        .override_idr = true,
        .idr = { CONF_L0_IDR0, CONF_L0_IDR1, CONF_L0_IDR2, CONF_L0_IDR3,
                 CONF_L0_IDR4, CONF_L0_IDR5 },
        .iidr = CONF_L0_IIDR,
        .aidr = CONF_L0_AIDR,
        .no_cmdqv = true,
    };

    /*
     * CONF_SIM_CMDQV=1: a Tegra241 CMDQV as the box's L0 has with
     * arm-smmuv3,cmdqv=on (4 VINTFs of 2 VCMDQs, 16 SID slots).
     */
    if (getenv("CONF_SIM_CMDQV") && !strcmp(getenv("CONF_SIM_CMDQV"), "1")) {
        cfg.no_cmdqv = false;
        cfg.cmdqv_log2_vintfs = 2;
        cfg.cmdqv_log2_vcmdqs = 1;
        cfg.cmdqv_vsids = 16;
    }

    /*
     * CONF_SIM_NO_FWB=1: an L0 SMMU with s2fwb=off (no IDR3.FWB);
     * CONF_SIM_NO_CANWBS=1: an L1 booted by device tree (no IORT, so no
     * CANWBS root complex).
     */
    if (getenv("CONF_SIM_NO_FWB") && !strcmp(getenv("CONF_SIM_NO_FWB"), "1")) {
        cfg.idr[3] &= ~(1u << 8);
    }
    if (getenv("CONF_SIM_NO_CANWBS") &&
        !strcmp(getenv("CONF_SIM_NO_CANWBS"), "1")) {
        cfg.no_canwbs = true;
    }

    s->sim = iommufd_sim_new(&cfg);
    for (unsigned i = 0; i < CONF_MAX_DEVICES; i++) {
        s->dev_id[i] = 0;
    }
    return s->sim ? 0 : -ENOMEM;
}

static void sim_close(ConfHost *h)
{
    SimHost *s = h->opaque;

    iommufd_sim_free(s->sim);
    s->sim = NULL;
}

static int sim_ioctl(ConfHost *h, unsigned long request, void *arg)
{
    SimHost *s = h->opaque;

    return iommufd_sim_ioctl(s->sim, request, arg);
}

static int sim_bind(ConfHost *h, unsigned dev, uint32_t *dev_id)
{
    SimHost *s = h->opaque;
    int rc;

    if (dev >= h->num_devices) {
        return -ENODEV;
    }
    if (s->dev_id[dev]) {
        /* A VFIO cdev binds once per open file. */
        return -EINVAL;
    }
    rc = iommufd_sim_bind(s->sim, 0, h->psid[dev], dev_id);
    if (!rc) {
        s->dev_id[dev] = *dev_id;
    }
    return rc;
}

static int sim_attach(ConfHost *h, unsigned dev, uint32_t *pt_id)
{
    SimHost *s = h->opaque;

    return iommufd_sim_attach(s->sim, s->dev_id[dev], pt_id);
}

static int sim_detach(ConfHost *h, unsigned dev)
{
    SimHost *s = h->opaque;

    return iommufd_sim_detach(s->sim, s->dev_id[dev]);
}

static int sim_unbind(ConfHost *h, unsigned dev)
{
    SimHost *s = h->opaque;
    int rc = iommufd_sim_unbind(s->sim, s->dev_id[dev]);

    s->dev_id[dev] = 0;
    return rc;
}

static ssize_t sim_read(ConfHost *h, int fd, void *buf, size_t count)
{
    SimHost *s = h->opaque;

    return iommufd_sim_read(s->sim, fd, buf, count, NULL);
}

static int sim_close_fd(ConfHost *h, int fd)
{
    SimHost *s = h->opaque;

    return iommufd_sim_close(s->sim, fd);
}

/*
 * The device's DMA as the box's L0 NVMe does it: the 64-byte admin
 * command fetch is 16 reads of 4 bytes (QEMU splits the access), each
 * translated, and so each faulting, on its own.
 */
static int sim_dma_read(ConfHost *h, uint64_t iova)
{
    SimHost *s = h->opaque;
    IommufdSimTranslation t;
    int rc;

    for (unsigned i = 0; i < 16; i++) {
        rc = iommufd_sim_translate(s->sim, s->dev_id[0], false, 0,
                                   iova + 4 * i, IOMMUFD_SIM_READ, &t);
        /* A fault is the DMA's outcome, not a failure to issue it. */
        if (rc && rc != -EFAULT) {
            return rc;
        }
    }
    return 0;
}

/* The simulator's vEVENTQ fds are real fds it signals (as the kernel's). */
static int sim_poll(ConfHost *h, int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, ms) > 0 && (p.revents & POLLIN);
}

static int sim_mmap(ConfHost *h, size_t length, off_t offset, void **addr)
{
    SimHost *s = h->opaque;

    return iommufd_sim_mmap(s->sim, length, PROT_READ | PROT_WRITE,
                            MAP_SHARED, offset, addr);
}

static int sim_munmap(ConfHost *h, void *addr, size_t length)
{
    SimHost *s = h->opaque;

    return iommufd_sim_munmap(s->sim, addr, length);
}

static const ConfHostOps sim_ops = {
    .open = sim_open,
    .close = sim_close,
    .ioctl = sim_ioctl,
    .bind = sim_bind,
    .attach = sim_attach,
    .detach = sim_detach,
    .unbind = sim_unbind,
    .read = sim_read,
    .close_fd = sim_close_fd,
    .dma_read = sim_dma_read,
    .poll = sim_poll,
    .mmap = sim_mmap,
    .munmap = sim_munmap,
};

int main(int argc, char **argv)
{
    SimHost s = { };
    /* The box's L0 has the NVMe at 00:01.0 and the virtio disk at 00:02.0. */
    ConfHost h = {
        .name = "iommufd-sim",
        .ops = &sim_ops,
        .num_devices = 2,
        .psid = { 0x08, 0x10 },
        .opaque = &s,
    };

    return conf_run(&h, argc > 1 ? argv[1] : NULL);
}
