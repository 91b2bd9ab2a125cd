/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An emulated NVIDIA Tegra241 CMDQV on QEMU's emulated SMMUv3
 * (arm-smmuv3,accel=off,cmdqv=on), as a host kernel sees the hardware.
 *
 * The window: the config page (global registers and one block per
 * VINTF), the global VCMDQ page0/page1 (queue q at 0x80 * q), then per
 * VINTF i its logical page0/page1 (0x30000 + 0x20000 * i), where LVCMDQ
 * l is the global queue that CMDQ_ALLOC maps to (i, l). A host driver
 * runs its own queues on VINTF0 with HYP_OWN set and hands the logical
 * page0 of another VINTF to a guest, which then reaches it with no VMM
 * in the way; all of it traps here.
 *
 * Queues are consumed when their PROD moves (or they are enabled, or an
 * error is acknowledged), synchronously, through the SMMU's command
 * execution (smmuv3_execute_cmd). A HYP_OWN VINTF runs every command; a
 * guest-owned one runs what the hardware lets a guest run, rewritten
 * with its VMID and SID_REPLACE (sim/cmdqv-guest-cmd.h, the rules the
 * simulated host's CMDQV applies too). A command the SMMU refuses, an
 * illegal one or a queue read that fails stops the queue with CONS.ERR,
 * toggles its GERROR, sets its bits in the error maps and pulses the
 * (edge) interrupt. CMD_SYNC completes in the queue: a VCMDQ has no MSI.
 * CONS_INDX_BASE is kept but not written back (Linux sets it to 0).
 *
 * Locking: BQL only. Commands are read from system memory with no lock
 * of ours held; the SMMU takes its own mutex per command.
 */
#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/host-utils.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/sysbus.h"
#include "hw/irq.h"
#include "migration/blocker.h"
#include "system/memory.h"
#include "system/address-spaces.h"
#include "hw/arm/smmuv3.h"
#include "smmuv3-internal.h"
#include "tegra241-cmdqv.h"
#include "tegra241-cmdqv-hw.h"
#include "tegra241-cmdqv-regs.h"
#include "sim/cmdqv-guest-cmd.h"
#include "trace.h"

#define CMDQV_VCMDQ_PAGE0       0x10000
#define CMDQV_VCMDQ_PAGE1       0x20000
#define CMDQV_VINTF_PAGES       0x30000
#define CMDQV_VINTF_PAGES_SIZE  0x20000     /* logical page0 + page1 */
#define CMDQV_MAX_LVCMDQS       128         /* CMDQ_ALLOC.LVCMDQ */
#define CMDQV_NR_SIDS           16
#define CMDQV_VERSION           1
#define CMDQV_MAX_LOG2SIZE      19          /* as SMMU_IDR1.CMDQS */

typedef struct Tegra241CMDQVHWQueue {
    /* page0 */
    uint32_t cons;
    uint32_t prod;
    uint32_t config;
    uint32_t gerror;
    uint32_t gerrorn;
    /* page1 */
    uint64_t base;
    uint64_t cons_indx_base;
    /* statistics */
    uint64_t commands;
    uint64_t errors;
} Tegra241CMDQVHWQueue;

typedef struct Tegra241CMDQVHWVintf {
    uint32_t config;
    uint32_t sid_match[CMDQV_NR_SIDS];
    uint32_t sid_replace[CMDQV_NR_SIDS];
    /* LVCMDQ l -> global queue, -1: none (from CMDQ_ALLOC) */
    int16_t lvcmdq[CMDQV_MAX_LVCMDQS];
    uint64_t commands;
    uint64_t syncs;             /* of them CMD_SYNC */
} Tegra241CMDQVHWVintf;

typedef struct Tegra241CMDQVHW {
    SMMUv3State *smmu;
    MemoryRegion mmio;
    qemu_irq irq;
    Error *migration_blocker;
    unsigned nr_vintfs;
    unsigned nr_vcmdqs;             /* of the whole CMDQV */

    uint32_t config;
    uint32_t vintf_int_mask[2];
    uint32_t cmdq_alloc[TEGRA241_CMDQV_HW_MAX_VCMDQS];
    Tegra241CMDQVHWQueue q[TEGRA241_CMDQV_HW_MAX_VCMDQS];
    Tegra241CMDQVHWVintf vintf[TEGRA241_CMDQV_HW_MAX_VINTFS];
    bool running;                   /* queues are being consumed */

    uint64_t irqs;
} Tegra241CMDQVHW;

/* ---- queue state ---- */

static bool cmdqv_hw_queue_errored(Tegra241CMDQVHWQueue *q)
{
    return (q->gerror ^ q->gerrorn) & R_VCMDQ_GERROR_CMDQ_ERR_MASK;
}

static unsigned cmdqv_hw_queue_log2size(Tegra241CMDQVHWQueue *q)
{
    return MIN(FIELD_EX64(q->base, VCMDQ_BASE, LOG2SIZE), CMDQV_MAX_LOG2SIZE);
}

/* PROD and CONS: LOG2SIZE index bits and a wrap bit above them. */
static uint32_t cmdqv_hw_queue_ptr_mask(Tegra241CMDQVHWQueue *q)
{
    return (2U << cmdqv_hw_queue_log2size(q)) - 1;
}

/* The VINTF global queue @qi is mapped to, or -1. */
static int cmdqv_hw_queue_vintf(Tegra241CMDQVHW *c, unsigned qi)
{
    uint32_t alloc = c->cmdq_alloc[qi];

    if (!FIELD_EX32(alloc, CMDQV_CMDQ_ALLOC, ALLOCATED) ||
        FIELD_EX32(alloc, CMDQV_CMDQ_ALLOC, VINTF) >= c->nr_vintfs) {
        return -1;
    }
    return FIELD_EX32(alloc, CMDQV_CMDQ_ALLOC, VINTF);
}

/* Rebuild every VINTF's LVCMDQ -> queue table from CMDQ_ALLOC. */
static void cmdqv_hw_update_map(Tegra241CMDQVHW *c)
{
    unsigned i, qi;

    for (i = 0; i < c->nr_vintfs; i++) {
        memset(c->vintf[i].lvcmdq, -1, sizeof(c->vintf[i].lvcmdq));
    }
    for (qi = 0; qi < c->nr_vcmdqs; qi++) {
        int v = cmdqv_hw_queue_vintf(c, qi);
        unsigned l = FIELD_EX32(c->cmdq_alloc[qi], CMDQV_CMDQ_ALLOC, LVCMDQ);

        if (v < 0) {
            continue;
        }
        if (c->vintf[v].lvcmdq[l] >= 0) {
            qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: VCMDQ%u and "
                          "VCMDQ%d both mapped to VINTF%d LVCMDQ%u: the "
                          "lower one is used\n", qi, c->vintf[v].lvcmdq[l],
                          v, l);
            continue;
        }
        c->vintf[v].lvcmdq[l] = qi;
    }
}

/* LVCMDQ_ERR_MAP of VINTF @v: a bit per logical queue with an error. */
static void cmdqv_hw_lvcmdq_err_map(Tegra241CMDQVHW *c, unsigned v,
                                    uint64_t map[2])
{
    unsigned l;

    map[0] = map[1] = 0;
    for (l = 0; l < CMDQV_MAX_LVCMDQS; l++) {
        int qi = c->vintf[v].lvcmdq[l];

        if (qi >= 0 && cmdqv_hw_queue_errored(&c->q[qi])) {
            map[l / 64] |= 1ULL << (l % 64);
        }
    }
}

static uint64_t cmdqv_hw_vintf_err_map(Tegra241CMDQVHW *c)
{
    uint64_t map = 0, lmap[2];
    unsigned v;

    for (v = 0; v < c->nr_vintfs; v++) {
        cmdqv_hw_lvcmdq_err_map(c, v, lmap);
        if (lmap[0] | lmap[1]) {
            map |= 1ULL << v;
        }
    }
    return map;
}

static uint32_t cmdqv_hw_cmdq_err_map(Tegra241CMDQVHW *c, unsigned word)
{
    uint32_t map = 0;
    unsigned i;

    for (i = 0; i < 32; i++) {
        unsigned qi = word * 32 + i;

        if (qi < c->nr_vcmdqs && cmdqv_hw_queue_errored(&c->q[qi])) {
            map |= 1U << i;
        }
    }
    return map;
}

/* ---- queue execution ---- */

/* Stop queue @qi at its CONS with CONS.ERR = @err, as hardware does. */
static void cmdqv_hw_queue_error(Tegra241CMDQVHW *c, unsigned qi, int v,
                                 unsigned err)
{
    Tegra241CMDQVHWQueue *q = &c->q[qi];

    q->cons = FIELD_DP32(q->cons, VCMDQ_CONS, ERR, err);
    q->gerror ^= R_VCMDQ_GERROR_CMDQ_ERR_MASK;
    q->errors++;
    c->irqs++;
    trace_tegra241_cmdqv_hw_queue_error(v, qi, err, q->cons);
    /* The interrupt is an edge per error, as on hardware. */
    qemu_irq_pulse(c->irq);
}

/*
 * Run one command of queue @qi of VINTF @v (@vi). Returns the CONS.ERR
 * code that stops the queue, 0 when it may go on.
 */
static unsigned cmdqv_hw_run_cmd(Tegra241CMDQVHW *c, Tegra241CMDQVHWVintf *vi,
                                 Cmd *cmd)
{
    uint64_t words[2];
    int i;

    if (FIELD_EX32(vi->config, VINTF_CONFIG, HYP_OWN)) {
        if (CMD_TYPE(cmd) == SMMU_CMD_SYNC) {
            return 0;
        }
        return smmuv3_execute_cmd(c->smmu, cmd);
    }

    words[0] = cmd->word[0] | (uint64_t)cmd->word[1] << 32;
    words[1] = cmd->word[2] | (uint64_t)cmd->word[3] << 32;
    switch (cmdqv_guest_cmd(words,
                            FIELD_EX32(vi->config, VINTF_CONFIG, VMID),
                            vi->sid_match, vi->sid_replace, CMDQV_NR_SIDS)) {
    case CMDQV_GUEST_CMD_SYNC:
        return 0;
    case CMDQV_GUEST_CMD_EXEC:
        for (i = 0; i < 2; i++) {
            cmd->word[2 * i] = words[i];
            cmd->word[2 * i + 1] = words[i] >> 32;
        }
        return smmuv3_execute_cmd(c->smmu, cmd);
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: command 0x%x is "
                      "illegal on a guest-owned VINTF\n", CMD_TYPE(cmd));
        return VCMDQ_CERROR_ILL;
    }
}

/* Consume queue @qi from CONS to PROD, if it may run. */
static void cmdqv_hw_run_queue(Tegra241CMDQVHW *c, unsigned qi)
{
    Tegra241CMDQVHWQueue *q = &c->q[qi];
    int v = cmdqv_hw_queue_vintf(c, qi);
    Tegra241CMDQVHWVintf *vi;
    uint32_t mask, idx_mask, cons;
    unsigned n = 0, syncs = 0, err = 0;
    hwaddr base;

    if (v < 0 || !FIELD_EX32(c->config, CMDQV_CONFIG, CMDQV_EN)) {
        return;
    }
    vi = &c->vintf[v];
    if (!FIELD_EX32(vi->config, VINTF_CONFIG, ENABLE) ||
        !FIELD_EX32(q->config, VCMDQ_CONFIG, CMDQ_EN) ||
        cmdqv_hw_queue_errored(q)) {
        return;
    }
    mask = cmdqv_hw_queue_ptr_mask(q);
    idx_mask = mask >> 1;
    base = q->base & R_VCMDQ_BASE_ADDR_MASK;
    cons = q->cons & mask;

    while (cons != (q->prod & mask)) {
        hwaddr addr = base + ((hwaddr)(cons & idx_mask) << CMDQV_CMD_SHIFT);
        Cmd cmd;
        int i;

        if (address_space_read(&address_space_memory, addr,
                               MEMTXATTRS_UNSPECIFIED, &cmd,
                               sizeof(cmd)) != MEMTX_OK) {
            qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: VCMDQ%u cannot "
                          "read its command at 0x%" HWADDR_PRIx "\n", qi,
                          addr);
            err = VCMDQ_CERROR_ABT;
            break;
        }
        for (i = 0; i < ARRAY_SIZE(cmd.word); i++) {
            cmd.word[i] = le32_to_cpu(cmd.word[i]);
        }
        err = cmdqv_hw_run_cmd(c, vi, &cmd);
        if (err) {
            break;
        }
        n++;
        syncs += CMD_TYPE(&cmd) == SMMU_CMD_SYNC;
        cons = (cons + 1) & mask;
    }
    q->cons = (q->cons & ~mask) | cons;
    q->commands += n;
    vi->commands += n;
    vi->syncs += syncs;
    trace_tegra241_cmdqv_hw_queue_run(v, qi, n, q->cons, q->prod);
    if (err) {
        cmdqv_hw_queue_error(c, qi, v, err);
    }
}

/*
 * Run queue @qi, or every queue (@qi < 0) after a change that may let
 * several run. A queue whose BASE points into our own window makes the
 * command reads re-enter the MMIO handlers: queues run from the
 * outermost access only.
 */
static void cmdqv_hw_kick(Tegra241CMDQVHW *c, int qi)
{
    unsigned i;

    if (c->running) {
        return;
    }
    c->running = true;
    if (qi >= 0) {
        cmdqv_hw_run_queue(c, qi);
    } else {
        for (i = 0; i < c->nr_vcmdqs; i++) {
            cmdqv_hw_run_queue(c, i);
        }
    }
    c->running = false;
}

/* ---- registers ---- */

static uint32_t cmdqv_hw_param(Tegra241CMDQVHW *c)
{
    uint32_t val = FIELD_DP32(0, CMDQV_PARAM, VER, CMDQV_VERSION);

    val = FIELD_DP32(val, CMDQV_PARAM, NUM_VCMDQ_LOG2, ctz32(c->nr_vcmdqs));
    val = FIELD_DP32(val, CMDQV_PARAM, NUM_VINTF_LOG2, ctz32(c->nr_vintfs));
    return FIELD_DP32(val, CMDQV_PARAM, NUM_SID_PER_VM_LOG2,
                      ctz32(CMDQV_NR_SIDS));
}

static uint32_t cmdqv_hw_vintf_read(Tegra241CMDQVHW *c, unsigned v,
                                    hwaddr off)
{
    Tegra241CMDQVHWVintf *vi = &c->vintf[v];
    uint64_t map[2];

    switch (off) {
    case A_VINTF_CONFIG:
        return vi->config;
    case A_VINTF_STATUS:
        return FIELD_DP32(0, VINTF_STATUS, ENABLED,
                          FIELD_EX32(vi->config, VINTF_CONFIG, ENABLE));
    case A_VINTF_SID_MATCH ... A_VINTF_SID_MATCH + 4 * CMDQV_NR_SIDS - 1:
        return vi->sid_match[(off - A_VINTF_SID_MATCH) / 4];
    case A_VINTF_SID_REPLACE ... A_VINTF_SID_REPLACE + 4 * CMDQV_NR_SIDS - 1:
        return vi->sid_replace[(off - A_VINTF_SID_REPLACE) / 4];
    case A_VINTF_LVCMDQ_ERR_MAP ... A_VINTF_LVCMDQ_ERR_MAP + 15:
        cmdqv_hw_lvcmdq_err_map(c, v, map);
        off -= A_VINTF_LVCMDQ_ERR_MAP;
        return map[off / 8] >> (off % 8 ? 32 : 0);
    default:
        return 0;
    }
}

static void cmdqv_hw_vintf_write(Tegra241CMDQVHW *c, unsigned v, hwaddr off,
                                 uint32_t val)
{
    Tegra241CMDQVHWVintf *vi = &c->vintf[v];

    switch (off) {
    case A_VINTF_CONFIG:
        vi->config = val & (R_VINTF_CONFIG_ENABLE_MASK |
                            R_VINTF_CONFIG_VMID_MASK |
                            R_VINTF_CONFIG_HYP_OWN_MASK);
        trace_tegra241_cmdqv_hw_vintf_config(v, vi->config);
        cmdqv_hw_kick(c, -1);
        return;
    case A_VINTF_SID_MATCH ... A_VINTF_SID_MATCH + 4 * CMDQV_NR_SIDS - 1:
        vi->sid_match[(off - A_VINTF_SID_MATCH) / 4] =
            val & (R_VINTF_SID_MATCH_ENABLE_MASK |
                   R_VINTF_SID_MATCH_VIRT_SID_MASK);
        trace_tegra241_cmdqv_hw_sid(v, (off - A_VINTF_SID_MATCH) / 4,
                                    "match", val);
        return;
    case A_VINTF_SID_REPLACE ... A_VINTF_SID_REPLACE + 4 * CMDQV_NR_SIDS - 1:
        vi->sid_replace[(off - A_VINTF_SID_REPLACE) / 4] = val;
        trace_tegra241_cmdqv_hw_sid(v, (off - A_VINTF_SID_REPLACE) / 4,
                                    "replace", val);
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: write to read-only "
                      "or reserved VINTF%u register 0x%" HWADDR_PRIx "\n",
                      v, off);
        return;
    }
}

static uint32_t cmdqv_hw_config_read(Tegra241CMDQVHW *c, hwaddr off)
{
    uint64_t map;

    if (off >= CMDQV_VINTF_BASE &&
        off < CMDQV_VINTF_BASE + CMDQV_VINTF_STRIDE * c->nr_vintfs) {
        off -= CMDQV_VINTF_BASE;
        return cmdqv_hw_vintf_read(c, off / CMDQV_VINTF_STRIDE,
                                   off % CMDQV_VINTF_STRIDE);
    }
    if (off >= A_CMDQV_CMDQ_ALLOC &&
        off < A_CMDQV_CMDQ_ALLOC + 4 * c->nr_vcmdqs) {
        return c->cmdq_alloc[(off - A_CMDQV_CMDQ_ALLOC) / 4];
    }
    switch (off) {
    case A_CMDQV_CONFIG:
        return c->config;
    case A_CMDQV_PARAM:
        return cmdqv_hw_param(c);
    case A_CMDQV_STATUS:
        return FIELD_DP32(0, CMDQV_STATUS, CMDQV_ENABLED,
                          FIELD_EX32(c->config, CMDQV_CONFIG, CMDQV_EN));
    case A_CMDQV_VINTF_ERR_MAP:
    case A_CMDQV_VINTF_ERR_MAP + 4:
        map = cmdqv_hw_vintf_err_map(c);
        return off == A_CMDQV_VINTF_ERR_MAP ? map : map >> 32;
    case A_CMDQV_VINTF_INT_MASK:
    case A_CMDQV_VINTF_INT_MASK + 4:
        return c->vintf_int_mask[(off - A_CMDQV_VINTF_INT_MASK) / 4];
    case A_CMDQV_CMDQ_ERR_MAP ... A_CMDQV_CMDQ_ERR_MAP + 15:
        return cmdqv_hw_cmdq_err_map(c, (off - A_CMDQV_CMDQ_ERR_MAP) / 4);
    default:
        return 0;
    }
}

static void cmdqv_hw_config_write(Tegra241CMDQVHW *c, hwaddr off,
                                  uint32_t val)
{
    if (off >= CMDQV_VINTF_BASE &&
        off < CMDQV_VINTF_BASE + CMDQV_VINTF_STRIDE * c->nr_vintfs) {
        off -= CMDQV_VINTF_BASE;
        cmdqv_hw_vintf_write(c, off / CMDQV_VINTF_STRIDE,
                             off % CMDQV_VINTF_STRIDE, val);
        return;
    }
    if (off >= A_CMDQV_CMDQ_ALLOC &&
        off < A_CMDQV_CMDQ_ALLOC + 4 * c->nr_vcmdqs) {
        unsigned qi = (off - A_CMDQV_CMDQ_ALLOC) / 4;

        c->cmdq_alloc[qi] = val & (R_CMDQV_CMDQ_ALLOC_ALLOCATED_MASK |
                                   R_CMDQV_CMDQ_ALLOC_LVCMDQ_MASK |
                                   R_CMDQV_CMDQ_ALLOC_VINTF_MASK);
        if (FIELD_EX32(val, CMDQV_CMDQ_ALLOC, VINTF) >= c->nr_vintfs) {
            qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: CMDQ_ALLOC%u "
                          "names VINTF%u of %u\n", qi,
                          FIELD_EX32(val, CMDQV_CMDQ_ALLOC, VINTF),
                          c->nr_vintfs);
        }
        trace_tegra241_cmdqv_hw_alloc(qi, c->cmdq_alloc[qi]);
        cmdqv_hw_update_map(c);
        cmdqv_hw_kick(c, qi);
        return;
    }
    switch (off) {
    case A_CMDQV_CONFIG:
        c->config = val & R_CMDQV_CONFIG_CMDQV_EN_MASK;
        trace_tegra241_cmdqv_hw_config(c->config);
        cmdqv_hw_kick(c, -1);
        return;
    case A_CMDQV_VINTF_INT_MASK:
    case A_CMDQV_VINTF_INT_MASK + 4:
        c->vintf_int_mask[(off - A_CMDQV_VINTF_INT_MASK) / 4] = val;
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: write to read-only "
                      "or reserved register 0x%" HWADDR_PRIx "\n", off);
        return;
    }
}

static uint32_t cmdqv_hw_page0_read(Tegra241CMDQVHW *c, unsigned qi,
                                    hwaddr reg)
{
    Tegra241CMDQVHWQueue *q = &c->q[qi];

    switch (reg) {
    case A_VCMDQ_CONS:
        return q->cons;
    case A_VCMDQ_PROD:
        return q->prod;
    case A_VCMDQ_CONFIG:
        return q->config;
    case A_VCMDQ_STATUS:
        return FIELD_DP32(0, VCMDQ_STATUS, CMDQ_ENABLED,
                          FIELD_EX32(q->config, VCMDQ_CONFIG, CMDQ_EN));
    case A_VCMDQ_GERROR:
        return q->gerror;
    case A_VCMDQ_GERRORN:
        return q->gerrorn;
    default:
        return 0;
    }
}

static void cmdqv_hw_page0_write(Tegra241CMDQVHW *c, unsigned qi, hwaddr reg,
                                 uint32_t val)
{
    Tegra241CMDQVHWQueue *q = &c->q[qi];
    uint32_t ptr_bits = (2U << CMDQV_MAX_LOG2SIZE) - 1;

    switch (reg) {
    case A_VCMDQ_CONS:
        /* Software may move CONS (it resets it); ERR is read-only. */
        q->cons = (q->cons & R_VCMDQ_CONS_ERR_MASK) | (val & ptr_bits);
        return;
    case A_VCMDQ_PROD:
        q->prod = val & ptr_bits;
        break;
    case A_VCMDQ_CONFIG:
        q->config = val & R_VCMDQ_CONFIG_CMDQ_EN_MASK;
        trace_tegra241_cmdqv_hw_queue_config(qi, q->config);
        break;
    case A_VCMDQ_GERRORN:
        q->gerrorn = val & R_VCMDQ_GERROR_CMDQ_ERR_MASK;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: write to read-only "
                      "or reserved VCMDQ%u register 0x%" HWADDR_PRIx "\n",
                      qi, reg);
        return;
    }
    cmdqv_hw_kick(c, qi);
}

static uint64_t *cmdqv_hw_page1_reg(Tegra241CMDQVHW *c, unsigned qi,
                                    hwaddr reg)
{
    switch (reg & ~7) {
    case A_VCMDQ_BASE:
        return &c->q[qi].base;
    case A_VCMDQ_CONS_INDX_BASE:
        return &c->q[qi].cons_indx_base;
    default:
        return NULL;
    }
}

/*
 * Decode a queue page offset: the global VCMDQ pages or a VINTF's
 * logical ones. Returns the global queue (-1: none there), and sets
 * *page1 and *reg (offset in the queue's block).
 */
static int cmdqv_hw_decode_queue(Tegra241CMDQVHW *c, hwaddr off, bool *page1,
                                 hwaddr *reg)
{
    unsigned idx;

    if (off < CMDQV_VINTF_PAGES) {
        *page1 = off >= CMDQV_VCMDQ_PAGE1;
        off %= CMDQV_PAGE_SIZE;
        idx = off / CMDQV_VCMDQ_STRIDE;
        *reg = off % CMDQV_VCMDQ_STRIDE;
        return idx < c->nr_vcmdqs ? idx : -1;
    } else {
        unsigned v = (off - CMDQV_VINTF_PAGES) / CMDQV_VINTF_PAGES_SIZE;

        off = (off - CMDQV_VINTF_PAGES) % CMDQV_VINTF_PAGES_SIZE;
        *page1 = off >= CMDQV_PAGE_SIZE;
        off %= CMDQV_PAGE_SIZE;
        idx = off / CMDQV_VCMDQ_STRIDE;
        *reg = off % CMDQV_VCMDQ_STRIDE;
        return idx < CMDQV_MAX_LVCMDQS ? c->vintf[v].lvcmdq[idx] : -1;
    }
}

static uint32_t cmdqv_hw_read32(Tegra241CMDQVHW *c, hwaddr off)
{
    bool page1;
    hwaddr reg;
    uint64_t *r;
    int qi;

    if (off < CMDQV_PAGE_SIZE) {
        return cmdqv_hw_config_read(c, off);
    }
    qi = cmdqv_hw_decode_queue(c, off, &page1, &reg);
    if (qi < 0) {
        return 0;
    }
    if (!page1) {
        return cmdqv_hw_page0_read(c, qi, reg);
    }
    r = cmdqv_hw_page1_reg(c, qi, reg);
    return r ? *r >> (reg & 4 ? 32 : 0) : 0;
}

static void cmdqv_hw_write32(Tegra241CMDQVHW *c, hwaddr off, uint32_t val)
{
    bool page1;
    hwaddr reg;
    uint64_t *r;
    int qi;

    if (off < CMDQV_PAGE_SIZE) {
        cmdqv_hw_config_write(c, off, val);
        return;
    }
    qi = cmdqv_hw_decode_queue(c, off, &page1, &reg);
    if (qi < 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: write to 0x%"
                      HWADDR_PRIx ": no VCMDQ there\n", off);
        return;
    }
    if (!page1) {
        cmdqv_hw_page0_write(c, qi, reg, val);
        return;
    }
    r = cmdqv_hw_page1_reg(c, qi, reg);
    if (!r) {
        qemu_log_mask(LOG_GUEST_ERROR, "tegra241-cmdqv: write to reserved "
                      "VCMDQ%d page1 register 0x%" HWADDR_PRIx "\n", qi, reg);
        return;
    }
    *r = deposit64(*r, reg & 4 ? 32 : 0, 32, val);
    if (r == &c->q[qi].base) {
        trace_tegra241_cmdqv_hw_queue_base(qi, *r);
    }
}

/* 64-bit accesses are two 32-bit ones, low word first. */
static uint64_t cmdqv_hw_read(void *opaque, hwaddr off, unsigned size)
{
    Tegra241CMDQVHW *c = opaque;
    uint64_t val = cmdqv_hw_read32(c, off);

    if (size == 8) {
        val |= (uint64_t)cmdqv_hw_read32(c, off + 4) << 32;
    }
    return val;
}

static void cmdqv_hw_write(void *opaque, hwaddr off, uint64_t val,
                           unsigned size)
{
    Tegra241CMDQVHW *c = opaque;

    cmdqv_hw_write32(c, off, val);
    if (size == 8) {
        cmdqv_hw_write32(c, off + 4, val >> 32);
    }
}

static const MemoryRegionOps cmdqv_hw_ops = {
    .read = cmdqv_hw_read,
    .write = cmdqv_hw_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
        .unaligned = false,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

/* ---- statistics, reset, realize ---- */

static void cmdqv_hw_get_stats(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    Tegra241CMDQVHW *c = opaque;
    g_autoptr(GString) s = g_string_new("{\"vintfs\": [");
    g_autofree char *str = NULL;
    uint64_t total = 0, errors = 0;
    unsigned i;

    for (i = 0; i < c->nr_vintfs; i++) {
        g_string_append_printf(s, "%s{\"commands\": %" PRIu64
                               ", \"syncs\": %" PRIu64
                               ", \"hyp_own\": %u, \"enabled\": %u}",
                               i ? ", " : "", c->vintf[i].commands,
                               c->vintf[i].syncs,
                               FIELD_EX32(c->vintf[i].config, VINTF_CONFIG,
                                          HYP_OWN),
                               FIELD_EX32(c->vintf[i].config, VINTF_CONFIG,
                                          ENABLE));
    }
    g_string_append(s, "], \"vcmdqs\": [");
    for (i = 0; i < c->nr_vcmdqs; i++) {
        g_string_append_printf(s, "%s{\"commands\": %" PRIu64
                               ", \"errors\": %" PRIu64 "}", i ? ", " : "",
                               c->q[i].commands, c->q[i].errors);
        total += c->q[i].commands;
        errors += c->q[i].errors;
    }
    g_string_append_printf(s, "], \"commands\": %" PRIu64 ", \"errors\": %"
                           PRIu64 ", \"irqs\": %" PRIu64 "}", total, errors,
                           c->irqs);
    str = g_strdup(s->str);
    visit_type_str(v, name, &str, errp);
}

void tegra241_cmdqv_hw_reset(SMMUv3State *s)
{
    Tegra241CMDQVHW *c = s->cmdqv_hw;
    unsigned i;

    if (!c) {
        return;
    }
    c->config = 0;
    memset(c->vintf_int_mask, 0, sizeof(c->vintf_int_mask));
    memset(c->cmdq_alloc, 0, sizeof(c->cmdq_alloc));
    for (i = 0; i < ARRAY_SIZE(c->q); i++) {
        Tegra241CMDQVHWQueue *q = &c->q[i];

        q->cons = q->prod = q->config = q->gerror = q->gerrorn = 0;
        q->base = q->cons_indx_base = 0;
    }
    for (i = 0; i < ARRAY_SIZE(c->vintf); i++) {
        c->vintf[i].config = 0;
        memset(c->vintf[i].sid_match, 0, sizeof(c->vintf[i].sid_match));
        memset(c->vintf[i].sid_replace, 0, sizeof(c->vintf[i].sid_replace));
    }
    cmdqv_hw_update_map(c);
    trace_tegra241_cmdqv_hw_reset(c->nr_vintfs, c->nr_vcmdqs);
}

bool tegra241_cmdqv_hw_realize(SMMUv3State *s, Error **errp)
{
    SysBusDevice *sbd = SYS_BUS_DEVICE(s);
    uint32_t vintfs = s->cmdqv_vintfs, vcmdqs = s->cmdqv_vcmdqs;
    Tegra241CMDQVHW *c;

    if (vintfs < 1 || vintfs > TEGRA241_CMDQV_HW_MAX_VINTFS ||
        !is_power_of_2(vintfs) || vcmdqs < 1 || !is_power_of_2(vcmdqs) ||
        vintfs * vcmdqs > TEGRA241_CMDQV_HW_MAX_VCMDQS) {
        error_setg(errp, "arm-smmuv3: cmdqv-vintfs=%u and cmdqv-vcmdqs=%u "
                   "do not fit a Tegra241 CMDQV", vintfs, vcmdqs);
        error_append_hint(errp, "Both are powers of two: up to %u VINTFs, "
                          "and up to %u VCMDQs in all (vintfs * vcmdqs).\n",
                          TEGRA241_CMDQV_HW_MAX_VINTFS,
                          TEGRA241_CMDQV_HW_MAX_VCMDQS);
        return false;
    }
    /* The window and IRQ follow the SMMU's own: indexes are fixed. */
    if (sbd->num_mmio != TEGRA241_CMDQV_MMIO_INDEX) {
        error_setg(errp, "arm-smmuv3: the CMDQV window must be MMIO "
                   "region %d", TEGRA241_CMDQV_MMIO_INDEX);
        return false;
    }

    c = g_new0(Tegra241CMDQVHW, 1);
    c->smmu = s;
    c->nr_vintfs = vintfs;
    c->nr_vcmdqs = vintfs * vcmdqs;
    error_setg(&c->migration_blocker, "arm-smmuv3: the emulated Tegra241 "
               "CMDQV (cmdqv=on with accel=off) does not migrate");
    if (migrate_add_blocker(&c->migration_blocker, errp) < 0) {
        g_free(c);
        return false;
    }
    memory_region_init_io(&c->mmio, OBJECT(s), &cmdqv_hw_ops, c,
                          "tegra241-cmdqv-hw",
                          CMDQV_VINTF_PAGES + CMDQV_VINTF_PAGES_SIZE * vintfs);
    sysbus_init_mmio(sbd, &c->mmio);
    sysbus_init_irq(sbd, &c->irq);
    object_property_add(OBJECT(s), "cmdqv-stats", "str", cmdqv_hw_get_stats,
                        NULL, NULL, c);
    object_property_set_description(OBJECT(s), "cmdqv-stats",
        "JSON: commands per VINTF and per VCMDQ, queue errors, interrupts");
    s->cmdqv_hw = c;
    tegra241_cmdqv_hw_reset(s);
    return true;
}
