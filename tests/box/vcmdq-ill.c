/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vcmdq-ill: put an illegal command on a guest VCMDQ of the Tegra241
 * CMDQV, from user space in the guest, and watch the guest kernel recover
 * the queue:
 *
 *   vcmdq-ill CMDQV-BASE LVCMDQ
 *
 * CMDQV-BASE is the guest-physical base of the CMDQV window (the device
 * tree's cmdqv@ node), LVCMDQ a logical VCMDQ of VINTF0 that the kernel
 * enabled but does not use (with one CPU Linux only issues on VCMDQ 0).
 * Through /dev/mem (CONFIG_DEVMEM, no STRICT_DEVMEM) it reads the queue's
 * BASE from the VINTF0 page1, writes CFGI_STE (which a guest-owned VINTF
 * may not run) and a CMD_SYNC at PROD, and moves PROD past both through
 * the VINTF0 page0: with cmdqv=on that page is the host's, so the
 * hardware sees the commands with no VMM exit. The hardware stops the
 * queue (CONS.ERR = ILL); the error comes back to the guest as its
 * LVCMDQ_ERR_MAP bit and interrupt; its driver prints the error, turns
 * the command into a CMD_SYNC and acknowledges through GERRORN; the
 * queue then runs both. Exits 0 once CONS has reached PROD with the error
 * acknowledged (GERROR = GERRORN), within 10 s, printing each state it
 * saw.
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

#define PAGE_64K            0x10000
#define VINTF0_PAGE0        0x30000
#define VINTF0_PAGE1        0x40000
#define VCMDQ_STRIDE        0x80
/* page0, per VCMDQ */
#define VCMDQ_CONS          0x00
#define VCMDQ_PROD          0x04
#define VCMDQ_STATUS        0x0c
#define VCMDQ_GERROR        0x10
#define VCMDQ_GERRORN       0x14
/* page1, per VCMDQ */
#define VCMDQ_BASE_LO       0x00
#define VCMDQ_BASE_HI       0x04

#define CONS_ERR(c)         (((c) >> 24) & 0x7f)

/*
 * Registers and the queue memory are read by the hardware (L0's model):
 * every access must reach it, in order, so both types are volatile.
 */
typedef volatile uint32_t mmio32;
/* (the queue entries: the same reason) */
typedef volatile uint64_t qword;
#define CMD_CFGI_STE        0x03ull
#define CMD_SYNC            0x46ull

static void *map_phys(int fd, uint64_t pa, size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                   (off_t)pa);

    if (p == MAP_FAILED) {
        fprintf(stderr, "mmap /dev/mem 0x%" PRIx64 "+0x%zx: %s\n", pa, len,
                strerror(errno));
        exit(1);
    }
    return p;
}

static uint32_t rd(uint8_t *page, unsigned q, unsigned reg)
{
    return *(mmio32 *)(page + q * VCMDQ_STRIDE + reg);
}

static void wr(uint8_t *page, unsigned q, unsigned reg, uint32_t v)
{
    __sync_synchronize();
    *(mmio32 *)(page + q * VCMDQ_STRIDE + reg) = v;
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    uint8_t *page0, *page1;
    qword *ent;
    uint64_t base, qpa, qlen, map_pa;
    uint32_t log2n, mask, prod, cons, last = ~0u, want;
    unsigned q;
    double t0;
    int fd;

    if (argc != 3) {
        fprintf(stderr, "usage: %s CMDQV-BASE LVCMDQ\n", argv[0]);
        return 2;
    }
    if (sscanf(argv[1], "%" SCNx64, &base) != 1 ||
        sscanf(argv[2], "%u", &q) != 1) {
        fprintf(stderr, "usage: %s CMDQV-BASE LVCMDQ\n", argv[0]);
        return 2;
    }
    fd = open("/dev/mem", O_RDWR | O_SYNC);
    if (fd < 0) {
        perror("/dev/mem");
        return 1;
    }
    page0 = map_phys(fd, base + VINTF0_PAGE0, PAGE_64K);
    page1 = map_phys(fd, base + VINTF0_PAGE1, PAGE_64K);
    qpa = ((uint64_t)rd(page1, q, VCMDQ_BASE_HI) << 32) |
          rd(page1, q, VCMDQ_BASE_LO);
    log2n = qpa & 0x1f;
    qpa &= 0x0000ffffffffffe0ull;
    mask = (1u << log2n) - 1;
    prod = rd(page0, q, VCMDQ_PROD);
    cons = rd(page0, q, VCMDQ_CONS);
    printf("vcmdq %u: base 0x%" PRIx64 " log2size %u status 0x%x prod 0x%x "
           "cons 0x%x\n", q, qpa, log2n, rd(page0, q, VCMDQ_STATUS), prod,
           cons);
    if (!qpa || !log2n || !(rd(page0, q, VCMDQ_STATUS) & 1)) {
        fprintf(stderr, "vcmdq %u is not enabled\n", q);
        return 1;
    }
    if (((rd(page0, q, VCMDQ_GERROR) ^ rd(page0, q, VCMDQ_GERRORN)) & 1) ||
        (cons & (mask | (mask + 1))) !=
        (prod & (mask | (mask + 1)))) {
        fprintf(stderr, "vcmdq %u is not idle\n", q);
        return 1;
    }
    qlen = 16ull << log2n;
    /* (64 KiB aligned: a page boundary whatever the kernel's page size) */
    map_pa = qpa & ~(uint64_t)(PAGE_64K - 1);
    ent = (qword *)((uint8_t *)map_phys(fd, map_pa, qpa - map_pa +
                                                    qlen) + (qpa - map_pa));
    /* An illegal command for a guest VINTF, then a CMD_SYNC (CS=NONE). */
    ent[2 * (prod & mask)] = CMD_CFGI_STE | (0x42ull << 32);
    ent[2 * (prod & mask) + 1] = 0;
    ent[2 * ((prod + 1) & mask)] = CMD_SYNC;
    ent[2 * ((prod + 1) & mask) + 1] = 0;
    want = (prod + 2) & (mask | (mask + 1));
    printf("vcmdq %u: CFGI_STE at %u, CMD_SYNC at %u, prod -> 0x%x\n", q,
           prod & mask, (prod + 1) & mask, want);
    fflush(stdout);
    wr(page0, q, VCMDQ_PROD, want);
    for (t0 = now(); now() - t0 < 10;) {
        cons = rd(page0, q, VCMDQ_CONS);
        if (cons != last) {
            printf("vcmdq %u: cons 0x%08x (err %u) gerror 0x%x gerrorn 0x%x "
                   "at %.3f s\n", q, cons, CONS_ERR(cons),
                   rd(page0, q, VCMDQ_GERROR), rd(page0, q, VCMDQ_GERRORN),
                   now() - t0);
            fflush(stdout);
            last = cons;
        }
        /* (CONS.ERR is UNKNOWN once the error is no longer active) */
        if ((cons & (mask | (mask + 1))) == want &&
            !((rd(page0, q, VCMDQ_GERROR) ^ rd(page0, q, VCMDQ_GERRORN)) &
              1)) {
            printf("vcmdq %u: recovered\n", q);
            return 0;
        }
        usleep(1000);
    }
    printf("vcmdq %u: not recovered in 10 s\n", q);
    return 1;
}
