/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvme-dma: make a PCI NVMe controller (QEMU's nvme) do one DMA read at
 * an IOVA of our choosing, from user space, with no driver bound:
 *
 *   nvme-dma /sys/bus/pci/devices/DDDD:BB:DD.F IOVA
 *
 * The controller is reset, its admin submission queue put at IOVA and
 * its doorbell rung: it fetches the 64-byte command from IOVA. With IOVA
 * unmapped in the device's IOMMU domain that fetch faults, which is how
 * the host box makes a real fault in L2 (L0's SMMU raises it, L1's
 * kernel routes it to the vEVENTQ, L2's SMMU driver prints it). Memory
 * space and bus mastering are enabled through the sysfs config file and
 * BAR0 is the sysfs resource0 mapping: no /dev/mem needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "nvme-fetch.h"

#define PCI_COMMAND         0x04
#define PCI_COMMAND_MEMORY  0x2
#define PCI_COMMAND_MASTER  0x4

static int enable_device(const char *dev)
{
    char path[512];
    uint16_t cmd;
    int fd;

    snprintf(path, sizeof(path), "%s/config", dev);
    fd = open(path, O_RDWR);
    if (fd < 0 || pread(fd, &cmd, 2, PCI_COMMAND) != 2) {
        perror(path);
        return -1;
    }
    cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    if (pwrite(fd, &cmd, 2, PCI_COMMAND) != 2) {
        perror(path);
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    char path[512];
    uint8_t *bar;
    uint64_t iova;
    int fd, rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s SYSFS-PCI-DEVICE IOVA\n", argv[0]);
        return 2;
    }
    if (sscanf(argv[2], "%" SCNx64, &iova) != 1) {
        fprintf(stderr, "nvme-dma: IOVA %s is not a hex number\n", argv[2]);
        return 2;
    }
    if (enable_device(argv[1])) {
        return 1;
    }
    snprintf(path, sizeof(path), "%s/resource0", argv[1]);
    fd = open(path, O_RDWR | O_SYNC);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    bar = mmap(NULL, NVME_BAR_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (bar == MAP_FAILED) {
        perror("mmap resource0");
        return 1;
    }
    rc = nvme_fetch_admin_command(bar, iova);
    if (rc) {
        fprintf(stderr, "nvme-dma: the controller did not start: %s\n",
                strerror(-rc));
    } else {
        printf("nvme-dma: admin command fetch from iova 0x%" PRIx64 "\n",
               iova);
    }
    munmap(bar, NVME_BAR_LEN);
    close(fd);
    return rc ? 1 : 0;
}
