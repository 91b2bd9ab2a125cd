/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Check suite of the simulated physical SMMUv3 (sim/smmu-hw.c): STE
 * builders and vSTE validation, stage-1 walks over hand-built tables in a
 * test buffer behind an offset stage 2, the fault records, the IOTLB and
 * its invalidation, the CD cache and the command set. Each table row is
 * one behaviour with its expected result beside it.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "smmu-hw.h"
#include "smmu-defs.h"

#define MEM_SIZE        (32ULL << 20)
#define IPA_BASE        0x40000000ULL   /* 1G-aligned: blocks map from it */
#define SID             0x42
#define VMID            3
#define ASID            5
#define PTE_DEFAULT     (SIM_PTE_AF | SIM_PTE_AP1 | SIM_PTE_NG)

/* Guest memory behind an offset stage 2, with a hole and a RO range */
typedef struct Env {
    uint8_t *mem;
    uint64_t brk;
    uint64_t hole_lo, hole_hi;
    uint64_t ro_lo, ro_hi;
    SimS2 s2;
} Env;

static void *s2_lookup(void *opaque, uint64_t ipa, uint64_t len, bool write)
{
    Env *env = opaque;

    if (ipa < IPA_BASE || len > MEM_SIZE || ipa - IPA_BASE > MEM_SIZE - len) {
        return NULL;
    }
    if (ipa < env->hole_hi && ipa + len > env->hole_lo) {
        return NULL;
    }
    if (write && ipa < env->ro_hi && ipa + len > env->ro_lo) {
        return NULL;
    }
    return env->mem + (ipa - IPA_BASE);
}

static void env_init(Env *env)
{
    void *p;

    memset(env, 0, sizeof(*env));
    ck_assert_int_eq(posix_memalign(&p, 1 << 16, MEM_SIZE), 0);
    memset(p, 0, MEM_SIZE);
    env->mem = p;
    env->brk = IPA_BASE + (1 << 16);    /* keep IPA_BASE page for blocks */
    env->s2.lookup = s2_lookup;
    env->s2.opaque = env;
    env->s2.ias_bits = 48;
}

static uint64_t env_alloc(Env *env, uint64_t size, uint64_t align)
{
    uint64_t ipa = (env->brk + align - 1) & ~(align - 1);

    env->brk = ipa + size;
    ck_assert_uint_le(env->brk, IPA_BASE + MEM_SIZE);
    return ipa;
}

static void *hva(Env *env, uint64_t ipa)
{
    return env->mem + (ipa - IPA_BASE);
}

/* ---- stage-1 table builder ---- */

typedef struct Pt {
    Env *env;
    unsigned g, inputsize, start;
    uint64_t root;
} Pt;

static unsigned pt_shift(const Pt *pt, unsigned level)
{
    return pt->g + (3 - level) * (pt->g - 3);
}

static void pt_init(Pt *pt, Env *env, unsigned g, unsigned tsz)
{
    unsigned stride = g - 3, levels, bytes;

    pt->env = env;
    pt->g = g;
    pt->inputsize = 64 - tsz;
    levels = (pt->inputsize - g + stride - 1) / stride;
    pt->start = 4 - levels;
    bytes = 8u << (pt->inputsize - pt_shift(pt, pt->start));
    pt->root = env_alloc(env, bytes, MAX(bytes, 64u));
}

/* The descriptor slot of @va at @level, creating tables on the way. */
static uint64_t *pt_slot(Pt *pt, uint64_t va, unsigned level)
{
    uint64_t table = pt->root;
    unsigned l;

    for (l = pt->start;; l++) {
        unsigned bits = l == pt->start ? pt->inputsize - pt_shift(pt, l)
                                       : pt->g - 3;
        uint64_t idx = (va >> pt_shift(pt, l)) & ((1ULL << bits) - 1);
        uint64_t *slot = (uint64_t *)hva(pt->env, table) + idx;

        if (l == level) {
            return slot;
        }
        if (!(*slot & SIM_PTE_VALID)) {
            uint64_t t = env_alloc(pt->env, 1ULL << pt->g, 1ULL << pt->g);

            *slot = t | SIM_PTE_VALID | SIM_PTE_TABLE;
        }
        table = *slot & SIM_GENMASK(47, pt->g);
    }
}

static uint64_t *pt_map(Pt *pt, uint64_t va, uint64_t oa, unsigned level,
                        uint64_t attrs)
{
    uint64_t *slot = pt_slot(pt, va, level);

    *slot = oa | attrs | SIM_PTE_VALID | (level == 3 ? SIM_PTE_TABLE : 0);
    return slot;
}

/* The table descriptor above @level for @va (for APTable & co.) */
static uint64_t *pt_table_desc(Pt *pt, uint64_t va, unsigned level)
{
    return pt_slot(pt, va, level - 1);
}

/* ---- scene: one nested STE, one CD, one mapped page ---- */

typedef struct Scene {
    Env env;
    Pt pt;
    SimSmmu *smmu;
    uint32_t idr[6];
    uint64_t va;
    uint64_t data_ipa;      /* the page va maps to */
    uint64_t cd_ipa;        /* linear CD table */
    uint64_t cd[3];
    uint64_t vste[2];
    uint64_t *leaf;
} Scene;

static unsigned tg0_of(unsigned g)
{
    return g == 12 ? SIM_TG0_4K : g == 16 ? SIM_TG0_64K : SIM_TG0_16K;
}

static unsigned tg1_of(unsigned g)
{
    return g == 12 ? SIM_TG1_4K : g == 16 ? SIM_TG1_64K : SIM_TG1_16K;
}

static void default_idr(uint32_t idr[6])
{
    memset(idr, 0, 6 * sizeof(idr[0]));
    idr[0] = SIM_IDR0_S1P | SIM_IDR0_S2P |
             SIM_FIELD_PREP(SIM_IDR0_TTF, 2) | SIM_IDR0_ASID16 |
             SIM_IDR0_VMID16 | SIM_IDR0_CD2L |
             SIM_FIELD_PREP(SIM_IDR0_TTENDIAN, SIM_IDR0_TTENDIAN_LE) |
             SIM_FIELD_PREP(SIM_IDR0_STALL_MODEL, SIM_IDR0_STALL_NONE);
    idr[1] = SIM_FIELD_PREP(SIM_IDR1_SIDSIZE, 16) |
             SIM_FIELD_PREP(SIM_IDR1_SSIDSIZE, 20);
    idr[3] = SIM_IDR3_RIL;
    idr[5] = SIM_FIELD_PREP(SIM_IDR5_OAS, 5) | SIM_IDR5_GRAN4K |
             SIM_IDR5_GRAN16K | SIM_IDR5_GRAN64K;
}

static uint64_t cd0_make(unsigned g, unsigned tsz, uint16_t asid)
{
    return SIM_CD0_V | SIM_CD0_AA64 | SIM_CD0_R | SIM_CD0_A |
           SIM_FIELD_PREP(SIM_CD0_IPS, 5) |
           SIM_FIELD_PREP(SIM_CD0_T0SZ, tsz) |
           SIM_FIELD_PREP(SIM_CD0_TG0, tg0_of(g)) |
           SIM_FIELD_PREP(SIM_CD0_T1SZ, tsz) |
           SIM_FIELD_PREP(SIM_CD0_TG1, tg1_of(g)) |
           SIM_FIELD_PREP(SIM_CD0_ASID, asid);
}

static void cd_store(Env *env, uint64_t cd_ipa, const uint64_t w[3])
{
    uint64_t *p = hva(env, cd_ipa);

    p[0] = w[0];
    p[1] = w[1];
    p[2] = w[2];
}

/* Write the CD and (re)install the STE built from the vSTE. */
static void scene_commit(Scene *sc)
{
    SimPhysSte ste;

    cd_store(&sc->env, sc->cd_ipa, sc->cd);
    sim_ste_nested(&ste, sc->vste, VMID, 48);
    sim_smmu_install_ste(sc->smmu, SID, &ste, &sc->env.s2);
}

static void scene_init(Scene *sc, unsigned g, unsigned tsz, uint64_t va)
{
    memset(sc, 0, sizeof(*sc));
    env_init(&sc->env);
    default_idr(sc->idr);
    sc->smmu = sim_smmu_new(sc->idr);
    pt_init(&sc->pt, &sc->env, g, tsz);
    sc->va = va;
    sc->data_ipa = env_alloc(&sc->env, 1ULL << g, 1ULL << g);
    sc->leaf = pt_map(&sc->pt, va, sc->data_ipa, 3, PTE_DEFAULT);
    sc->cd_ipa = env_alloc(&sc->env, 64 * SIM_CD_BYTES, 64);
    sc->cd[0] = cd0_make(g, tsz, ASID);
    sc->cd[1] = sc->pt.root;
    sc->cd[2] = sc->pt.root;
    sc->vste[0] = SIM_STE0_V | SIM_FIELD_PREP(SIM_STE0_CFG, SIM_STE_CFG_S1) |
                  sc->cd_ipa;
    sc->vste[1] = 0;
    scene_commit(sc);
}

static void scene_new_smmu(Scene *sc)
{
    sim_smmu_free(sc->smmu);
    sc->smmu = sim_smmu_new(sc->idr);
    scene_commit(sc);
}

static void scene_fini(Scene *sc)
{
    sim_smmu_free(sc->smmu);
    free(sc->env.mem);
}

static int xl(Scene *sc, uint64_t va, unsigned access, SimXlate *out)
{
    return sim_smmu_translate(sc->smmu, SID, false, 0, va, access, out);
}

/* ---- STE builders ---- */

START_TEST(test_ste_abort)
{
    SimPhysSte ste;
    unsigned i;

    memset(&ste, 0xff, sizeof(ste));
    sim_ste_abort(&ste);
    ck_assert_uint_eq(ste.word[0], SIM_STE0_V);
    for (i = 1; i < 8; i++) {
        ck_assert_uint_eq(ste.word[i], 0);
    }
}
END_TEST

/* io-pgtable-arm's S2 geometry for a 4K granule: T0SZ, SL0 and PS by IAS */
static const struct {
    unsigned ias, t0sz, sl0, ps;
} s2_geom[] = {
    { 48, 16, 2, 5 },       /* 4 levels from L0 */
    { 44, 20, 2, 4 },       /* 4 levels from L0 */
    { 42, 22, 1, 3 },       /* L0 concatenated into L1 */
    { 40, 24, 1, 2 },       /* L0 concatenated into L1 */
    { 36, 28, 1, 1 },       /* 3 levels from L1 */
    { 32, 32, 1, 0 },       /* 3 levels from L1 */
};

START_TEST(test_ste_s2)
{
    SimPhysSte ste;
    uint64_t w2;

    sim_ste_s2(&ste, 0x1234, s2_geom[_i].ias);
    w2 = ste.word[2];
    ck_assert_uint_eq(ste.word[0],
                      SIM_STE0_V | SIM_FIELD_PREP(SIM_STE0_CFG,
                                                  SIM_STE_CFG_S2));
    ck_assert_uint_eq(ste.word[1], 0);
    ck_assert_uint_eq(SIM_FIELD_GET(SIM_STE2_S2VMID, w2), 0x1234);
    ck_assert_uint_eq(SIM_FIELD_GET(SIM_STE2_S2T0SZ, w2), s2_geom[_i].t0sz);
    ck_assert_uint_eq(SIM_FIELD_GET(SIM_STE2_S2SL0, w2), s2_geom[_i].sl0);
    ck_assert_uint_eq(SIM_FIELD_GET(SIM_STE2_S2PS, w2), s2_geom[_i].ps);
    ck_assert_uint_eq(SIM_FIELD_GET(SIM_STE2_S2TG, w2), 0);
    ck_assert_uint_eq(SIM_FIELD_GET(SIM_STE2_S2IR0, w2), 1);
    ck_assert_uint_eq(SIM_FIELD_GET(SIM_STE2_S2OR0, w2), 1);
    ck_assert_uint_eq(SIM_FIELD_GET(SIM_STE2_S2SH0, w2), 3);
    ck_assert(w2 & SIM_STE2_S2AA64);
    ck_assert(w2 & SIM_STE2_S2PTW);
    ck_assert(w2 & SIM_STE2_S2R);
    ck_assert_uint_ne(ste.word[3], 0);
    ck_assert_uint_eq(ste.word[3] & ~SIM_STE3_S2TTB, 0);
}
END_TEST

START_TEST(test_ste_nested)
{
    uint64_t ctx = 0x12345678c0ULL;
    uint64_t vste[2] = {
        SIM_STE0_V | SIM_FIELD_PREP(SIM_STE0_CFG, SIM_STE_CFG_S1) |
        SIM_FIELD_PREP(SIM_STE0_S1FMT, 1) | ctx |
        SIM_FIELD_PREP(SIM_STE0_S1CDMAX, 7),
        SIM_FIELD_PREP(SIM_STE1_S1DSS, 2) | SIM_STE1_S1STALLD |
        SIM_FIELD_PREP(SIM_STE1_S1CIR, 1),
    };
    SimPhysSte ste, s2;

    sim_ste_nested(&ste, vste, 9, 44);
    sim_ste_s2(&s2, 9, 44);
    ck_assert_uint_eq(ste.word[0],
                      SIM_STE0_V | SIM_FIELD_PREP(SIM_STE0_CFG,
                                                  SIM_STE_CFG_NESTED) |
                      SIM_FIELD_PREP(SIM_STE0_S1FMT, 1) | ctx |
                      SIM_FIELD_PREP(SIM_STE0_S1CDMAX, 7));
    ck_assert_uint_eq(ste.word[1], vste[1] | SIM_STE1_MEV);
    ck_assert_uint_eq(ste.word[2], s2.word[2]);
    ck_assert_uint_eq(ste.word[3], s2.word[3]);

    /* bypass vSTE: the plain S2 STE */
    vste[0] = SIM_STE0_V | SIM_FIELD_PREP(SIM_STE0_CFG, SIM_STE_CFG_BYPASS);
    sim_ste_nested(&ste, vste, 9, 44);
    ck_assert_mem_eq(&ste, &s2, sizeof(ste));

    /* abort vSTE and V = 0: the abort STE */
    vste[0] = SIM_STE0_V;
    sim_ste_nested(&ste, vste, 9, 44);
    ck_assert_uint_eq(ste.word[0], SIM_STE0_V);
    ck_assert_uint_eq(ste.word[2], 0);
    vste[0] = SIM_FIELD_PREP(SIM_STE0_CFG, SIM_STE_CFG_S1);
    sim_ste_nested(&ste, vste, 9, 44);
    ck_assert_uint_eq(ste.word[0], SIM_STE0_V);
}
END_TEST

/* ---- vSTE validation ---- */

#define V_S1    (SIM_STE0_V | SIM_FIELD_PREP(SIM_STE0_CFG, SIM_STE_CFG_S1))
#define V_CFG(c) (SIM_STE0_V | SIM_FIELD_PREP(SIM_STE0_CFG, (c)))

static const struct {
    uint64_t ste0, ste1;
    int ret;
    bool ats;
} vste_cases[] = {
    { 0, 0, 0, false },                                 /* V=0 */
    { ~SIM_STE0_V, ~0ULL, 0, false },                   /* V=0 + junk */
    { V_CFG(SIM_STE_CFG_ABORT), 0, 0, false },
    { V_CFG(SIM_STE_CFG_BYPASS), 0, 0, false },
    { V_S1, 0, 0, false },
    { V_CFG(1), 0, -EIO, false },
    { V_CFG(2), 0, -EIO, false },
    { V_CFG(3), 0, -EIO, false },
    { V_CFG(SIM_STE_CFG_S2), 0, -EIO, false },
    { V_CFG(SIM_STE_CFG_NESTED), 0, -EIO, false },
    /* each allowed field */
    { V_S1 | SIM_STE0_S1FMT, 0, 0, false },
    { V_S1 | SIM_STE0_S1CTXPTR, 0, 0, false },
    { V_S1 | SIM_STE0_S1CDMAX, 0, 0, false },
    { V_S1, SIM_STE1_S1DSS, 0, false },
    { V_S1, SIM_STE1_S1CIR, 0, false },
    { V_S1, SIM_STE1_S1COR, 0, false },
    { V_S1, SIM_STE1_S1CSH, 0, false },
    { V_S1, SIM_STE1_S1STALLD, 0, false },
    /* EATS */
    { V_S1, SIM_FIELD_PREP(SIM_STE1_EATS, 1), 0, true },
    { V_CFG(SIM_STE_CFG_BYPASS), SIM_FIELD_PREP(SIM_STE1_EATS, 1), 0, false },
    { V_CFG(SIM_STE_CFG_ABORT), SIM_FIELD_PREP(SIM_STE1_EATS, 1), 0, false },
    { V_S1, SIM_FIELD_PREP(SIM_STE1_EATS, 2), -EIO, false },
    { V_S1, SIM_FIELD_PREP(SIM_STE1_EATS, 3), -EIO, false },
    /* forbidden bits */
    { V_S1 | SIM_GENMASK(58, 52), 0, -EIO, false },
    { V_S1 | SIM_BIT(52), 0, -EIO, false },
    { V_S1 | SIM_BIT(58), 0, -EIO, false },
    { V_S1, SIM_STE1_MEV, -EIO, false },
    { V_S1, SIM_BIT(8), -EIO, false },
    { V_S1, SIM_BIT(26), -EIO, false },
    { V_S1, SIM_BIT(30), -EIO, false },         /* STRW */
    { V_S1, SIM_BIT(44), -EIO, false },         /* SHCFG */
    { V_S1, SIM_BIT(63), -EIO, false },
};

START_TEST(test_vste_check)
{
    uint64_t in[2] = { vste_cases[_i].ste0, vste_cases[_i].ste1 };
    uint64_t out[2] = { 0xdead, 0xbeef };
    bool ats = true;

    ck_assert_int_eq(sim_vste_check(in, out, &ats), vste_cases[_i].ret);
    ck_assert_int_eq(ats, vste_cases[_i].ats);
    if (vste_cases[_i].ret) {
        return;
    }
    if (!(in[0] & SIM_STE0_V)) {
        ck_assert_uint_eq(out[0], 0);           /* becomes abort */
        ck_assert_uint_eq(out[1], 0);
    } else {
        ck_assert_uint_eq(out[0], in[0]);
        ck_assert_uint_eq(out[1], in[1] & ~SIM_STE1_EATS);  /* stripped */
    }
}
END_TEST

/* ---- walks ---- */

static const struct {
    unsigned g, tsz, level;
    uint64_t va;
} walk_cases[] = {
    { 12, 16, 3, 0x00007f1234567abcULL },       /* 4K, start L0 */
    { 12, 25, 3, 0x0000004012345abcULL },       /* 4K, 39-bit, start L1 */
    { 12, 34, 3, 0x0000000023456abcULL },       /* 4K, 30-bit, start L2 */
    { 12, 16, 2, 0x0000001234523456ULL },       /* 4K 2M block */
    { 12, 16, 1, 0x0000008040123456ULL },       /* 4K 1G block */
    { 14, 16, 3, 0x00007f1234567abcULL },       /* 16K, start L0 */
    { 14, 17, 3, 0x00003f1234567abcULL },       /* 16K, 47-bit, start L1 */
    { 14, 28, 3, 0x0000000234567abcULL },       /* 16K, 36-bit, start L2 */
    { 14, 16, 2, 0x0000001230123456ULL },       /* 16K 32M block */
    { 16, 16, 3, 0x00007f1234567abcULL },       /* 64K, start L1 */
    { 16, 22, 3, 0x0000012345678abcULL },       /* 64K, 42-bit, start L2 */
    { 16, 16, 2, 0x0000123420123456ULL },       /* 64K 512M block */
    { 12, 16, 3, 0xffff80001234567cULL },       /* 4K TTB1 */
    { 14, 20, 3, 0xfffff00012345678ULL },       /* 16K TTB1, 44-bit */
    { 16, 25, 3, 0xffffff8012345678ULL },       /* 64K TTB1, 39-bit */
    { 16, 25, 2, 0xffffff8020123456ULL },       /* 64K TTB1 block */
};

START_TEST(test_walk)
{
    Scene sc;
    SimXlate x;
    unsigned g = walk_cases[_i].g, level = walk_cases[_i].level;
    uint64_t va = walk_cases[_i].va, size, oa, ipa;

    scene_init(&sc, g, walk_cases[_i].tsz, 0x1000);
    size = 1ULL << pt_shift(&sc.pt, level);
    /* blocks map from IPA_BASE, larger than the memory for L1 4K */
    oa = level == 3 ? sc.data_ipa : IPA_BASE;
    pt_map(&sc.pt, va, oa, level, PTE_DEFAULT);
    ipa = oa + (va & (size - 1));

    ck_assert_int_eq(xl(&sc, va, SIM_ACC_R, &x), 0);
    ck_assert_uint_eq(x.ipa, ipa);
    ck_assert_ptr_eq(x.hva, hva(&sc.env, ipa));
    if (size <= MEM_SIZE) {
        ck_assert_uint_eq(x.len, size - (va & (size - 1)));
    } else {
        ck_assert_uint_eq(x.len, 4096 - (va & 4095)); /* S2 page fallback */
    }
    ck_assert_uint_eq(x.perm, SIM_ACC_R | SIM_ACC_W | SIM_ACC_X);
    ck_assert(!x.iotlb_hit);
    ck_assert(!x.stale);

    ck_assert_int_eq(xl(&sc, va, SIM_ACC_W, &x), 0);
    ck_assert(x.iotlb_hit);
    ck_assert_uint_eq(x.ipa, ipa);
    scene_fini(&sc);
}
END_TEST

/* ---- faults ---- */

enum { IPA_NONE, IPA_OUT, IPA_L0DESC, IPA_CD };

typedef struct FaultCase {
    const char *what;
    void (*setup)(Scene *sc);
    unsigned access;
    int ret;
    unsigned id;
    bool s2;
    unsigned cls;
    int ipa;
} FaultCase;

static void f_leaf_ro(Scene *sc)
{
    *sc->leaf |= SIM_PTE_AP2;
}

static void f_leaf_priv(Scene *sc)
{
    *sc->leaf &= ~SIM_PTE_AP1;
}

static void f_leaf_uxn(Scene *sc)
{
    *sc->leaf |= SIM_PTE_UXN;
}

static void f_leaf_pxn_ro(Scene *sc)
{
    *sc->leaf |= SIM_PTE_PXN | SIM_PTE_AP2;
}

static void f_leaf_ro_el0(Scene *sc)
{
    *sc->leaf |= SIM_PTE_AP2;           /* EL0 writable -> priv XN gone */
}

static void f_leaf_af0(Scene *sc)
{
    *sc->leaf &= ~SIM_PTE_AF;
}

static void f_leaf_af0_affd(Scene *sc)
{
    *sc->leaf &= ~SIM_PTE_AF;
    sc->cd[0] |= SIM_CD0_AFFD;
    scene_commit(sc);
}

static void f_leaf_invalid(Scene *sc)
{
    *sc->leaf &= ~SIM_PTE_VALID;
}

static void f_leaf_reserved(Scene *sc)
{
    *sc->leaf &= ~SIM_PTE_TABLE;        /* 0b01 at level 3 */
}

static void f_leaf_oa_big(Scene *sc)
{
    *sc->leaf |= SIM_BIT(40);           /* beyond IPS = 40 bits */
    sc->cd[0] &= ~SIM_CD0_IPS;
    sc->cd[0] |= SIM_FIELD_PREP(SIM_CD0_IPS, 2);
    scene_commit(sc);
}

static void f_table_oa_big(Scene *sc)
{
    *pt_table_desc(&sc->pt, sc->va, 3) |= SIM_BIT(44);
    sc->cd[0] &= ~SIM_CD0_IPS;
    sc->cd[0] |= SIM_FIELD_PREP(SIM_CD0_IPS, 2);    /* 40 bits */
    scene_commit(sc);
}

static void f_aptable_ro(Scene *sc)
{
    *pt_table_desc(&sc->pt, sc->va, 3) |= SIM_PTE_APTABLE1;
}

static void f_aptable_el0(Scene *sc)
{
    *pt_table_desc(&sc->pt, sc->va, 2) |= SIM_PTE_APTABLE0;
}

static void f_uxntable(Scene *sc)
{
    *pt_table_desc(&sc->pt, sc->va, 1) |= SIM_PTE_UXNTABLE;
}

static void f_wxn(Scene *sc)
{
    sc->cd[0] |= SIM_CD0_WXN;
    scene_commit(sc);
}

static void f_l0_invalid(Scene *sc)
{
    *pt_table_desc(&sc->pt, sc->va, 1) = 0;
}

static void f_epd0(Scene *sc)
{
    sc->cd[0] |= SIM_CD0_EPD0;
    scene_commit(sc);
}

static void f_no_record(Scene *sc)
{
    *sc->leaf &= ~SIM_PTE_VALID;
    sc->cd[0] &= ~SIM_CD0_R;
    scene_commit(sc);
}

static void f_s2_hole_table(Scene *sc)
{
    sc->env.hole_lo = sc->pt.root;
    sc->env.hole_hi = sc->pt.root + 4096;
}

static void f_s2_hole_out(Scene *sc)
{
    sc->env.hole_lo = sc->data_ipa;
    sc->env.hole_hi = sc->data_ipa + 4096;
}

static void f_s2_ro_out(Scene *sc)
{
    sc->env.ro_lo = sc->data_ipa;
    sc->env.ro_hi = sc->data_ipa + 4096;
}

static void f_s2_hole_cd(Scene *sc)
{
    sc->env.hole_lo = sc->cd_ipa;
    sc->env.hole_hi = sc->cd_ipa + 64;
}

#define R       SIM_ACC_R
#define W       SIM_ACC_W
#define X       SIM_ACC_X
#define P       SIM_ACC_PRIV

/* Rows: the access, then what it must give */
#define PASS(w, fn, acc)            { w, fn, acc, .ret = 0 }
#define SILENT(w, fn, acc)          { w, fn, acc, .ret = -EPERM }
#define S1_FAULT(w, fn, acc, evt)   { w, fn, acc, .ret = -EFAULT, .id = evt }
#define S2_FAULT(w, fn, acc, evt, c, ipa_) \
    { w, fn, acc, .ret = -EFAULT, .id = evt, .s2 = true, .cls = c, \
      .ipa = ipa_ }

static const FaultCase fault_cases[] = {
    S1_FAULT("write to RO", f_leaf_ro, W, SIM_EVT_F_PERMISSION),
    PASS("read of RO", f_leaf_ro, R),
    S1_FAULT("EL0 read of priv-only", f_leaf_priv, R, SIM_EVT_F_PERMISSION),
    PASS("priv read of priv-only", f_leaf_priv, R | P),
    S1_FAULT("EL0 exec of UXN", f_leaf_uxn, X, SIM_EVT_F_PERMISSION),
    /* EL0-writable memory is privileged-execute-never */
    S1_FAULT("priv exec of UXN", f_leaf_uxn, X | P, SIM_EVT_F_PERMISSION),
    S1_FAULT("priv exec of PXN", f_leaf_pxn_ro, X | P, SIM_EVT_F_PERMISSION),
    PASS("EL0 exec of PXN", f_leaf_pxn_ro, X),
    PASS("priv exec of RO", f_leaf_ro_el0, X | P),
    S1_FAULT("APTable RO", f_aptable_ro, W | P, SIM_EVT_F_PERMISSION),
    S1_FAULT("APTable no EL0", f_aptable_el0, R, SIM_EVT_F_PERMISSION),
    PASS("APTable no EL0, priv", f_aptable_el0, R | P),
    S1_FAULT("UXNTable", f_uxntable, X, SIM_EVT_F_PERMISSION),
    S1_FAULT("WXN exec of writable", f_wxn, X, SIM_EVT_F_PERMISSION),
    S1_FAULT("AF = 0", f_leaf_af0, R, SIM_EVT_F_ACCESS),
    PASS("AF = 0 with AFFD", f_leaf_af0_affd, R),
    S1_FAULT("invalid leaf", f_leaf_invalid, R, SIM_EVT_F_TRANSLATION),
    S1_FAULT("reserved L3 0b01", f_leaf_reserved, R, SIM_EVT_F_TRANSLATION),
    S1_FAULT("invalid L0", f_l0_invalid, R, SIM_EVT_F_TRANSLATION),
    S1_FAULT("leaf OA > IPS", f_leaf_oa_big, R, SIM_EVT_F_ADDR_SIZE),
    S1_FAULT("table OA > IPS", f_table_oa_big, R, SIM_EVT_F_ADDR_SIZE),
    S1_FAULT("EPD0", f_epd0, R, SIM_EVT_F_TRANSLATION),
    SILENT("CD.R = 0 hides the fault", f_no_record, R),
    S2_FAULT("S2 miss on L0 table", f_s2_hole_table, R, SIM_EVT_F_TRANSLATION,
             SIM_EVT_CLASS_TT, IPA_L0DESC),
    S2_FAULT("S2 miss on output", f_s2_hole_out, W | P, SIM_EVT_F_TRANSLATION,
             SIM_EVT_CLASS_IN, IPA_OUT),
    S2_FAULT("S2 RO on write", f_s2_ro_out, W, SIM_EVT_F_PERMISSION,
             SIM_EVT_CLASS_IN, IPA_OUT),
    PASS("S2 RO on read", f_s2_ro_out, R),
    S2_FAULT("S2 miss on CD", f_s2_hole_cd, R, SIM_EVT_F_TRANSLATION,
             SIM_EVT_CLASS_CD, IPA_CD),
};

#define FAULT_VA    0x00007f1234567abcULL

START_TEST(test_fault)
{
    const FaultCase *fc = &fault_cases[_i];
    Scene sc;
    SimXlate x;
    SimSmmuStats st;
    uint64_t ipa = 0, want1;
    int ret;

    scene_init(&sc, 12, 16, FAULT_VA);
    fc->setup(&sc);
    ret = xl(&sc, FAULT_VA, fc->access, &x);
    ck_assert_msg(ret == fc->ret, "%s: %d != %d", fc->what, ret, fc->ret);
    sim_smmu_get_stats(sc.smmu, &st);
    ck_assert_uint_eq(st.faults, ret == -EFAULT);
    if (ret != -EFAULT) {
        goto out;
    }
    switch (fc->ipa) {
    case IPA_OUT:
        ipa = sc.data_ipa | (FAULT_VA & 0xfff);
        break;
    case IPA_L0DESC:
        ipa = sc.pt.root + ((FAULT_VA >> 39) & 0x1ff) * 8;
        break;
    case IPA_CD:
        ipa = sc.cd_ipa;
        break;
    }
    want1 = SIM_FIELD_PREP(SIM_EVT1_CLASS, fc->s2 ? fc->cls :
                                                    SIM_EVT_CLASS_IN) |
            (fc->access & W ? 0 : SIM_EVT1_RNW) |
            (fc->access & X ? SIM_EVT1_IND : 0) |
            (fc->access & P ? SIM_EVT1_PNU : 0) |
            (fc->s2 ? SIM_EVT1_S2 : 0);
    ck_assert_uint_eq(x.event[0],
                      SIM_FIELD_PREP(SIM_EVT0_ID, fc->id) |
                      SIM_FIELD_PREP(SIM_EVT0_SID, SID));
    ck_assert_uint_eq(x.event[1], want1);
    ck_assert_uint_eq(x.event[2], FAULT_VA);
    ck_assert_uint_eq(x.event[3], ipa & SIM_EVT3_IPA);
    ck_assert_int_eq(x.s2_fault, fc->s2);
out:
    scene_fini(&sc);
}
END_TEST

/* TBI: the top byte is ignored only when the CD says so */
START_TEST(test_tbi)
{
    Scene sc;
    SimXlate x;
    uint64_t tagged = FAULT_VA | (0x5aULL << 56);

    scene_init(&sc, 12, 16, FAULT_VA);
    ck_assert_int_eq(xl(&sc, tagged, R, &x), -EFAULT);
    ck_assert_uint_eq(SIM_FIELD_GET(SIM_EVT0_ID, x.event[0]),
                      SIM_EVT_F_TRANSLATION);
    sc.cd[0] |= SIM_CD0_TBI0;
    scene_commit(&sc);
    ck_assert_int_eq(xl(&sc, tagged, R, &x), 0);
    ck_assert_uint_eq(x.ipa, sc.data_ipa | 0xabc);
    ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
    ck_assert(x.iotlb_hit);             /* same entry, tag ignored */
    scene_fini(&sc);
}
END_TEST

/* HTTU: with HA the SMMU sets AF itself; with HD it marks dirty */
START_TEST(test_httu)
{
    Scene sc;
    SimXlate x;

    scene_init(&sc, 12, 16, FAULT_VA);
    sc.idr[0] |= SIM_FIELD_PREP(SIM_IDR0_HTTU, 2);
    sc.cd[0] |= SIM_CD0_HA | SIM_CD0_HD;
    scene_new_smmu(&sc);
    *sc.leaf &= ~SIM_PTE_AF;
    *sc.leaf |= SIM_PTE_AP2 | SIM_PTE_DBM;
    ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
    ck_assert(*sc.leaf & SIM_PTE_AF);
    ck_assert(*sc.leaf & SIM_PTE_AP2);
    ck_assert_int_eq(xl(&sc, FAULT_VA, W, &x), 0);
    ck_assert(!(*sc.leaf & SIM_PTE_AP2));
    scene_fini(&sc);
}
END_TEST

/* ---- STE and CD configuration faults ---- */

typedef struct CfgCase {
    const char *what;
    void (*setup)(Scene *sc);
    bool ssv;
    uint32_t ssid;
    int ret;
    unsigned id;
} CfgCase;

static void c_none(Scene *sc)
{
    (void)sc;
}

static void c_no_ste(Scene *sc)
{
    sim_smmu_clear_ste(sc->smmu, SID);
}

static void c_ste_v0(Scene *sc)
{
    SimPhysSte ste;

    sim_ste_abort(&ste);
    ste.word[0] = 0;
    sim_smmu_install_ste(sc->smmu, SID, &ste, &sc->env.s2);
}

static void c_ste_reserved_cfg(Scene *sc)
{
    SimPhysSte ste;

    memset(&ste, 0, sizeof(ste));
    ste.word[0] = SIM_STE0_V | SIM_FIELD_PREP(SIM_STE0_CFG, 2);
    sim_smmu_install_ste(sc->smmu, SID, &ste, &sc->env.s2);
}

static void c_ste_abort(Scene *sc)
{
    sc->vste[0] = SIM_STE0_V;
    scene_commit(sc);
}

static void c_vste_v0(Scene *sc)
{
    sc->vste[0] &= ~SIM_STE0_V;
    scene_commit(sc);
}

static void c_cd_w0(Scene *sc, uint64_t clear, uint64_t set)
{
    sc->cd[0] = (sc->cd[0] & ~clear) | set;
    scene_commit(sc);
}

static void c_cd_v0(Scene *sc)
{
    c_cd_w0(sc, SIM_CD0_V, 0);
}

static void c_cd_aa32(Scene *sc)
{
    c_cd_w0(sc, SIM_CD0_AA64, 0);
}

static void c_cd_t0sz_small(Scene *sc)
{
    c_cd_w0(sc, SIM_CD0_T0SZ, SIM_FIELD_PREP(SIM_CD0_T0SZ, 15));
}

static void c_cd_t0sz_big(Scene *sc)
{
    c_cd_w0(sc, SIM_CD0_T0SZ, SIM_FIELD_PREP(SIM_CD0_T0SZ, 40));
}

static void c_cd_t1sz_big(Scene *sc)
{
    c_cd_w0(sc, SIM_CD0_T1SZ, SIM_FIELD_PREP(SIM_CD0_T1SZ, 40));
}

static void c_cd_t1sz_big_epd1(Scene *sc)
{
    c_cd_w0(sc, SIM_CD0_T1SZ, SIM_FIELD_PREP(SIM_CD0_T1SZ, 40) |
            SIM_CD0_EPD1);
}

static void c_cd_tg1_reserved(Scene *sc)
{
    c_cd_w0(sc, SIM_CD0_TG1, 0);
}

static void c_cd_tg0_reserved(Scene *sc)
{
    c_cd_w0(sc, SIM_CD0_TG0, SIM_FIELD_PREP(SIM_CD0_TG0, 3));
}

static void c_cd_ha_no_httu(Scene *sc)
{
    c_cd_w0(sc, 0, SIM_CD0_HA);
}

static void c_cd_stall(Scene *sc)
{
    c_cd_w0(sc, 0, SIM_CD0_S);
}

static void c_cd_endi(Scene *sc)
{
    c_cd_w0(sc, 0, SIM_CD0_ENDI);
}

static void c_cd_ttb_big(Scene *sc)
{
    sc->cd[1] |= SIM_BIT(48);
    scene_commit(sc);
}

static void c_cd_asid8(Scene *sc)
{
    sc->idr[0] &= ~SIM_IDR0_ASID16;
    c_cd_w0(sc, SIM_CD0_ASID, SIM_FIELD_PREP(SIM_CD0_ASID, 0x100));
    scene_new_smmu(sc);
}

static void c_cd_unsupported_gran(Scene *sc)
{
    sc->idr[5] &= ~SIM_IDR5_GRAN4K;
    scene_new_smmu(sc);
}

/* Substreams: 16 linear CDs, each a copy of CD 0 */
static void c_cdmax4(Scene *sc)
{
    unsigned i;

    for (i = 1; i < 16; i++) {
        cd_store(&sc->env, sc->cd_ipa + i * SIM_CD_BYTES, sc->cd);
    }
    sc->vste[0] |= SIM_FIELD_PREP(SIM_STE0_S1CDMAX, 4);
    sc->vste[1] = SIM_FIELD_PREP(SIM_STE1_S1DSS, SIM_STE_S1DSS_SSID0);
    scene_commit(sc);
}

static void c_cdmax4_terminate(Scene *sc)
{
    c_cdmax4(sc);
    sc->vste[1] = SIM_FIELD_PREP(SIM_STE1_S1DSS, SIM_STE_S1DSS_TERMINATE);
    scene_commit(sc);
}

static void c_cdmax4_bypass(Scene *sc)
{
    c_cdmax4(sc);
    sc->vste[1] = SIM_FIELD_PREP(SIM_STE1_S1DSS, SIM_STE_S1DSS_BYPASS);
    scene_commit(sc);
}

static void c_cdmax_too_big(Scene *sc)
{
    sc->idr[1] = SIM_FIELD_PREP(SIM_IDR1_SIDSIZE, 16) |
                 SIM_FIELD_PREP(SIM_IDR1_SSIDSIZE, 3);
    sc->vste[0] |= SIM_FIELD_PREP(SIM_STE0_S1CDMAX, 4);
    scene_new_smmu(sc);
}

static void c_bypass(Scene *sc)
{
    sc->vste[0] = SIM_STE0_V |
                  SIM_FIELD_PREP(SIM_STE0_CFG, SIM_STE_CFG_BYPASS);
    scene_commit(sc);
}

/*
 * Two-level CD table, S1CDMax = 10: L1 entry 1 points at a leaf holding
 * SSIDs 64-127 (4K leaves) or entry 0 at SSIDs 0-1023 (64K leaves).
 */
static void c_cd2l(Scene *sc, unsigned fmt, bool valid)
{
    uint64_t l1 = env_alloc(&sc->env, 16 * 8, 64);
    unsigned split = fmt == SIM_STE_S1FMT_4K_L2 ? 6 : 10;
    uint64_t leaf = env_alloc(&sc->env, SIM_CD_BYTES << split, 4096);
    unsigned ssid = 70;

    ((uint64_t *)hva(&sc->env, l1))[ssid >> split] =
        leaf | (valid ? SIM_L1CD_V : 0);
    cd_store(&sc->env, leaf + (ssid & ((1u << split) - 1)) * SIM_CD_BYTES,
             sc->cd);
    sc->vste[0] = SIM_STE0_V | SIM_FIELD_PREP(SIM_STE0_CFG, SIM_STE_CFG_S1) |
                  SIM_FIELD_PREP(SIM_STE0_S1FMT, fmt) | l1 |
                  SIM_FIELD_PREP(SIM_STE0_S1CDMAX, 10);
    scene_commit(sc);
}

static void c_cd2l_4k(Scene *sc)
{
    c_cd2l(sc, SIM_STE_S1FMT_4K_L2, true);
}

static void c_cd2l_64k(Scene *sc)
{
    c_cd2l(sc, SIM_STE_S1FMT_64K_L2, true);
}

static void c_cd2l_l1_invalid(Scene *sc)
{
    c_cd2l(sc, SIM_STE_S1FMT_4K_L2, false);
}

static void c_cd2l_no_cd2l(Scene *sc)
{
    sc->idr[0] &= ~SIM_IDR0_CD2L;
    c_cd2l(sc, SIM_STE_S1FMT_4K_L2, true);
    scene_new_smmu(sc);
}

/* Rows: the STE/CD set-up and SSID, then what a translation gives */
#define CFG_OK(w, fn)               { w, fn, false, 0, .ret = 0 }
#define CFG_OK_SSID(w, fn, ssid)    { w, fn, true, ssid, .ret = 0 }
#define CFG_ABORT(w, fn)            { w, fn, false, 0, .ret = -EPERM }
#define CFG_EVT(w, fn, evt)         { w, fn, false, 0, -EFAULT, evt }
#define CFG_EVT_SSID(w, fn, ssid, evt) { w, fn, true, ssid, -EFAULT, evt }

static const CfgCase cfg_cases[] = {
    CFG_OK("valid", c_none),
    CFG_EVT("no STE", c_no_ste, SIM_EVT_C_BAD_STE),
    CFG_EVT("STE V=0", c_ste_v0, SIM_EVT_C_BAD_STE),
    CFG_EVT_SSID("STE V=0, SSV", c_ste_v0, 3, SIM_EVT_C_BAD_STE),
    CFG_EVT("STE config 2", c_ste_reserved_cfg, SIM_EVT_C_BAD_STE),
    CFG_ABORT("abort vSTE", c_ste_abort),
    CFG_ABORT("vSTE V=0", c_vste_v0),
    CFG_EVT("CD V=0", c_cd_v0, SIM_EVT_C_BAD_CD),
    CFG_EVT("CD AA64=0", c_cd_aa32, SIM_EVT_C_BAD_CD),
    CFG_EVT("CD T0SZ=15", c_cd_t0sz_small, SIM_EVT_C_BAD_CD),
    CFG_EVT("CD T0SZ=40", c_cd_t0sz_big, SIM_EVT_C_BAD_CD),
    CFG_EVT("CD T1SZ=40", c_cd_t1sz_big, SIM_EVT_C_BAD_CD),
    CFG_OK("CD T1SZ=40, EPD1", c_cd_t1sz_big_epd1),
    CFG_EVT("CD TG0=3", c_cd_tg0_reserved, SIM_EVT_C_BAD_CD),
    CFG_EVT("CD TG1=0", c_cd_tg1_reserved, SIM_EVT_C_BAD_CD),
    CFG_EVT("CD granule not in IDR5", c_cd_unsupported_gran, SIM_EVT_C_BAD_CD),
    CFG_EVT("CD HA, no HTTU", c_cd_ha_no_httu, SIM_EVT_C_BAD_CD),
    CFG_EVT("CD S, no stall", c_cd_stall, SIM_EVT_C_BAD_CD),
    CFG_EVT("CD ENDI, LE only", c_cd_endi, SIM_EVT_C_BAD_CD),
    CFG_EVT("CD TTB0 > IPS", c_cd_ttb_big, SIM_EVT_C_BAD_CD),
    CFG_EVT("CD ASID > 8 bits", c_cd_asid8, SIM_EVT_C_BAD_CD),
    CFG_EVT_SSID("SSV, S1CDMax=0", c_none, 0, SIM_EVT_C_BAD_SUBSTREAMID),
    CFG_OK_SSID("SSID 15 < 2^4", c_cdmax4, 15),
    CFG_EVT_SSID("SSID 16 >= 2^4", c_cdmax4, 16, SIM_EVT_C_BAD_SUBSTREAMID),
    CFG_EVT_SSID("SSID 0 with S1DSS=SSID0", c_cdmax4, 0,
                 SIM_EVT_C_BAD_SUBSTREAMID),
    CFG_OK("no SSID, S1DSS=SSID0", c_cdmax4),
    CFG_EVT("no SSID, S1DSS=terminate", c_cdmax4_terminate,
            SIM_EVT_F_STREAM_DISABLED),
    CFG_OK_SSID("SSID 0, S1DSS=terminate", c_cdmax4_terminate, 0),
    CFG_EVT_SSID("S1CDMax > SSIDSIZE", c_cdmax_too_big, 1, SIM_EVT_C_BAD_STE),
    CFG_OK_SSID("2-level 4K leaves", c_cd2l_4k, 70),
    CFG_OK_SSID("2-level 64K leaves", c_cd2l_64k, 70),
    CFG_EVT_SSID("2-level, L1CD V=0", c_cd2l_l1_invalid, 70,
                 SIM_EVT_C_BAD_SUBSTREAMID),
    CFG_EVT_SSID("2-level, missing CD", c_cd2l_4k, 71, SIM_EVT_C_BAD_CD),
    CFG_EVT_SSID("2-level without CD2L", c_cd2l_no_cd2l, 70, SIM_EVT_C_BAD_STE),
    CFG_EVT_SSID("SSV on stage-2-only STE", c_bypass, 1,
                 SIM_EVT_C_BAD_SUBSTREAMID),
};

START_TEST(test_cfg)
{
    const CfgCase *cc = &cfg_cases[_i];
    Scene sc;
    SimXlate x;
    int ret;

    scene_init(&sc, 12, 16, FAULT_VA);
    cc->setup(&sc);
    ret = sim_smmu_translate(sc.smmu, SID, cc->ssv, cc->ssid, FAULT_VA, R,
                             &x);
    ck_assert_msg(ret == cc->ret, "%s: %d != %d", cc->what, ret, cc->ret);
    if (ret == 0) {
        ck_assert_uint_eq(x.ipa, sc.data_ipa | (FAULT_VA & 0xfff));
    } else if (ret == -EFAULT) {
        ck_assert_uint_eq(x.event[0],
                          SIM_FIELD_PREP(SIM_EVT0_ID, cc->id) |
                          SIM_FIELD_PREP(SIM_EVT0_SID, SID) |
                          (cc->ssv ? SIM_EVT0_SSV |
                           SIM_FIELD_PREP(SIM_EVT0_SSID, cc->ssid) : 0));
        ck_assert_uint_eq(x.event[1], 0);
        ck_assert_uint_eq(x.event[2], 0);
        ck_assert_uint_eq(x.event[3], 0);
    }
    scene_fini(&sc);
}
END_TEST

/* Stage-1 bypass: the IPA is the IOVA, stage 2 gives the rest */
static const struct {
    void (*setup)(Scene *sc);
    uint64_t iova;
    unsigned access;
    int ret;
} s2only_cases[] = {
    { c_bypass, IPA_BASE + 0x12345, R, 0 },
    { c_bypass, IPA_BASE + 0x12345, W, 0 },
    { c_cdmax4_bypass, IPA_BASE + 0x12345, R, 0 },
    { c_bypass, 0x1000, R, -EFAULT },           /* S2 miss */
};

START_TEST(test_s2only)
{
    Scene sc;
    SimXlate x;
    uint64_t iova = s2only_cases[_i].iova;
    int ret;

    scene_init(&sc, 12, 16, FAULT_VA);
    s2only_cases[_i].setup(&sc);
    ret = sim_smmu_translate(sc.smmu, SID, false, 0, iova,
                             s2only_cases[_i].access, &x);
    ck_assert_int_eq(ret, s2only_cases[_i].ret);
    if (ret) {
        ck_assert_uint_eq(x.event[0],
                          SIM_FIELD_PREP(SIM_EVT0_ID,
                                         SIM_EVT_F_TRANSLATION) |
                          SIM_FIELD_PREP(SIM_EVT0_SID, SID));
        ck_assert_uint_eq(x.event[1], SIM_EVT1_S2 | SIM_EVT1_RNW |
                          SIM_FIELD_PREP(SIM_EVT1_CLASS, SIM_EVT_CLASS_IN));
        ck_assert_uint_eq(x.event[2], iova);
        ck_assert_uint_eq(x.event[3], iova);
        ck_assert(x.s2_fault);
    } else {
        ck_assert_uint_eq(x.ipa, iova);
        ck_assert_ptr_eq(x.hva, hva(&sc.env, iova));
        ck_assert_uint_eq(x.len, 4096 - (iova & 4095));
    }
    scene_fini(&sc);
}
END_TEST

/* ---- IOTLB ---- */

START_TEST(test_iotlb_hit)
{
    Scene sc;
    SimXlate x;
    SimSmmuStats st;

    scene_init(&sc, 12, 16, FAULT_VA);
    ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
    ck_assert(!x.iotlb_hit);
    ck_assert_uint_eq(sim_smmu_iotlb_size(sc.smmu), 1);
    ck_assert_int_eq(xl(&sc, FAULT_VA + 4, W, &x), 0);
    ck_assert(x.iotlb_hit);
    ck_assert(!x.stale);
    ck_assert_uint_eq(x.ipa, sc.data_ipa | ((FAULT_VA + 4) & 0xfff));
    ck_assert_ptr_eq(x.hva, hva(&sc.env, x.ipa));
    sim_smmu_get_stats(sc.smmu, &st);
    ck_assert_uint_eq(st.translations, 2);
    ck_assert_uint_eq(st.iotlb_hits, 1);
    ck_assert_uint_eq(st.iotlb_misses, 1);
    ck_assert_uint_eq(st.walks, 1);
    ck_assert_uint_eq(st.stale_hits, 0);

    /* caching off: every translation walks */
    sim_smmu_set_caching(sc.smmu, false);
    ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
    ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
    ck_assert(!x.iotlb_hit);
    ck_assert_uint_eq(sim_smmu_iotlb_size(sc.smmu), 0);
    ck_assert_uint_eq(sim_smmu_cd_cache_size(sc.smmu), 0);
    sim_smmu_get_stats(sc.smmu, &st);
    ck_assert_uint_eq(st.walks, 3);
    scene_fini(&sc);
}
END_TEST

static void exec2(SimSmmu *smmu, uint64_t c0, uint64_t c1)
{
    uint64_t cmd[2] = { c0, c1 };

    ck_assert_int_eq(sim_smmu_exec(smmu, cmd), 0);
}

static uint64_t tlbi_va(unsigned op, uint16_t vmid, uint16_t asid)
{
    return SIM_FIELD_PREP(SIM_CMD0_OP, op) |
           SIM_FIELD_PREP(SIM_CMD0_TLBI_VMID, vmid) |
           SIM_FIELD_PREP(SIM_CMD0_TLBI_ASID, asid);
}

/* A PTE changed without TLBI: hits go on, flagged stale; TLBI cures it */
START_TEST(test_iotlb_stale)
{
    Scene sc;
    SimXlate x;
    SimSmmuStats st;
    uint64_t other;

    scene_init(&sc, 12, 16, FAULT_VA);
    other = env_alloc(&sc.env, 4096, 4096);
    ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
    *sc.leaf = other | PTE_DEFAULT | SIM_PTE_VALID | SIM_PTE_TABLE;

    ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
    ck_assert(x.iotlb_hit);
    ck_assert(x.stale);
    ck_assert_uint_eq(x.ipa, sc.data_ipa | 0xabc);  /* the old page */

    exec2(sc.smmu, tlbi_va(SIM_CMD_TLBI_NH_VA, VMID, ASID),
          FAULT_VA & SIM_CMD1_TLBI_VA);
    ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
    ck_assert(!x.iotlb_hit);
    ck_assert(!x.stale);
    ck_assert_uint_eq(x.ipa, other | 0xabc);
    ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
    ck_assert(x.iotlb_hit);
    ck_assert(!x.stale);
    sim_smmu_get_stats(sc.smmu, &st);
    ck_assert_uint_eq(st.stale_hits, 1);
    scene_fini(&sc);
}
END_TEST

/* A CD changed without CFGI_CD keeps the cached CD, flagged stale */
START_TEST(test_cd_cache)
{
    Scene sc;
    SimXlate x;
    Pt pt2;
    uint64_t page2;

    scene_init(&sc, 12, 16, FAULT_VA);
    pt_init(&pt2, &sc.env, 12, 16);
    page2 = env_alloc(&sc.env, 4096, 4096);
    pt_map(&pt2, FAULT_VA, page2, 3, PTE_DEFAULT);
    ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
    ck_assert_uint_eq(sim_smmu_cd_cache_size(sc.smmu), 1);

    /* new tables under a new ASID, no CFGI_CD */
    ((uint64_t *)hva(&sc.env, sc.cd_ipa))[1] = pt2.root;
    ((uint64_t *)hva(&sc.env, sc.cd_ipa))[0] =
        cd0_make(12, 16, ASID + 1);
    ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
    ck_assert(x.stale);
    ck_assert_uint_eq(x.ipa, sc.data_ipa | 0xabc);

    exec2(sc.smmu, SIM_FIELD_PREP(SIM_CMD0_OP, SIM_CMD_CFGI_CD) |
          SIM_FIELD_PREP(SIM_CMD0_SID, SID), SIM_CMD1_LEAF);
    ck_assert_uint_eq(sim_smmu_cd_cache_size(sc.smmu), 0);
    ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
    ck_assert(!x.stale);
    ck_assert(!x.iotlb_hit);
    ck_assert_uint_eq(x.ipa, page2 | 0xabc);
    scene_fini(&sc);
}
END_TEST

/* CFGI_* drop exactly the CDs they name */
static const struct {
    uint64_t cmd0, cmd1;
    unsigned left;          /* of 3 cached: (SID, 1), (SID, 2), (SID+1, 1) */
} cfgi_cases[] = {
    { SIM_CMD_CFGI_CD | SIM_FIELD_PREP(SIM_CMD0_SID, SID) |
      SIM_FIELD_PREP(SIM_CMD0_SSID, 1), 0, 2 },
    { SIM_CMD_CFGI_CD | SIM_FIELD_PREP(SIM_CMD0_SID, SID) |
      SIM_FIELD_PREP(SIM_CMD0_SSID, 3), 0, 3 },
    { SIM_CMD_CFGI_CD_ALL | SIM_FIELD_PREP(SIM_CMD0_SID, SID), 0, 1 },
    { SIM_CMD_CFGI_STE | SIM_FIELD_PREP(SIM_CMD0_SID, SID + 1), 1, 2 },
    { SIM_CMD_CFGI_STE_RANGE | SIM_FIELD_PREP(SIM_CMD0_SID, 0x40), 0, 3 },
    { SIM_CMD_CFGI_STE_RANGE | SIM_FIELD_PREP(SIM_CMD0_SID, SID + 1), 0,
      0 },                                      /* 0x42-0x43 */
    { SIM_CMD_CFGI_STE_RANGE, 31, 0 },                          /* ALL */
    { SIM_CMD_TLBI_NSNH_ALL, 0, 3 },
};

START_TEST(test_cfgi)
{
    Scene sc;
    SimXlate x;
    SimPhysSte ste;

    scene_init(&sc, 12, 16, FAULT_VA);
    c_cdmax4(&sc);
    sim_ste_nested(&ste, sc.vste, VMID, 48);
    sim_smmu_install_ste(sc.smmu, SID + 1, &ste, &sc.env.s2);
    ck_assert_int_eq(sim_smmu_translate(sc.smmu, SID, true, 1, FAULT_VA, R,
                                        &x), 0);
    ck_assert_int_eq(sim_smmu_translate(sc.smmu, SID, true, 2, FAULT_VA, R,
                                        &x), 0);
    ck_assert_int_eq(sim_smmu_translate(sc.smmu, SID + 1, true, 1,
                                        FAULT_VA, R, &x), 0);
    ck_assert_uint_eq(sim_smmu_cd_cache_size(sc.smmu), 3);
    exec2(sc.smmu, cfgi_cases[_i].cmd0, cfgi_cases[_i].cmd1);
    ck_assert_uint_eq(sim_smmu_cd_cache_size(sc.smmu), cfgi_cases[_i].left);
    scene_fini(&sc);
}
END_TEST

/*
 * TLBI selectivity. Five entries: E0 (SID, VMID 3, ASID 5, VA A),
 * E1 (same, VA B = A + 8K), E2 (VMID 3, ASID 6, VA A), E3 (VMID 4, ASID
 * 5, VA A), E4 (VMID 3, global, VA G). Each command removes a known set.
 */
#define TA          0x0000001234560000ULL
#define TB          (TA + 0x2000)
#define TG          0x0000005678900000ULL

typedef struct TlbiCase {
    const char *what;
    unsigned op;
    uint16_t vmid, asid;
    uint64_t addr;
    unsigned num, scale, tg, ttl;   /* range form when tg != 0 */
    unsigned gone;                  /* bitmap of removed entries */
} TlbiCase;

static const TlbiCase tlbi_cases[] = {
    { "VA A asid 5", SIM_CMD_TLBI_NH_VA, 3, 5, TA, .gone = 0x01 },
    { "VA A+0x800", SIM_CMD_TLBI_NH_VA, 3, 5, TA + 0x800, .gone = 0x01 },
    { "VA B asid 5", SIM_CMD_TLBI_NH_VA, 3, 5, TB, .gone = 0x02 },
    { "VA A asid 7", SIM_CMD_TLBI_NH_VA, 3, 7, TA, .gone = 0x00 },
    { "VA G asid 7 (global)", SIM_CMD_TLBI_NH_VA, 3, 7, TG, .gone = 0x10 },
    { "VA A vmid 4", SIM_CMD_TLBI_NH_VA, 4, 5, TA, .gone = 0x08 },
    { "VAA A", SIM_CMD_TLBI_NH_VAA, 3, 0, TA, .gone = 0x05 },
    { "VAA G", SIM_CMD_TLBI_NH_VAA, 3, 0, TG, .gone = 0x10 },
    { "ASID 5", SIM_CMD_TLBI_NH_ASID, 3, 5, .gone = 0x03 },
    { "ASID 6", SIM_CMD_TLBI_NH_ASID, 3, 6, .gone = 0x04 },
    { "NH_ALL vmid 3", SIM_CMD_TLBI_NH_ALL, 3, .gone = 0x17 },
    { "NH_ALL vmid 4", SIM_CMD_TLBI_NH_ALL, 4, .gone = 0x08 },
    { "S12_VMALL vmid 3", SIM_CMD_TLBI_S12_VMALL, 3, .gone = 0x17 },
    { "NSNH_ALL", SIM_CMD_TLBI_NSNH_ALL, .gone = 0x1f },
    { "range A, 2 pages", SIM_CMD_TLBI_NH_VA, 3, 5, TA, 1, 0, 1, 0, 0x01 },
    { "range A, 3 pages", SIM_CMD_TLBI_NH_VA, 3, 5, TA, 2, 0, 1, 0, 0x03 },
    { "range A, 2<<1 pages", SIM_CMD_TLBI_NH_VA, 3, 5, TA, 1, 1, 1, 0,
      0x03 },
    { "range A+4K, 1 page", SIM_CMD_TLBI_NH_VA, 3, 5, TA + 0x1000, 0, 0, 1,
      0, 0x00 },
    { "range A, TTL 3", SIM_CMD_TLBI_NH_VA, 3, 5, TA, 2, 0, 1, 3, 0x03 },
    { "range A, TTL 2", SIM_CMD_TLBI_NH_VA, 3, 5, TA, 2, 0, 1, 2, 0x00 },
    { "range VAA A, 64K", SIM_CMD_TLBI_NH_VAA, 3, 0, TA, 0, 0, 3, 0, 0x07 },
    { "S2_IPA of A's page", SIM_CMD_TLBI_S2_IPA, 3, .gone = 0x05 },
    { "ATC_INV", SIM_CMD_ATC_INV, .gone = 0x00 },
    { "CMD_SYNC", SIM_CMD_SYNC, .gone = 0x00 },
    { "CFGI_ALL", SIM_CMD_CFGI_STE_RANGE, .gone = 0x00 },
};

START_TEST(test_tlbi)
{
    Scene sc;
    SimXlate x;
    SimPhysSte ste;
    SimSmmuStats st;
    const TlbiCase *tc = &tlbi_cases[_i];
    uint64_t pa, pb, pg, c0, c1;
    struct { uint32_t sid; uint64_t va; } e[5];
    uint64_t cd6[3];
    unsigned i;

    scene_init(&sc, 12, 16, TA);
    pa = sc.data_ipa;
    pb = env_alloc(&sc.env, 4096, 4096);
    pg = env_alloc(&sc.env, 4096, 4096);
    pt_map(&sc.pt, TB, pb, 3, PTE_DEFAULT);
    pt_map(&sc.pt, TG, pg, 3, PTE_DEFAULT & ~SIM_PTE_NG);
    /* SID+1: ASID 6 on VMID 3; SID+2: ASID 5 on VMID 4 */
    memcpy(cd6, sc.cd, sizeof(cd6));
    cd6[0] = cd0_make(12, 16, 6);
    cd_store(&sc.env, sc.cd_ipa + SIM_CD_BYTES, cd6);
    sc.vste[0] += SIM_CD_BYTES;
    sim_ste_nested(&ste, sc.vste, VMID, 48);
    sim_smmu_install_ste(sc.smmu, SID + 1, &ste, &sc.env.s2);
    sc.vste[0] -= SIM_CD_BYTES;
    sim_ste_nested(&ste, sc.vste, 4, 48);
    sim_smmu_install_ste(sc.smmu, SID + 2, &ste, &sc.env.s2);

    e[0].sid = SID;     e[0].va = TA;
    e[1].sid = SID;     e[1].va = TB;
    e[2].sid = SID + 1; e[2].va = TA;
    e[3].sid = SID + 2; e[3].va = TA;
    e[4].sid = SID;     e[4].va = TG;
    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(sim_smmu_translate(sc.smmu, e[i].sid, false, 0,
                                            e[i].va, R, &x), 0);
        ck_assert(!x.iotlb_hit);
    }
    ck_assert_uint_eq(sim_smmu_iotlb_size(sc.smmu), 5);

    c0 = SIM_FIELD_PREP(SIM_CMD0_OP, tc->op) |
         SIM_FIELD_PREP(SIM_CMD0_TLBI_VMID, tc->vmid) |
         SIM_FIELD_PREP(SIM_CMD0_TLBI_ASID, tc->asid) |
         SIM_FIELD_PREP(SIM_CMD0_TLBI_NUM, tc->num) |
         SIM_FIELD_PREP(SIM_CMD0_TLBI_SCALE, tc->scale);
    c1 = (tc->addr & SIM_CMD1_TLBI_VA) |
         SIM_FIELD_PREP(SIM_CMD1_TLBI_TG, tc->tg) |
         SIM_FIELD_PREP(SIM_CMD1_TLBI_TTL, tc->ttl);
    if (tc->op == SIM_CMD_TLBI_S2_IPA) {
        c1 = pa & SIM_CMD1_TLBI_IPA;
    } else if (tc->op == SIM_CMD_CFGI_STE_RANGE) {
        c0 = SIM_FIELD_PREP(SIM_CMD0_OP, tc->op);
        c1 = SIM_FIELD_PREP(SIM_CMD1_RANGE, 31);
    }
    exec2(sc.smmu, c0, c1);

    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(sim_smmu_translate(sc.smmu, e[i].sid, false, 0,
                                            e[i].va, R, &x), 0);
        ck_assert_msg(x.iotlb_hit == !(tc->gone & (1u << i)),
                      "%s: entry %u hit=%d", tc->what, i, x.iotlb_hit);
    }
    sim_smmu_get_stats(sc.smmu, &st);
    ck_assert_uint_eq(st.cmds[tc->op], 1);
    scene_fini(&sc);
}
END_TEST

/* Block entries: a TLBI by any VA inside the block removes it */
START_TEST(test_tlbi_block)
{
    Scene sc;
    SimXlate x;
    uint64_t va = 0x0000001234400000ULL;

    scene_init(&sc, 12, 16, FAULT_VA);
    pt_map(&sc.pt, va, IPA_BASE, 2, PTE_DEFAULT);
    ck_assert_int_eq(xl(&sc, va + 0x1000, R, &x), 0);
    ck_assert_int_eq(xl(&sc, va + 0x1ff000, R, &x), 0);
    ck_assert(x.iotlb_hit);             /* one 2M entry */
    ck_assert_uint_eq(sim_smmu_iotlb_size(sc.smmu), 1);
    exec2(sc.smmu, tlbi_va(SIM_CMD_TLBI_NH_VA, VMID, ASID),
          (va + 0x100000) | SIM_CMD1_LEAF);
    ck_assert_uint_eq(sim_smmu_iotlb_size(sc.smmu), 0);
    scene_fini(&sc);
}
END_TEST

/* ---- command set ---- */

static const struct {
    unsigned op;
    int ret;
} cmd_cases[] = {
    { SIM_CMD_PREFETCH_CFG, 0 }, { SIM_CMD_PREFETCH_ADDR, 0 },
    { SIM_CMD_CFGI_STE, 0 }, { SIM_CMD_CFGI_STE_RANGE, 0 },
    { SIM_CMD_CFGI_CD, 0 }, { SIM_CMD_CFGI_CD_ALL, 0 },
    { SIM_CMD_TLBI_NH_ALL, 0 }, { SIM_CMD_TLBI_NH_ASID, 0 },
    { SIM_CMD_TLBI_NH_VA, 0 }, { SIM_CMD_TLBI_NH_VAA, 0 },
    { SIM_CMD_TLBI_EL2_ALL, 0 }, { SIM_CMD_TLBI_S12_VMALL, 0 },
    { SIM_CMD_TLBI_S2_IPA, 0 }, { SIM_CMD_TLBI_NSNH_ALL, 0 },
    { SIM_CMD_ATC_INV, 0 }, { SIM_CMD_PRI_RESP, 0 }, { SIM_CMD_RESUME, 0 },
    { SIM_CMD_SYNC, 0 },
    { 0x00, -EINVAL }, { 0x07, -EINVAL }, { 0x14, -EINVAL },
    { 0x2b, -EINVAL }, { 0x47, -EINVAL }, { 0xff, -EINVAL },
};

START_TEST(test_cmd)
{
    uint32_t idr[6];
    SimSmmu *smmu;
    SimSmmuStats st;
    uint64_t cmd[2] = { cmd_cases[_i].op, 0 };

    default_idr(idr);
    smmu = sim_smmu_new(idr);
    ck_assert_int_eq(sim_smmu_exec(smmu, cmd), cmd_cases[_i].ret);
    ck_assert_int_eq(sim_smmu_exec(smmu, cmd), cmd_cases[_i].ret);
    sim_smmu_get_stats(smmu, &st);
    ck_assert_uint_eq(st.cmds[cmd_cases[_i].op],
                      cmd_cases[_i].ret ? 0 : 2);
    sim_smmu_free(smmu);
}
END_TEST

/* No ATC is modelled: each ATC_INV is counted on the StreamID it names. */
START_TEST(test_atc_inv_counted)
{
    uint32_t idr[6];
    SimSmmu *smmu;
    uint64_t atc5[2] = {
        SIM_CMD_ATC_INV | SIM_FIELD_PREP(SIM_CMD0_SID, 5), 0
    };
    uint64_t atc6[2] = {
        SIM_CMD_ATC_INV | SIM_FIELD_PREP(SIM_CMD0_SID, 6), 0
    };

    default_idr(idr);
    smmu = sim_smmu_new(idr);
    ck_assert_uint_eq(sim_smmu_atc_invs(smmu, 5), 0);
    ck_assert_int_eq(sim_smmu_exec(smmu, atc5), 0);
    ck_assert_int_eq(sim_smmu_exec(smmu, atc5), 0);
    ck_assert_int_eq(sim_smmu_exec(smmu, atc6), 0);
    ck_assert_uint_eq(sim_smmu_atc_invs(smmu, 5), 2);
    ck_assert_uint_eq(sim_smmu_atc_invs(smmu, 6), 1);
    ck_assert_uint_eq(sim_smmu_atc_invs(smmu, 7), 0);
    sim_smmu_free(smmu);
}
END_TEST

/* ---- locking: translations race invalidations from another thread ---- */

typedef struct Racer {
    Scene *sc;
    bool stop;                  /* atomic: polled by the other thread */
} Racer;

static gpointer racer(gpointer opaque)
{
    Racer *r = opaque;
    uint64_t cmd[2] = {
        SIM_CMD_TLBI_NH_ASID | SIM_FIELD_PREP(SIM_CMD0_TLBI_VMID, VMID) |
        SIM_FIELD_PREP(SIM_CMD0_TLBI_ASID, ASID), 0
    };

    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        sim_smmu_exec(r->sc->smmu, cmd);
    }
    return NULL;
}

START_TEST(test_threads)
{
    Scene sc;
    SimXlate x;
    Racer r = { &sc, false };
    GThread *t;
    unsigned i;

    scene_init(&sc, 12, 16, FAULT_VA);
    t = g_thread_new("racer", racer, &r);
    for (i = 0; i < 20000; i++) {
        ck_assert_int_eq(xl(&sc, FAULT_VA, R, &x), 0);
        ck_assert_uint_eq(x.ipa, sc.data_ipa | 0xabc);
    }
    __atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
    g_thread_join(t);
    scene_fini(&sc);
}
END_TEST

static Suite *smmu_hw_suite(void)
{
    Suite *s = suite_create("smmu-hw");
    TCase *tc;

    tc = tcase_create("ste");
    tcase_add_test(tc, test_ste_abort);
    tcase_add_loop_test(tc, test_ste_s2, 0, G_N_ELEMENTS(s2_geom));
    tcase_add_test(tc, test_ste_nested);
    tcase_add_loop_test(tc, test_vste_check, 0, G_N_ELEMENTS(vste_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("walk");
    tcase_add_loop_test(tc, test_walk, 0, G_N_ELEMENTS(walk_cases));
    tcase_add_loop_test(tc, test_fault, 0, G_N_ELEMENTS(fault_cases));
    tcase_add_test(tc, test_tbi);
    tcase_add_test(tc, test_httu);
    suite_add_tcase(s, tc);

    tc = tcase_create("config");
    tcase_add_loop_test(tc, test_cfg, 0, G_N_ELEMENTS(cfg_cases));
    tcase_add_loop_test(tc, test_s2only, 0, G_N_ELEMENTS(s2only_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("iotlb");
    tcase_add_test(tc, test_iotlb_hit);
    tcase_add_test(tc, test_iotlb_stale);
    tcase_add_test(tc, test_cd_cache);
    tcase_add_loop_test(tc, test_cfgi, 0, G_N_ELEMENTS(cfgi_cases));
    tcase_add_loop_test(tc, test_tlbi, 0, G_N_ELEMENTS(tlbi_cases));
    tcase_add_test(tc, test_tlbi_block);
    tcase_add_test(tc, test_atc_inv_counted);
    tcase_add_loop_test(tc, test_cmd, 0, G_N_ELEMENTS(cmd_cases));
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(smmu_hw_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
