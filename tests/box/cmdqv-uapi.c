/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmdqv-uapi: drive the real kernel's Tegra241 CMDQV uAPI from user
 * space, the way a VMM does for its guest, on the host box's L1 (whose
 * CMDQV is L0's emulated one):
 *
 *   cmdqv-uapi /dev/vfio/devices/vfioN
 *
 * Binds the device, gets IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, allocates a
 * TEGRA241_CMDQV vIOMMU over a NEST_PARENT S2, a vDEVICE (vSID VSID),
 * a TEGRA241_CMDQV vEVENTQ, mmaps the VINTF page0 and allocates HW
 * queue 0 over one page of IOAS memory. Then, as a guest would, through
 * page0 only: enables the queue, runs TLBI_NH_ASID, ATC_INV (the vSID)
 * and CMD_SYNC, checks CONS; queues an illegal CFGI_STE and checks that
 * the queue stops with CONS.ERR = ILL and that the kernel reports the
 * error on the vEVENTQ; acknowledges it and checks the queue goes on;
 * then frees everything in reverse.
 *
 * Prints a line per step ("cmdqv-uapi STEP ok|FAIL ..."); the exit
 * status is the number of failed steps. L0's counters tell what reached
 * its CMDQV (tests/box/test-box.py, l1-cmdqv).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#define VSID            0x42
#define QUEUE_IOVA      0x100000ULL
#define QUEUE_LEN       4096            /* 256 commands, one page */
#define PAGE0_LEN       0x10000

/* VCMDQ page0 registers of LVCMDQ 0 */
#define VCMDQ_CONS      0x0
#define VCMDQ_PROD      0x4
#define VCMDQ_CONFIG    0x8
#define VCMDQ_STATUS    0xc
#define VCMDQ_GERROR    0x10
#define VCMDQ_GERRORN   0x14
#define CONS_ERR(v)     (((v) >> 24) & 0x7f)
#define CONS_IDX(v)     ((v) & 0xfffff)

#define CMD_CFGI_STE        0x03
#define CMD_TLBI_NH_ASID    0x11
#define CMD_ATC_INV         0x40
#define CMD_SYNC            0x46

static int failed;

static void step(const char *name, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void step(const char *name, int ok, const char *fmt, ...)
{
    va_list ap;

    printf("cmdqv-uapi %s %s ", name, ok ? "ok" : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    failed += !ok;
}

static int iofd;

static int io(unsigned long req, void *arg)
{
    return ioctl(iofd, req, arg) ? errno : 0;
}

static void destroy(const char *name, uint32_t id)
{
    struct iommu_destroy d = { .size = sizeof(d), .id = id };
    int rc = io(IOMMU_DESTROY, &d);

    step(name, !rc, "id=%u rc=%d", id, rc);
}

/*
 * The VINTF page0 is device MMIO (L0's CMDQV registers): every access
 * must reach it, in order, so the pointer is volatile.
 */
static volatile uint32_t *page0;

static uint32_t rd(unsigned reg)
{
    return page0[reg / 4];
}

static void wr(unsigned reg, uint32_t val)
{
    page0[reg / 4] = val;
    __sync_synchronize();
}

/* Wait for (reg & mask) == val: the emulated CMDQV answers at once. */
static int wait_reg(unsigned reg, uint32_t mask, uint32_t val)
{
    int i;

    for (i = 0; i < 1000; i++) {
        if ((rd(reg) & mask) == val) {
            return 1;
        }
        usleep(1000);
    }
    return 0;
}

static void put_cmd(uint64_t *queue, unsigned idx, uint64_t c0, uint64_t c1)
{
    queue[2 * idx] = c0;
    queue[2 * idx + 1] = c1;
    __sync_synchronize();
}

int main(int argc, char **argv)
{
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
    struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
    struct iommu_hw_info_tegra241_cmdqv info = { 0 };
    struct iommu_hw_info hw = { .size = sizeof(hw) };
    struct iommu_hwpt_alloc s2 = { .size = sizeof(s2) };
    struct iommu_viommu_tegra241_cmdqv vdata = { 0 };
    struct iommu_viommu_alloc viommu = { .size = sizeof(viommu) };
    struct iommu_vdevice_alloc vdev = { .size = sizeof(vdev) };
    struct iommu_veventq_alloc veq = { .size = sizeof(veq) };
    struct iommu_ioas_map map = { .size = sizeof(map) };
    struct iommu_hw_queue_alloc hwq = { .size = sizeof(hwq) };
    struct {
        struct iommufd_vevent_header hdr;
        struct iommu_vevent_tegra241_cmdqv ev;
    } vevent;
    struct pollfd pfd;
    uint64_t *queue;
    uint32_t cons;
    ssize_t n;
    int devfd, rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s /dev/vfio/devices/vfioN\n", argv[0]);
        return 2;
    }
    iofd = open("/dev/iommu", O_RDWR);
    devfd = open(argv[1], O_RDWR);
    if (iofd < 0 || devfd < 0) {
        perror("open");
        return 2;
    }
    bind.iommufd = iofd;
    rc = ioctl(devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind) ? errno : 0;
    step("bind", !rc, "rc=%d dev_id=%u", rc, bind.out_devid);
    if (rc) {
        return failed;
    }

    hw.dev_id = bind.out_devid;
    hw.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
    hw.in_data_type = IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV;
    hw.data_len = sizeof(info);
    hw.data_uptr = (uintptr_t)&info;
    rc = io(IOMMU_GET_HW_INFO, &hw);
    step("hw-info", !rc && hw.out_data_type ==
         IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV && info.version == 1,
         "rc=%d type=%u version=%u log2vcmdqs=%u log2vsids=%u", rc,
         hw.out_data_type, info.version, info.log2vcmdqs, info.log2vsids);

    rc = io(IOMMU_IOAS_ALLOC, &ioas);
    s2.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
    s2.dev_id = bind.out_devid;
    s2.pt_id = ioas.out_ioas_id;
    rc = rc ? rc : io(IOMMU_HWPT_ALLOC, &s2);
    step("s2", !rc, "rc=%d hwpt=%u", rc, s2.out_hwpt_id);

    viommu.type = IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV;
    viommu.dev_id = bind.out_devid;
    viommu.hwpt_id = s2.out_hwpt_id;
    viommu.data_len = sizeof(vdata);
    viommu.data_uptr = (uintptr_t)&vdata;
    rc = io(IOMMU_VIOMMU_ALLOC, &viommu);
    step("viommu", !rc && vdata.out_vintf_mmap_length == PAGE0_LEN,
         "rc=%d id=%u mmap offset=0x%llx length=0x%llx", rc,
         viommu.out_viommu_id,
         (unsigned long long)vdata.out_vintf_mmap_offset,
         (unsigned long long)vdata.out_vintf_mmap_length);
    if (rc) {
        return failed;
    }

    vdev.viommu_id = viommu.out_viommu_id;
    vdev.dev_id = bind.out_devid;
    vdev.virt_id = VSID;
    rc = io(IOMMU_VDEVICE_ALLOC, &vdev);
    step("vdevice", !rc, "rc=%d id=%u vsid=0x%x", rc, vdev.out_vdevice_id,
         VSID);

    veq.viommu_id = viommu.out_viommu_id;
    veq.type = IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV;
    veq.veventq_depth = 8;
    rc = io(IOMMU_VEVENTQ_ALLOC, &veq);
    step("veventq", !rc, "rc=%d id=%u", rc, veq.out_veventq_id);

    page0 = mmap(NULL, PAGE0_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, iofd,
                 vdata.out_vintf_mmap_offset);
    step("mmap-page0", page0 != MAP_FAILED, "errno=%d",
         page0 == MAP_FAILED ? errno : 0);
    if (page0 == MAP_FAILED) {
        return failed;
    }

    /* The queue's memory: one page the S2 maps at QUEUE_IOVA. */
    queue = mmap(NULL, QUEUE_LEN, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(queue, 0, QUEUE_LEN);
    map.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                IOMMU_IOAS_MAP_WRITEABLE;
    map.ioas_id = ioas.out_ioas_id;
    map.user_va = (uintptr_t)queue;
    map.length = QUEUE_LEN;
    map.iova = QUEUE_IOVA;
    rc = io(IOMMU_IOAS_MAP, &map);
    hwq.viommu_id = viommu.out_viommu_id;
    hwq.type = IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV;
    hwq.index = 0;
    hwq.nesting_parent_iova = QUEUE_IOVA;
    hwq.length = QUEUE_LEN;
    rc = rc ? rc : io(IOMMU_HW_QUEUE_ALLOC, &hwq);
    step("hw-queue", !rc, "rc=%d id=%u", rc, hwq.out_hw_queue_id);
    if (rc) {
        return failed;
    }

    /* From here on, only page0: what a guest does with no VMM exit. */
    wr(VCMDQ_CONFIG, 1);
    step("queue-enable", wait_reg(VCMDQ_STATUS, 1, 1), "STATUS=0x%x",
         rd(VCMDQ_STATUS));
    put_cmd(queue, 0, CMD_TLBI_NH_ASID | 1ULL << 48, 0);
    put_cmd(queue, 1, CMD_ATC_INV | (uint64_t)VSID << 32, 0);
    put_cmd(queue, 2, CMD_SYNC, 0);
    wr(VCMDQ_PROD, 3);
    step("commands", wait_reg(VCMDQ_CONS, 0x7f0fffff, 3), "CONS=0x%x",
         rd(VCMDQ_CONS));

    /* An illegal command for a guest-owned VINTF. */
    put_cmd(queue, 3, CMD_CFGI_STE | (uint64_t)VSID << 32, 0);
    put_cmd(queue, 4, CMD_SYNC, 0);
    wr(VCMDQ_PROD, 5);
    wait_reg(VCMDQ_CONS, 0x7f000000, 1 << 24);
    cons = rd(VCMDQ_CONS);
    step("illegal-stops", CONS_ERR(cons) == 1 && CONS_IDX(cons) == 3 &&
         rd(VCMDQ_GERROR) != rd(VCMDQ_GERRORN), "CONS=0x%x GERROR=0x%x "
         "GERRORN=0x%x", cons, rd(VCMDQ_GERROR), rd(VCMDQ_GERRORN));
    pfd.fd = veq.out_veventq_fd;
    pfd.events = POLLIN;
    n = poll(&pfd, 1, 5000) == 1 ? read(pfd.fd, &vevent, sizeof(vevent))
                                 : -1;
    step("vevent", n == sizeof(vevent) && vevent.hdr.flags == 0 &&
         vevent.ev.lvcmdq_err_map[0] == 1 && vevent.ev.lvcmdq_err_map[1] == 0,
         "read=%zd flags=0x%x seq=%u lvcmdq_err_map=0x%llx:0x%llx", n,
         n > 0 ? vevent.hdr.flags : 0, n > 0 ? vevent.hdr.sequence : 0,
         n > 0 ? (unsigned long long)vevent.ev.lvcmdq_err_map[1] : 0ULL,
         n > 0 ? (unsigned long long)vevent.ev.lvcmdq_err_map[0] : 0ULL);

    /* The guest driver's recovery: skip it, then acknowledge. */
    put_cmd(queue, 3, CMD_SYNC, 0);
    wr(VCMDQ_GERRORN, rd(VCMDQ_GERROR));
    step("recovers", wait_reg(VCMDQ_CONS, 0xfffff, 5), "CONS=0x%x",
         rd(VCMDQ_CONS));

    /* Teardown in reverse; the kernel resets the queue and the VINTF. */
    wr(VCMDQ_CONFIG, 0);
    destroy("free-hw-queue", hwq.out_hw_queue_id);
    munmap((void *)page0, PAGE0_LEN);
    close(veq.out_veventq_fd);
    destroy("free-veventq", veq.out_veventq_id);
    destroy("free-vdevice", vdev.out_vdevice_id);
    destroy("free-viommu", viommu.out_viommu_id);
    destroy("free-s2", s2.out_hwpt_id);
    close(devfd);
    close(iofd);
    return failed;
}
