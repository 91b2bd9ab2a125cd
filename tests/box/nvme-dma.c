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
#include <time.h>
#include <unistd.h>

#define PCI_COMMAND         0x04
#define PCI_COMMAND_MEMORY  0x2
#define PCI_COMMAND_MASTER  0x4

#define NVME_CC             0x14
#define NVME_CSTS           0x1c
#define NVME_AQA            0x24
#define NVME_ASQ            0x28
#define NVME_ACQ            0x30
#define NVME_SQ0TDBL        0x1000
#define NVME_BAR_LEN        0x2000

static uint32_t rd32(volatile uint8_t *bar, unsigned off)
{
    return *(volatile uint32_t *)(bar + off);
}

static void wr32(volatile uint8_t *bar, unsigned off, uint32_t val)
{
    *(volatile uint32_t *)(bar + off) = val;
}

static void wr64(volatile uint8_t *bar, unsigned off, uint64_t val)
{
    wr32(bar, off, (uint32_t)val);
    wr32(bar, off + 4, val >> 32);
}

/* CSTS.RDY == @want within a second. */
static int wait_rdy(volatile uint8_t *bar, uint32_t want)
{
    const struct timespec ms = { 0, 1000000 };
    int i;

    for (i = 0; i < 1000; i++) {
        if ((rd32(bar, NVME_CSTS) & 1) == want) {
            return 0;
        }
        nanosleep(&ms, NULL);
    }
    return -1;
}

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
    volatile uint8_t *bar;
    uint64_t iova;
    int fd;

    if (argc != 3) {
        fprintf(stderr, "usage: %s SYSFS-PCI-DEVICE IOVA\n", argv[0]);
        return 2;
    }
    iova = strtoull(argv[2], NULL, 0);
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
    wr32(bar, NVME_CC, 0);
    if (wait_rdy(bar, 0)) {
        fprintf(stderr, "nvme-dma: the controller does not stop\n");
        return 1;
    }
    /* Admin queues of 2 entries, SQ at @iova, CQ one page above. */
    wr32(bar, NVME_AQA, (1u << 16) | 1);
    wr64(bar, NVME_ASQ, iova);
    wr64(bar, NVME_ACQ, iova + 0x1000);
    /* IOCQES 16 bytes, IOSQES 64 bytes, enable. */
    wr32(bar, NVME_CC, (4u << 20) | (6u << 16) | 1);
    if (wait_rdy(bar, 1)) {
        fprintf(stderr, "nvme-dma: the controller does not start\n");
        return 1;
    }
    wr32(bar, NVME_SQ0TDBL, 1);
    printf("nvme-dma: admin command fetch from iova 0x%" PRIx64 "\n", iova);
    fflush(stdout);
    sleep(1);
    /* Leave it stopped: nothing else may come from it. */
    wr32(bar, NVME_CC, 0);
    wait_rdy(bar, 0);
    munmap((void *)bar, NVME_BAR_LEN);
    close(fd);
    return 0;
}
