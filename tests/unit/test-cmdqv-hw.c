/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Check suite of sim/cmdqv-hw.c, the simulated Tegra241 CMDQV.
 *
 * Each test builds a CMDQV with 4 VINTFs (VINTF0 is the host's), 4 VCMDQs
 * per VINTF and 4 SID slots. Engine tests play the guest through their
 * own MAP_SHARED mapping of the VINTF page0 fd, as the VMM maps it.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <glib.h>

#include "cmdqv-guest-cmd.h"
#include "cmdqv-hw.h"
#include "cmdqv-regs.h"
#include "smmu-defs.h"

#define LOG2_VINTFS     2
#define LOG2_VCMDQS     4
#define LOG2_VSIDS      2
#define NR_VINTFS       (1u << LOG2_VINTFS)
#define NR_LVCMDQS      (1u << (LOG2_VCMDQS - LOG2_VINTFS))
#define NR_SIDS         (1u << LOG2_VSIDS)
#define CMDQS_LOG2      8       /* SMMU_IDR1.CMDQS: queues up to 4 KiB */
#define MAX_QLEN        (16u << CMDQS_LOG2)
#define TEST_VMID       0x2a
#define TEST_VSID       0x10
#define TEST_PSID       0x4321
#define QBASE           0x80000000ULL
#define MAX_RECORDED    64
#define WAIT_US         (10 * G_USEC_PER_SEC)

/* What the CMDQV handed to its ops: written by the engine thread. */
typedef struct Recorder {
    GMutex lock;
    unsigned nr_cmds;
    uint64_t cmds[MAX_RECORDED][2];
    unsigned nr_errors;
    unsigned err_vintf;
    uint64_t err_map[2];
} Recorder;

typedef struct Fixture {
    Recorder rec;
    SimCmdqv *cmdqv;
    unsigned vintf;
    uint8_t *page0;                     /* the "VMM" mapping */
    uint64_t *queue[NR_LVCMDQS];        /* guest queue memory */
} Fixture;

static Fixture fx;

static void rec_exec(void *opaque, const uint64_t cmd[2])
{
    Recorder *rec = opaque;

    g_mutex_lock(&rec->lock);
    if (rec->nr_cmds < MAX_RECORDED) {
        rec->cmds[rec->nr_cmds][0] = cmd[0];
        rec->cmds[rec->nr_cmds][1] = cmd[1];
    }
    rec->nr_cmds++;
    g_mutex_unlock(&rec->lock);
}

static void rec_vintf_error(void *opaque, unsigned vintf,
                            const uint64_t err_map[2])
{
    Recorder *rec = opaque;

    g_mutex_lock(&rec->lock);
    rec->nr_errors++;
    rec->err_vintf = vintf;
    rec->err_map[0] = err_map[0];
    rec->err_map[1] = err_map[1];
    g_mutex_unlock(&rec->lock);
}

static unsigned rec_nr_cmds(void)
{
    unsigned n;

    g_mutex_lock(&fx.rec.lock);
    n = fx.rec.nr_cmds;
    g_mutex_unlock(&fx.rec.lock);
    return n;
}

static void setup(void)
{
    SimCmdqvOps ops = {
        .exec = rec_exec,
        .vintf_error = rec_vintf_error,
        .opaque = &fx.rec,
    };

    memset(&fx, 0, sizeof(fx));
    g_mutex_init(&fx.rec.lock);
    fx.cmdqv = sim_cmdqv_new(LOG2_VINTFS, LOG2_VCMDQS, LOG2_VSIDS, &ops);
    ck_assert_ptr_nonnull(fx.cmdqv);
}

static void teardown(void)
{
    unsigned i;

    sim_cmdqv_free(fx.cmdqv);
    if (fx.page0) {
        munmap(fx.page0, CMDQV_PAGE_SIZE);
    }
    for (i = 0; i < NR_LVCMDQS; i++) {
        free(fx.queue[i]);
    }
    g_mutex_clear(&fx.rec.lock);
}

/* ---- guest side: the mapped page0 and the queue memory ---- */

static uint32_t guest_read(unsigned lidx, unsigned reg)
{
    uint32_t *p = (uint32_t *)(fx.page0 + CMDQV_VCMDQ_STRIDE * lidx + reg);

    return GUINT32_FROM_LE(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static void guest_write(unsigned lidx, unsigned reg, uint32_t val)
{
    uint32_t *p = (uint32_t *)(fx.page0 + CMDQV_VCMDQ_STRIDE * lidx + reg);

    __atomic_store_n(p, GUINT32_TO_LE(val), __ATOMIC_RELEASE);
}

static void guest_put_cmd(unsigned lidx, unsigned nr_ents, uint32_t ptr,
                          uint64_t cmd0, uint64_t cmd1)
{
    uint64_t *ent = fx.queue[lidx] + 2 * (ptr & (nr_ents - 1));

    /* Atomic, as the engine thread may read a slot being reused. */
    __atomic_store_n(&ent[0], GUINT64_TO_LE(cmd0), __ATOMIC_RELAXED);
    __atomic_store_n(&ent[1], GUINT64_TO_LE(cmd1), __ATOMIC_RELAXED);
}

static uint32_t cons_ptr(unsigned lidx, unsigned nr_ents)
{
    return guest_read(lidx, A_VCMDQ_CONS) & (2 * nr_ents - 1);
}

static uint32_t cons_err(unsigned lidx)
{
    return CMDQV_FIELD_EX(VCMDQ_CONS, ERR, guest_read(lidx, A_VCMDQ_CONS));
}

static uint64_t cmd_tlbi_asid(uint16_t vmid, uint16_t asid)
{
    return SIM_FIELD_PREP(SIM_CMD0_OP, SIM_CMD_TLBI_NH_ASID) |
           SIM_FIELD_PREP(SIM_CMD0_TLBI_VMID, vmid) |
           SIM_FIELD_PREP(SIM_CMD0_TLBI_ASID, asid);
}

static uint64_t cmd_tlbi_va(uint16_t vmid)
{
    return SIM_FIELD_PREP(SIM_CMD0_OP, SIM_CMD_TLBI_NH_VA) |
           SIM_FIELD_PREP(SIM_CMD0_TLBI_VMID, vmid);
}

static uint64_t cmd_atc_inv(uint32_t sid)
{
    return SIM_FIELD_PREP(SIM_CMD0_OP, SIM_CMD_ATC_INV) |
           SIM_FIELD_PREP(SIM_CMD0_SID, sid);
}

static uint64_t cmd_sync(unsigned cs)
{
    return SIM_FIELD_PREP(SIM_CMD0_OP, SIM_CMD_SYNC) |
           SIM_FIELD_PREP(SIM_CMD0_SYNC_CS, cs);
}

static uint64_t cmd_op(unsigned op)
{
    return SIM_FIELD_PREP(SIM_CMD0_OP, op);
}

/* A user VINTF with the given vSID, its page0 mapped as the VMM does. */
static void guest_vintf(void)
{
    unsigned slot;
    int fd;

    ck_assert_int_eq(sim_cmdqv_vintf_alloc(fx.cmdqv, TEST_VMID, &fx.vintf),
                     0);
    ck_assert_int_eq(sim_cmdqv_sid_alloc(fx.cmdqv, fx.vintf, TEST_VSID,
                                         TEST_PSID, &slot), 0);
    fd = sim_cmdqv_vintf_page0_fd(fx.cmdqv, fx.vintf);
    ck_assert_int_ge(fd, 0);
    fx.page0 = mmap(NULL, CMDQV_PAGE_SIZE, PROT_READ | PROT_WRITE,
                    MAP_SHARED, fd, 0);
    ck_assert_ptr_ne(fx.page0, MAP_FAILED);
}

/* Queue @lidx of @nr_ents entries, BASE programmed and enabled. */
/* Queue @lidx of @nr_ents, under an SMMU_IDR1.CMDQS of @cmdqs_log2. */
static void guest_queue_cmdqs(unsigned lidx, unsigned nr_ents,
                              unsigned cmdqs_log2)
{
    size_t len = (size_t)nr_ents << CMDQ_ENT_SIZE_SHIFT;
    size_t max = (size_t)16 << cmdqs_log2;

    fx.queue[lidx] = aligned_alloc(len, len);
    ck_assert_ptr_nonnull(fx.queue[lidx]);
    memset(fx.queue[lidx], 0, len);
    ck_assert_int_eq(sim_cmdqv_queue_alloc(fx.cmdqv, fx.vintf, lidx,
                                           QBASE + lidx * max,
                                           fx.queue[lidx], len, cmdqs_log2),
                     0);
    guest_write(lidx, A_VCMDQ_CONFIG, CMDQV_FIELD_DP(VCMDQ_CONFIG, EN, 0, 1));
}

static void guest_queue(unsigned lidx, unsigned nr_ents)
{
    guest_queue_cmdqs(lidx, nr_ents, CMDQS_LOG2);
}

static uint32_t vintf_reg(unsigned v, unsigned reg)
{
    return sim_cmdqv_read_reg(fx.cmdqv, A_CMDQV_VINTF(v) + reg);
}

/* ---- VINTFs ---- */

START_TEST(vintf_alloc_until_enospc)
{
    unsigned v, got, seen = 0;

    for (v = 1; v < NR_VINTFS; v++) {
        ck_assert_int_eq(sim_cmdqv_vintf_alloc(fx.cmdqv, v, &got), 0);
        ck_assert_uint_ne(got, 0);              /* VINTF0 is the host's */
        ck_assert_uint_lt(got, NR_VINTFS);
        ck_assert_uint_eq(seen & (1u << got), 0);
        seen |= 1u << got;
    }
    ck_assert_int_eq(sim_cmdqv_vintf_alloc(fx.cmdqv, 9, &got), -ENOSPC);
    sim_cmdqv_vintf_free(fx.cmdqv, 2);
    ck_assert_int_eq(sim_cmdqv_vintf_alloc(fx.cmdqv, 9, &got), 0);
    ck_assert_uint_eq(got, 2);
}
END_TEST

START_TEST(vintf_regs_after_alloc)
{
    unsigned v;
    uint32_t cfg, param = sim_cmdqv_read_reg(fx.cmdqv, A_CMDQV_PARAM);

    ck_assert_uint_eq(CMDQV_FIELD_EX(CMDQV_PARAM, NUM_VINTF_LOG2, param),
                      LOG2_VINTFS);
    ck_assert_uint_eq(CMDQV_FIELD_EX(CMDQV_PARAM, NUM_VCMDQ_LOG2, param),
                      LOG2_VCMDQS);
    ck_assert_uint_eq(CMDQV_FIELD_EX(CMDQV_PARAM, NUM_SID_PER_VM_LOG2, param),
                      LOG2_VSIDS);
    ck_assert_uint_eq(sim_cmdqv_read_reg(fx.cmdqv, A_CMDQV_STATUS),
                      CMDQV_FIELD_DP(CMDQV_STATUS, ENABLED, 0, 1));
    ck_assert_uint_eq(CMDQV_FIELD_EX(VINTF_CONFIG, HYP_OWN,
                                     vintf_reg(0, A_VINTF_CONFIG)), 1);

    ck_assert_int_eq(sim_cmdqv_vintf_alloc(fx.cmdqv, 0xbeef, &v), 0);
    cfg = vintf_reg(v, A_VINTF_CONFIG);
    ck_assert_uint_eq(CMDQV_FIELD_EX(VINTF_CONFIG, HYP_OWN, cfg), 0);
    ck_assert_uint_eq(CMDQV_FIELD_EX(VINTF_CONFIG, VMID, cfg), 0xbeef);
    ck_assert_uint_eq(CMDQV_FIELD_EX(VINTF_CONFIG, EN, cfg), 1);
    ck_assert_uint_eq(CMDQV_FIELD_EX(VINTF_STATUS, ENABLED,
                                     vintf_reg(v, A_VINTF_STATUS)), 1);

    sim_cmdqv_vintf_free(fx.cmdqv, v);
    ck_assert_uint_eq(vintf_reg(v, A_VINTF_CONFIG), 0);
    ck_assert_uint_eq(vintf_reg(v, A_VINTF_STATUS), 0);
}
END_TEST

START_TEST(vintf_page0_fd)
{
    unsigned v;

    ck_assert_int_eq(sim_cmdqv_vintf_page0_fd(fx.cmdqv, 0), -EINVAL);
    ck_assert_int_eq(sim_cmdqv_vintf_page0_fd(fx.cmdqv, 1), -EINVAL);
    ck_assert_int_eq(sim_cmdqv_vintf_alloc(fx.cmdqv, 1, &v), 0);
    ck_assert_int_ge(sim_cmdqv_vintf_page0_fd(fx.cmdqv, v), 0);
}
END_TEST

START_TEST(new_rejects_bad_geometry)
{
    ck_assert_ptr_null(sim_cmdqv_new(2, 1, 2, NULL));   /* < 1 queue/VINTF */
    ck_assert_ptr_null(sim_cmdqv_new(7, 7, 2, NULL));   /* > 64 VINTFs */
    ck_assert_ptr_null(sim_cmdqv_new(1, 8, 2, NULL));   /* > 128 VCMDQs */
    ck_assert_ptr_null(sim_cmdqv_new(1, 2, 5, NULL));   /* > 16 SID slots */
}
END_TEST

/* ---- SID slots ---- */

START_TEST(sid_slots)
{
    unsigned v, s, slot;

    ck_assert_int_eq(sim_cmdqv_vintf_alloc(fx.cmdqv, 1, &v), 0);
    for (s = 0; s < NR_SIDS; s++) {
        ck_assert_int_eq(sim_cmdqv_sid_alloc(fx.cmdqv, v, 0x100 + s,
                                             0x900 + s, &slot), 0);
        ck_assert_uint_eq(vintf_reg(v, A_VINTF_SID_REPLACE(slot)),
                          0x900 + s);
        ck_assert_uint_eq(vintf_reg(v, A_VINTF_SID_MATCH(slot)),
                          (0x100 + s) << 1 | 1);
    }
    ck_assert_int_eq(sim_cmdqv_sid_alloc(fx.cmdqv, v, 7, 7, &slot), -ENOSPC);

    sim_cmdqv_sid_free(fx.cmdqv, v, 1);
    ck_assert_uint_eq(vintf_reg(v, A_VINTF_SID_MATCH(1)), 0);
    ck_assert_uint_eq(vintf_reg(v, A_VINTF_SID_REPLACE(1)), 0);
    ck_assert_int_eq(sim_cmdqv_sid_alloc(fx.cmdqv, v, 7, 8, &slot), 0);
    ck_assert_uint_eq(slot, 1);
}
END_TEST

START_TEST(sid_alloc_errors)
{
    unsigned v, slot;

    ck_assert_int_eq(sim_cmdqv_vintf_alloc(fx.cmdqv, 1, &v), 0);
    /* vSID wider than SID_MATCH.VIRT_SID */
    ck_assert_int_eq(sim_cmdqv_sid_alloc(fx.cmdqv, v, 1u << 20, 1, &slot),
                     -EINVAL);
    /* VINTF0 and free VINTFs have no guest SID slots */
    ck_assert_int_eq(sim_cmdqv_sid_alloc(fx.cmdqv, 0, 1, 1, &slot), -EINVAL);
    ck_assert_int_eq(sim_cmdqv_sid_alloc(fx.cmdqv, v + 1, 1, 1, &slot),
                     -EINVAL);
}
END_TEST

/* ---- queue allocation ---- */

typedef struct QueueAllocCase {
    const char *name;
    unsigned preallocated;      /* bitmap of indexes allocated first */
    unsigned index;
    uint64_t base;
    uint64_t length;
    int expected;
} QueueAllocCase;

static const QueueAllocCase queue_alloc_cases[] = {
    { "first",            0x0, 0, QBASE, 256, 0 },
    { "next",             0x1, 1, QBASE, 256, 0 },
    { "min length",       0x0, 0, QBASE, 32, 0 },
    { "max length",       0x0, 0, QBASE, MAX_QLEN, 0 },
    { "index range",      0xf, NR_LVCMDQS, QBASE, 256, -EINVAL },
    { "taken",            0x1, 0, QBASE, 256, -EEXIST },
    { "gap",              0x1, 2, QBASE, 256, -EIO },
    { "no index 0",       0x0, 1, QBASE, 256, -EIO },
    { "not power of 2",   0x0, 0, QBASE, 48, -EINVAL },
    { "below 32",         0x0, 0, QBASE, 16, -EINVAL },
    { "zero length",      0x0, 0, QBASE, 0, -EINVAL },
    { "above CMDQS",      0x0, 0, QBASE, 2 * MAX_QLEN, -EINVAL },
    { "misaligned base",  0x0, 0, QBASE + 0x80, 256, -EINVAL },
    { "base bit 48",      0x0, 0, 1ULL << 48, 256, -EINVAL },
    { "base low bits",    0x0, 0, QBASE + 0x10, 32, -EINVAL },
};

START_TEST(queue_alloc_table)
{
    const QueueAllocCase *c = &queue_alloc_cases[_i];
    static uint64_t mem[MAX_QLEN / 8] __attribute__((aligned(4096)));
    unsigned v, i;
    int ret;

    ck_assert_int_eq(sim_cmdqv_vintf_alloc(fx.cmdqv, 1, &v), 0);
    for (i = 0; i < NR_LVCMDQS; i++) {
        if (c->preallocated & (1u << i)) {
            ck_assert_int_eq(sim_cmdqv_queue_alloc(fx.cmdqv, v, i, QBASE, mem,
                                                   256, CMDQS_LOG2), 0);
        }
    }
    ret = sim_cmdqv_queue_alloc(fx.cmdqv, v, c->index, c->base, mem,
                                c->length, CMDQS_LOG2);
    ck_assert_msg(ret == c->expected, "%s: got %d, expected %d", c->name,
                  ret, c->expected);
}
END_TEST

START_TEST(queue_free_descending)
{
    static uint64_t mem[64] __attribute__((aligned(256)));
    unsigned v;

    ck_assert_int_eq(sim_cmdqv_vintf_alloc(fx.cmdqv, 1, &v), 0);
    ck_assert_int_eq(sim_cmdqv_queue_alloc(fx.cmdqv, v, 0, QBASE, mem, 256,
                                           CMDQS_LOG2), 0);
    ck_assert_int_eq(sim_cmdqv_queue_alloc(fx.cmdqv, v, 1, QBASE, mem, 256,
                                           CMDQS_LOG2), 0);
    ck_assert_int_eq(sim_cmdqv_queue_alloc(fx.cmdqv, v, 2, QBASE, mem, 256,
                                           CMDQS_LOG2), 0);
    ck_assert_int_eq(sim_cmdqv_queue_free(fx.cmdqv, v, 0), -EBUSY);
    ck_assert_int_eq(sim_cmdqv_queue_free(fx.cmdqv, v, 1), -EBUSY);
    ck_assert_int_eq(sim_cmdqv_queue_free(fx.cmdqv, v, 2), 0);
    ck_assert_int_eq(sim_cmdqv_queue_free(fx.cmdqv, v, 2), -ENOENT);
    ck_assert_int_eq(sim_cmdqv_queue_free(fx.cmdqv, v, 1), 0);
    ck_assert_int_eq(sim_cmdqv_queue_free(fx.cmdqv, v, 0), 0);
    ck_assert_int_eq(sim_cmdqv_queue_free(fx.cmdqv, v, NR_LVCMDQS), -EINVAL);
}
END_TEST

START_TEST(queue_alloc_regs)
{
    static uint64_t mem[64] __attribute__((aligned(1024)));
    const uint64_t base = 0x123456789000ULL;
    unsigned v, q;
    uint32_t alloc;
    uint64_t page1;

    ck_assert_int_eq(sim_cmdqv_vintf_alloc(fx.cmdqv, 1, &v), 0);
    q = v * NR_LVCMDQS + 1;
    ck_assert_int_eq(sim_cmdqv_queue_alloc(fx.cmdqv, v, 0, base, mem, 256,
                                           CMDQS_LOG2), 0);
    ck_assert_int_eq(sim_cmdqv_queue_alloc(fx.cmdqv, v, 1, base, mem, 1024,
                                           CMDQS_LOG2), 0);

    alloc = sim_cmdqv_read_reg(fx.cmdqv, A_CMDQV_CMDQ_ALLOC(q));
    ck_assert_uint_eq(CMDQV_FIELD_EX(CMDQ_ALLOC, ALLOCATED, alloc), 1);
    ck_assert_uint_eq(CMDQV_FIELD_EX(CMDQ_ALLOC, VINTF, alloc), v);
    ck_assert_uint_eq(CMDQV_FIELD_EX(CMDQ_ALLOC, LVCMDQ, alloc), 1);

    /* BASE through the global VCMDQ page1 and the VINTF logical page1 */
    page1 = CMDQV_VCMDQ_PAGE1_BASE + CMDQV_VCMDQ_STRIDE * q + A_VCMDQ_BASE;
    ck_assert_uint_eq(sim_cmdqv_read_reg(fx.cmdqv, page1),
                      (uint32_t)(base | 6));    /* 1 KiB = 2^6 entries */
    ck_assert_uint_eq(sim_cmdqv_read_reg(fx.cmdqv, page1 + 4), base >> 32);
    page1 = CMDQV_VINTF_PAGE_BASE + CMDQV_VINTF_PAGE_STRIDE * v +
            CMDQV_PAGE_SIZE + CMDQV_VCMDQ_STRIDE * 1 + A_VCMDQ_BASE;
    ck_assert_uint_eq(sim_cmdqv_read_reg(fx.cmdqv, page1),
                      (uint32_t)(base | 6));

    ck_assert_int_eq(sim_cmdqv_queue_free(fx.cmdqv, v, 1), 0);
    alloc = sim_cmdqv_read_reg(fx.cmdqv, A_CMDQV_CMDQ_ALLOC(q));
    ck_assert_uint_eq(CMDQV_FIELD_EX(CMDQ_ALLOC, ALLOCATED, alloc), 0);
    ck_assert_uint_eq(sim_cmdqv_read_reg(fx.cmdqv, page1), 0);
}
END_TEST

/* ---- the guest-owned VINTF's rules, shared with QEMU's emulated CMDQV ---- */

/* Slot 15 is the only enabled one: vSID 0x123 -> pSID 0x4567. */
static const uint32_t rule_match[16] = {
    [0] = 0x99 << 1, [15] = 0x123 << 1 | 1,
};
static const uint32_t rule_replace[16] = { [0] = 0x77, [15] = 0x4567 };

#define OP(op)          SIM_FIELD_PREP(SIM_CMD0_OP, SIM_CMD_##op)
#define VMID(v)         SIM_FIELD_PREP(SIM_CMD0_TLBI_VMID, v)
#define SID(s)          SIM_FIELD_PREP(SIM_CMD0_SID, s)
#define ASID(a)         SIM_FIELD_PREP(SIM_CMD0_TLBI_ASID, a)

static const struct {
    uint64_t cmd0, cmd1;
    CmdqvGuestCmd want;
    uint64_t want0;             /* the rewritten first word */
} guest_cmd_cases[] = {
    /* TLBIs of stage 1 get the VINTF's VMID, whatever the guest put */
    { OP(TLBI_NH_ASID) | VMID(0xdead) | ASID(7), 0, CMDQV_GUEST_CMD_EXEC,
      OP(TLBI_NH_ASID) | VMID(TEST_VMID) | ASID(7) },
    { OP(TLBI_NH_VA) | ASID(3), 0x5000, CMDQV_GUEST_CMD_EXEC,
      OP(TLBI_NH_VA) | VMID(TEST_VMID) | ASID(3) },
    /* ATC_INV: vSID -> pSID through an enabled slot only */
    { OP(ATC_INV) | SID(0x123), 0x1000, CMDQV_GUEST_CMD_EXEC,
      OP(ATC_INV) | SID(0x4567) },
    { OP(ATC_INV) | SID(0x99), 0, CMDQV_GUEST_CMD_ILLEGAL },
    { OP(SYNC) | SIM_FIELD_PREP(SIM_CMD0_SYNC_CS, 2), 0,
      CMDQV_GUEST_CMD_SYNC, OP(SYNC) | SIM_FIELD_PREP(SIM_CMD0_SYNC_CS, 2) },
    /* Everything else is the hypervisor's */
    { OP(TLBI_NH_VAA), 0, CMDQV_GUEST_CMD_ILLEGAL },
    { OP(TLBI_NH_ALL), 0, CMDQV_GUEST_CMD_ILLEGAL },
    { OP(TLBI_S12_VMALL), 0, CMDQV_GUEST_CMD_ILLEGAL },
    { OP(CFGI_STE), 0, CMDQV_GUEST_CMD_ILLEGAL },
    { OP(TLBI_EL2_ALL), 0, CMDQV_GUEST_CMD_ILLEGAL },
};

START_TEST(guest_cmd_rules)
{
    uint64_t cmd[2] = { guest_cmd_cases[_i].cmd0, guest_cmd_cases[_i].cmd1 };

    ck_assert_int_eq(cmdqv_guest_cmd(cmd, TEST_VMID, rule_match,
                                     rule_replace, 16),
                     guest_cmd_cases[_i].want);
    if (guest_cmd_cases[_i].want != CMDQV_GUEST_CMD_ILLEGAL) {
        ck_assert_uint_eq(cmd[0], guest_cmd_cases[_i].want0);
        ck_assert_uint_eq(cmd[1], guest_cmd_cases[_i].cmd1);
    }
}
END_TEST

/* ---- engine, through the guest's mapping of page0 ---- */

START_TEST(engine_runs_guest_commands)
{
    unsigned q;

    guest_vintf();
    guest_queue(0, 8);
    guest_put_cmd(0, 8, 0, cmd_tlbi_asid(0xdead, 7), 0);
    guest_put_cmd(0, 8, 1, cmd_tlbi_va(0xdead), 0x5000);
    guest_put_cmd(0, 8, 2, cmd_atc_inv(TEST_VSID), 0x1000);
    guest_put_cmd(0, 8, 3, cmd_sync(2), 0);
    guest_write(0, A_VCMDQ_PROD, 4);

    ck_assert_uint_eq(sim_cmdqv_step(fx.cmdqv) + sim_cmdqv_step(fx.cmdqv), 4);
    ck_assert_uint_eq(cons_ptr(0, 8), 4);
    ck_assert_uint_eq(cons_err(0), VCMDQ_CERROR_NONE);
    ck_assert_uint_eq(guest_read(0, A_VCMDQ_STATUS),
                      CMDQV_FIELD_DP(VCMDQ_STATUS, ENABLED, 0, 1));
    ck_assert_uint_eq(sim_cmdqv_commands(fx.cmdqv), 4);

    /* CMD_SYNC completes in the CMDQV; the rest reach the SMMU, fixed up. */
    ck_assert_uint_eq(fx.rec.nr_cmds, 3);
    ck_assert_uint_eq(fx.rec.cmds[0][0], cmd_tlbi_asid(TEST_VMID, 7));
    ck_assert_uint_eq(fx.rec.cmds[1][0], cmd_tlbi_va(TEST_VMID));
    ck_assert_uint_eq(fx.rec.cmds[1][1], 0x5000);
    ck_assert_uint_eq(fx.rec.cmds[2][0], cmd_atc_inv(TEST_PSID));
    ck_assert_uint_eq(fx.rec.cmds[2][1], 0x1000);
    ck_assert_uint_eq(fx.rec.nr_errors, 0);

    /* The host sees the same registers through the global VCMDQ page0. */
    q = fx.vintf * NR_LVCMDQS;
    ck_assert_uint_eq(sim_cmdqv_read_reg(fx.cmdqv, CMDQV_VCMDQ_PAGE0_BASE +
                                         CMDQV_VCMDQ_STRIDE * q +
                                         A_VCMDQ_PROD), 4);
    ck_assert_uint_eq(sim_cmdqv_read_reg(fx.cmdqv, CMDQV_VCMDQ_PAGE0_BASE +
                                         CMDQV_VCMDQ_STRIDE * q +
                                         A_VCMDQ_CONS), 4);
}
END_TEST

START_TEST(engine_wraps_small_queue)
{
    const unsigned nr = 2;      /* 32 bytes, the smallest queue */
    uint32_t prod = 0;
    unsigned round;

    guest_vintf();
    guest_queue(0, nr);
    for (round = 0; round < 5; round++) {
        guest_put_cmd(0, nr, prod, cmd_tlbi_asid(0, round), 0);
        prod = (prod + 1) & (2 * nr - 1);
        guest_put_cmd(0, nr, prod, cmd_tlbi_va(0), round);
        prod = (prod + 1) & (2 * nr - 1);
        /* Full queue: same index, wrap bit flipped against CONS. */
        guest_write(0, A_VCMDQ_PROD, prod);
        ck_assert_uint_eq(sim_cmdqv_step(fx.cmdqv), 2);
        ck_assert_uint_eq(cons_ptr(0, nr), prod);
        ck_assert_uint_eq(cons_ptr(0, nr), (round % 2) ? 0 : nr);
    }
    ck_assert_uint_eq(fx.rec.nr_cmds, 10);
    ck_assert_uint_eq(fx.rec.cmds[8][0], cmd_tlbi_asid(TEST_VMID, 4));
    ck_assert_uint_eq(fx.rec.cmds[9][1], 4);
}
END_TEST

/* Commands that stop a guest-owned VCMDQ with CONS.ERR = ILL. */
typedef struct IllegalCase {
    const char *name;
    uint64_t cmd0;
} IllegalCase;

static const IllegalCase illegal_cases[] = {
    { "CFGI_STE", 0x03 },
    { "TLBI_NH_ALL", 0x10 },
    { "TLBI_NH_VAA", 0x13 },
    { "TLBI_S12_VMALL", 0x28 },
    { "TLBI_NSNH_ALL", 0x30 },
    { "PRI_RESP", 0x41 },
    { "unknown vSID", 0x40 | (uint64_t)(TEST_VSID + 1) << 32 },
};

START_TEST(engine_illegal_command)
{
    const IllegalCase *c = &illegal_cases[_i];
    unsigned lidx = 1, q, v;

    guest_vintf();
    v = fx.vintf;
    q = v * NR_LVCMDQS + lidx;
    guest_queue(0, 8);
    guest_queue(lidx, 8);
    guest_put_cmd(lidx, 8, 0, cmd_tlbi_asid(0, 1), 0);
    guest_put_cmd(lidx, 8, 1, c->cmd0, 0);
    guest_put_cmd(lidx, 8, 2, cmd_tlbi_asid(0, 2), 0);
    guest_write(lidx, A_VCMDQ_PROD, 3);

    sim_cmdqv_step(fx.cmdqv);
    sim_cmdqv_step(fx.cmdqv);
    ck_assert_msg(cons_ptr(lidx, 8) == 1, "%s: CONS %u", c->name,
                  cons_ptr(lidx, 8));
    ck_assert_uint_eq(cons_err(lidx), VCMDQ_CERROR_ILL);
    ck_assert_uint_ne(guest_read(lidx, A_VCMDQ_GERROR),
                      guest_read(lidx, A_VCMDQ_GERRORN));
    ck_assert_uint_eq(fx.rec.nr_cmds, 1);

    /* Error maps: LVCMDQ bit, VINTF bit, global VCMDQ bit. */
    ck_assert_uint_eq(vintf_reg(v, A_VINTF_LVCMDQ_ERR_MAP_64(0)),
                      1u << lidx);
    ck_assert_uint_eq(vintf_reg(v, A_VINTF_LVCMDQ_ERR_MAP_64(1)), 0);
    ck_assert_uint_eq(sim_cmdqv_read_reg(fx.cmdqv, A_CMDQV_VINTF_ERR_MAP),
                      1u << v);
    ck_assert_uint_eq(sim_cmdqv_read_reg(fx.cmdqv,
                                         A_CMDQV_CMDQ_ERR_MAP(q / 32)),
                      1u << (q % 32));
    ck_assert_uint_eq(fx.rec.nr_errors, 1);
    ck_assert_uint_eq(fx.rec.err_vintf, v);
    ck_assert_uint_eq(fx.rec.err_map[0], 1u << lidx);
    ck_assert_uint_eq(fx.rec.err_map[1], 0);

    /* Stopped: the queue does not move, the error is not reported twice. */
    ck_assert_uint_eq(sim_cmdqv_step(fx.cmdqv), 0);
    ck_assert_uint_eq(cons_ptr(lidx, 8), 1);
    ck_assert_uint_eq(fx.rec.nr_errors, 1);
}
END_TEST

START_TEST(engine_recovers_after_guest_ack)
{
    unsigned v;

    guest_vintf();
    v = fx.vintf;
    guest_queue(0, 8);
    guest_put_cmd(0, 8, 0, cmd_op(0x03), 0);
    guest_put_cmd(0, 8, 1, cmd_tlbi_asid(0, 3), 0);
    guest_write(0, A_VCMDQ_PROD, 2);
    sim_cmdqv_step(fx.cmdqv);
    ck_assert_uint_eq(cons_err(0), VCMDQ_CERROR_ILL);

    /*
     * What Linux's __arm_smmu_cmdq_skip_err does: turn the bad command
     * into a CMD_SYNC, then acknowledge with GERRORN = GERROR.
     */
    guest_put_cmd(0, 8, cons_ptr(0, 8), cmd_sync(0), 0);
    guest_write(0, A_VCMDQ_GERRORN, guest_read(0, A_VCMDQ_GERROR));
    /* The ack alone clears the error maps. */
    ck_assert_uint_eq(vintf_reg(v, A_VINTF_LVCMDQ_ERR_MAP_64(0)), 0);
    ck_assert_uint_eq(sim_cmdqv_read_reg(fx.cmdqv, A_CMDQV_VINTF_ERR_MAP), 0);
    ck_assert_uint_eq(sim_cmdqv_step(fx.cmdqv) + sim_cmdqv_step(fx.cmdqv), 2);
    ck_assert_uint_eq(cons_ptr(0, 8), 2);
    ck_assert_uint_eq(fx.rec.nr_cmds, 1);

    /* A second error toggles GERROR again. */
    guest_put_cmd(0, 8, 2, cmd_op(0x01), 0);
    guest_write(0, A_VCMDQ_PROD, 3);
    sim_cmdqv_step(fx.cmdqv);
    ck_assert_uint_eq(cons_ptr(0, 8), 2);
    ck_assert_uint_ne(guest_read(0, A_VCMDQ_GERROR),
                      guest_read(0, A_VCMDQ_GERRORN));
    ck_assert_uint_eq(fx.rec.nr_errors, 2);
}
END_TEST

START_TEST(engine_guest_cannot_fake_gerror)
{
    guest_vintf();
    guest_queue(0, 8);
    guest_put_cmd(0, 8, 0, cmd_op(0x03), 0);
    guest_write(0, A_VCMDQ_PROD, 1);
    sim_cmdqv_step(fx.cmdqv);
    /* Writing GERRORN over GERROR's value is the ack; GERROR is RO. */
    guest_write(0, A_VCMDQ_GERROR, guest_read(0, A_VCMDQ_GERRORN));
    ck_assert_uint_eq(sim_cmdqv_step(fx.cmdqv), 0);
    ck_assert_uint_ne(guest_read(0, A_VCMDQ_GERROR),
                      guest_read(0, A_VCMDQ_GERRORN));
}
END_TEST

START_TEST(engine_follows_guest_enable)
{
    guest_vintf();
    guest_queue(0, 8);
    guest_write(0, A_VCMDQ_CONFIG, 0);
    guest_put_cmd(0, 8, 0, cmd_tlbi_asid(0, 1), 0);
    guest_write(0, A_VCMDQ_PROD, 1);
    ck_assert_uint_eq(sim_cmdqv_step(fx.cmdqv), 0);
    ck_assert_uint_eq(guest_read(0, A_VCMDQ_STATUS), 0);
    ck_assert_uint_eq(cons_ptr(0, 8), 0);

    guest_write(0, A_VCMDQ_CONFIG, CMDQV_FIELD_DP(VCMDQ_CONFIG, EN, 0, 1));
    ck_assert_uint_eq(sim_cmdqv_step(fx.cmdqv), 1);
    ck_assert_uint_eq(guest_read(0, A_VCMDQ_STATUS),
                      CMDQV_FIELD_DP(VCMDQ_STATUS, ENABLED, 0, 1));
    guest_write(0, A_VCMDQ_CONFIG, 0);
    sim_cmdqv_step(fx.cmdqv);
    ck_assert_uint_eq(guest_read(0, A_VCMDQ_STATUS), 0);
}
END_TEST

typedef struct InjectCase {
    const char *name;
    unsigned err;
    int expected;
} InjectCase;

static const InjectCase inject_cases[] = {
    { "ILL", VCMDQ_CERROR_ILL, 0 },
    { "ABT", VCMDQ_CERROR_ABT, 0 },
    { "ATC_INV_SYNC", VCMDQ_CERROR_ATC_INV_SYNC, 0 },
    { "none", VCMDQ_CERROR_NONE, -EINVAL },
    { "wider than ERR", 0x80, -EINVAL },
};

START_TEST(inject_error_table)
{
    const InjectCase *c = &inject_cases[_i];

    guest_vintf();
    guest_queue(0, 8);
    guest_put_cmd(0, 8, 0, cmd_tlbi_asid(0, 1), 0);
    guest_put_cmd(0, 8, 1, cmd_tlbi_asid(0, 2), 0);
    guest_write(0, A_VCMDQ_PROD, 1);
    sim_cmdqv_step(fx.cmdqv);

    ck_assert_int_eq(sim_cmdqv_inject_error(fx.cmdqv, fx.vintf, 0, c->err),
                     c->expected);
    if (c->expected) {
        ck_assert_uint_eq(fx.rec.nr_errors, 0);
        return;
    }
    ck_assert_uint_eq(cons_ptr(0, 8), 1);
    ck_assert_uint_eq(cons_err(0), c->err);
    ck_assert_uint_eq(fx.rec.nr_errors, 1);
    ck_assert_uint_eq(fx.rec.err_map[0], 1);
    /* Stopped until acknowledged. */
    guest_write(0, A_VCMDQ_PROD, 2);
    ck_assert_uint_eq(sim_cmdqv_step(fx.cmdqv), 0);
    guest_write(0, A_VCMDQ_GERRORN, guest_read(0, A_VCMDQ_GERROR));
    ck_assert_uint_eq(sim_cmdqv_step(fx.cmdqv), 1);
}
END_TEST

START_TEST(inject_error_bad_queue)
{
    guest_vintf();
    ck_assert_int_eq(sim_cmdqv_inject_error(fx.cmdqv, fx.vintf, 0,
                                            VCMDQ_CERROR_ILL), -EINVAL);
    ck_assert_int_eq(sim_cmdqv_inject_error(fx.cmdqv, 0, 0,
                                            VCMDQ_CERROR_ILL), -EINVAL);
}
END_TEST

START_TEST(queue_free_resets_page0)
{
    guest_vintf();
    guest_queue(0, 8);
    guest_put_cmd(0, 8, 0, cmd_op(0x03), 0);
    guest_write(0, A_VCMDQ_PROD, 1);
    sim_cmdqv_step(fx.cmdqv);
    ck_assert_int_eq(sim_cmdqv_queue_free(fx.cmdqv, fx.vintf, 0), 0);
    ck_assert_uint_eq(guest_read(0, A_VCMDQ_CONFIG), 0);
    ck_assert_uint_eq(guest_read(0, A_VCMDQ_PROD), 0);
    ck_assert_uint_eq(guest_read(0, A_VCMDQ_CONS), 0);
    ck_assert_uint_eq(guest_read(0, A_VCMDQ_GERROR),
                      guest_read(0, A_VCMDQ_GERRORN));
    ck_assert_uint_eq(vintf_reg(fx.vintf, A_VINTF_LVCMDQ_ERR_MAP_64(0)), 0);
}
END_TEST

/* Poll with a deadline: the worker runs on its own schedule. */
static bool wait_cons(unsigned lidx, unsigned nr_ents, uint32_t want)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_US;

    while (cons_ptr(lidx, nr_ents) != want) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        g_usleep(100);
    }
    return true;
}

/* ---- kicks: the VMM saw a PROD write (TCG) ---- */

START_TEST(kick_runs_every_queue_of_the_vintf)
{
    guest_vintf();
    guest_queue(0, 8);
    guest_queue(1, 8);
    /* Two CMD_SYNCs on queue 0: one engine batch stops at each. */
    guest_put_cmd(0, 8, 0, cmd_tlbi_va(0), 0x1000);
    guest_put_cmd(0, 8, 1, cmd_sync(0), 0);
    guest_put_cmd(0, 8, 2, cmd_tlbi_va(0), 0x2000);
    guest_put_cmd(0, 8, 3, cmd_sync(0), 0);
    guest_write(0, A_VCMDQ_PROD, 4);
    guest_put_cmd(1, 8, 0, cmd_tlbi_asid(0, 9), 0);
    guest_put_cmd(1, 8, 1, cmd_sync(0), 0);
    guest_write(1, A_VCMDQ_PROD, 2);

    /* No worker, no step: the kick alone runs them all, in this thread. */
    ck_assert_uint_eq(sim_cmdqv_kick(fx.cmdqv, fx.vintf), 6);
    ck_assert_uint_eq(cons_ptr(0, 8), 4);
    ck_assert_uint_eq(cons_ptr(1, 8), 2);
    /* Round robin: a batch of queue 0, one of queue 1, queue 0 again. */
    ck_assert_uint_eq(fx.rec.nr_cmds, 3);
    ck_assert_uint_eq(fx.rec.cmds[0][1], 0x1000);
    ck_assert_uint_eq(fx.rec.cmds[1][0], cmd_tlbi_asid(TEST_VMID, 9));
    ck_assert_uint_eq(fx.rec.cmds[2][1], 0x2000);
    ck_assert_uint_eq(sim_cmdqv_commands(fx.cmdqv), 6);
    ck_assert_uint_eq(sim_cmdqv_kicks(fx.cmdqv), 1);
    /* Idle now: a kick finds nothing, and is still counted. */
    ck_assert_uint_eq(sim_cmdqv_kick(fx.cmdqv, fx.vintf), 0);
    ck_assert_uint_eq(sim_cmdqv_kicks(fx.cmdqv), 2);
    ck_assert_uint_eq(sim_cmdqv_step(fx.cmdqv), 0);
}
END_TEST

START_TEST(kick_of_another_vintf_runs_nothing)
{
    guest_vintf();
    guest_queue(0, 8);
    guest_put_cmd(0, 8, 0, cmd_tlbi_va(0), 0);
    guest_write(0, A_VCMDQ_PROD, 1);

    ck_assert_uint_eq(sim_cmdqv_kick(fx.cmdqv, 0), 0);      /* the host's */
    ck_assert_uint_eq(sim_cmdqv_kick(fx.cmdqv, fx.vintf + 1), 0);
    ck_assert_uint_eq(sim_cmdqv_kick(fx.cmdqv, NR_VINTFS), 0);
    ck_assert_uint_eq(sim_cmdqv_kick(fx.cmdqv, ~0u), 0);
    ck_assert_uint_eq(cons_ptr(0, 8), 0);
    ck_assert_uint_eq(fx.rec.nr_cmds, 0);
    ck_assert_uint_eq(sim_cmdqv_kick(fx.cmdqv, fx.vintf), 1);
    ck_assert_uint_eq(cons_ptr(0, 8), 1);
}
END_TEST

START_TEST(kick_of_a_disabled_queue_runs_nothing)
{
    guest_vintf();
    guest_queue(0, 8);
    guest_write(0, A_VCMDQ_CONFIG, 0);
    guest_put_cmd(0, 8, 0, cmd_tlbi_va(0), 0);
    guest_write(0, A_VCMDQ_PROD, 1);

    ck_assert_uint_eq(sim_cmdqv_kick(fx.cmdqv, fx.vintf), 0);
    ck_assert_uint_eq(cons_ptr(0, 8), 0);
    ck_assert_uint_eq(fx.rec.nr_cmds, 0);
}
END_TEST

/* A deep queue: the kick stops after 4096 commands, a step does the rest. */
START_TEST(kick_is_bounded)
{
    const unsigned nr = 8192, n = 5000;
    unsigned i;

    guest_vintf();
    guest_queue_cmdqs(0, nr, 13);
    for (i = 0; i < n; i++) {
        guest_put_cmd(0, nr, i, cmd_tlbi_va(0), i);
    }
    guest_write(0, A_VCMDQ_PROD, n);

    ck_assert_uint_eq(sim_cmdqv_kick(fx.cmdqv, fx.vintf), 4096);
    ck_assert_uint_eq(cons_ptr(0, nr), 4096);
    while (sim_cmdqv_step(fx.cmdqv)) {
        continue;
    }
    ck_assert_uint_eq(cons_ptr(0, nr), n);
    ck_assert_uint_eq(fx.rec.nr_cmds, n);
    ck_assert_uint_eq(cons_err(0), VCMDQ_CERROR_NONE);
}
END_TEST

/* An illegal command under a kick: stopped and reported as by the worker. */
START_TEST(kick_reports_an_illegal_command)
{
    guest_vintf();
    guest_queue(0, 8);
    guest_put_cmd(0, 8, 0, cmd_tlbi_va(0), 0);
    guest_put_cmd(0, 8, 1, cmd_op(0x03), 0);        /* CFGI_STE */
    guest_put_cmd(0, 8, 2, cmd_tlbi_va(0), 0);
    guest_write(0, A_VCMDQ_PROD, 3);

    ck_assert_uint_eq(sim_cmdqv_kick(fx.cmdqv, fx.vintf), 1);
    ck_assert_uint_eq(cons_ptr(0, 8), 1);
    ck_assert_uint_eq(cons_err(0), VCMDQ_CERROR_ILL);
    ck_assert_uint_eq(fx.rec.nr_errors, 1);
    ck_assert_uint_eq(fx.rec.err_vintf, fx.vintf);
    ck_assert_uint_eq(fx.rec.nr_cmds, 1);
}
END_TEST

/* With the worker running, kicks and polls share the queues. */
START_TEST(kick_beside_the_worker)
{
    uint32_t prod = 0;
    unsigned i;

    guest_vintf();
    guest_queue(0, 16);
    sim_cmdqv_start(fx.cmdqv);
    for (i = 0; i < 2000; i++) {
        guest_put_cmd(0, 16, prod, cmd_tlbi_va(0), i);
        prod = (prod + 1) & 31;
        guest_put_cmd(0, 16, prod, cmd_sync(0), 0);
        prod = (prod + 1) & 31;
        guest_write(0, A_VCMDQ_PROD, prod);
        sim_cmdqv_kick(fx.cmdqv, fx.vintf);
        ck_assert_msg(wait_cons(0, 16, prod), "CONS %u, PROD %u",
                      cons_ptr(0, 16), prod);
    }
    sim_cmdqv_stop(fx.cmdqv);
    ck_assert_uint_eq(rec_nr_cmds(), 2000);
    ck_assert_uint_eq(sim_cmdqv_commands(fx.cmdqv), 4000);
    ck_assert_uint_eq(cons_err(0), VCMDQ_CERROR_NONE);
}
END_TEST

START_TEST(worker_runs_without_step)
{
    uint32_t prod = 0;
    unsigned i;

    guest_vintf();
    guest_queue(0, 16);
    sim_cmdqv_start(fx.cmdqv);
    sim_cmdqv_start(fx.cmdqv);          /* idempotent */

    /* Three batches, the last one wrapping. */
    for (i = 0; i < 30; i++) {
        guest_put_cmd(0, 16, prod, cmd_tlbi_va(0), i);
        prod = (prod + 1) & 31;
        if (i % 10 == 9) {
            guest_put_cmd(0, 16, prod, cmd_sync(0), 0);
            prod = (prod + 1) & 31;
            guest_write(0, A_VCMDQ_PROD, prod);
            ck_assert_msg(wait_cons(0, 16, prod), "CONS %u, PROD %u",
                          cons_ptr(0, 16), prod);
        }
    }
    ck_assert_uint_eq(rec_nr_cmds(), 30);
    ck_assert_uint_eq(sim_cmdqv_commands(fx.cmdqv), 33);

    /* Errors are reported from the worker too. */
    guest_put_cmd(0, 16, prod, cmd_op(0x03), 0);
    guest_write(0, A_VCMDQ_PROD, (prod + 1) & 31);
    ck_assert(wait_cons(0, 16, prod));
    {
        gint64 deadline = g_get_monotonic_time() + WAIT_US;

        while (cons_err(0) != VCMDQ_CERROR_ILL &&
               g_get_monotonic_time() < deadline) {
            g_usleep(100);
        }
    }
    sim_cmdqv_stop(fx.cmdqv);
    ck_assert_uint_eq(cons_err(0), VCMDQ_CERROR_ILL);
    g_mutex_lock(&fx.rec.lock);
    ck_assert_uint_eq(fx.rec.nr_errors, 1);
    g_mutex_unlock(&fx.rec.lock);
    sim_cmdqv_stop(fx.cmdqv);           /* idempotent */
}
END_TEST

START_TEST(worker_free_while_running)
{
    guest_vintf();
    guest_queue(0, 8);
    sim_cmdqv_start(fx.cmdqv);
    guest_put_cmd(0, 8, 0, cmd_tlbi_va(0), 0);
    guest_write(0, A_VCMDQ_PROD, 1);
    ck_assert(wait_cons(0, 8, 1));
    /* sim_cmdqv_free (teardown) stops the worker itself. */
}
END_TEST

START_TEST(instances_are_independent)
{
    SimCmdqv *other = sim_cmdqv_new(1, 1, 0, NULL);
    unsigned v;

    ck_assert_ptr_nonnull(other);
    ck_assert_int_eq(sim_cmdqv_vintf_alloc(other, 5, &v), 0);
    ck_assert_int_eq(sim_cmdqv_vintf_alloc(other, 5, &v), -ENOSPC);
    ck_assert_int_eq(sim_cmdqv_vintf_alloc(fx.cmdqv, 5, &v), 0);
    ck_assert_uint_eq(CMDQV_FIELD_EX(CMDQV_PARAM, NUM_VINTF_LOG2,
                                     sim_cmdqv_read_reg(other,
                                                        A_CMDQV_PARAM)), 1);
    sim_cmdqv_free(other);
}
END_TEST

static Suite *cmdqv_hw_suite(void)
{
    Suite *s = suite_create("cmdqv-hw");
    TCase *tc;

    tc = tcase_create("vintf");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, vintf_alloc_until_enospc);
    tcase_add_test(tc, vintf_regs_after_alloc);
    tcase_add_test(tc, vintf_page0_fd);
    tcase_add_test(tc, new_rejects_bad_geometry);
    tcase_add_test(tc, instances_are_independent);
    suite_add_tcase(s, tc);

    tc = tcase_create("sid");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sid_slots);
    tcase_add_test(tc, sid_alloc_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("queue");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, queue_alloc_table, 0,
                        G_N_ELEMENTS(queue_alloc_cases));
    tcase_add_test(tc, queue_free_descending);
    tcase_add_test(tc, queue_alloc_regs);
    tcase_add_test(tc, queue_free_resets_page0);
    suite_add_tcase(s, tc);

    tc = tcase_create("guest-cmd");
    tcase_add_loop_test(tc, guest_cmd_rules, 0,
                        G_N_ELEMENTS(guest_cmd_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, engine_runs_guest_commands);
    tcase_add_test(tc, engine_wraps_small_queue);
    tcase_add_loop_test(tc, engine_illegal_command, 0,
                        G_N_ELEMENTS(illegal_cases));
    tcase_add_test(tc, engine_recovers_after_guest_ack);
    tcase_add_test(tc, engine_guest_cannot_fake_gerror);
    tcase_add_test(tc, engine_follows_guest_enable);
    tcase_add_loop_test(tc, inject_error_table, 0,
                        G_N_ELEMENTS(inject_cases));
    tcase_add_test(tc, inject_error_bad_queue);
    suite_add_tcase(s, tc);

    tc = tcase_create("kick");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, kick_runs_every_queue_of_the_vintf);
    tcase_add_test(tc, kick_of_another_vintf_runs_nothing);
    tcase_add_test(tc, kick_of_a_disabled_queue_runs_nothing);
    tcase_add_test(tc, kick_is_bounded);
    tcase_add_test(tc, kick_reports_an_illegal_command);
    tcase_add_test(tc, kick_beside_the_worker);
    suite_add_tcase(s, tc);

    tc = tcase_create("worker");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, worker_runs_without_step);
    tcase_add_test(tc, worker_free_while_running);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cmdqv_hw_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
