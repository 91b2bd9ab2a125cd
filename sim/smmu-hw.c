/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The physical SMMUv3 of the simulated host.
 *
 * The stream table is a hash of pSID -> installed STE + stage 2 (the IOAS
 * callback). A translation decodes the STE, fetches the CD through stage 2
 * (or from the CD cache), walks the guest's AArch64 stage-1 tables through
 * stage 2 and caches the result in an IOTLB keyed as hardware keys it:
 * (VMID, ASID or global, VA of the leaf, leaf level, granule). Only
 * architected invalidation commands (sim_smmu_exec) remove entries, so a
 * guest that forgets one keeps translating through the old entry; each
 * entry remembers the descriptors it was built from to spot that.
 *
 * Lifecycle: IOTLB and CD cache entries hold host addresses inside the
 * stage-2 memory. As on real hardware the host must invalidate (TLBI_S12_
 * VMALL or TLBI_S2_IPA for the VMID, CFGI_STE for the SID) before that
 * memory is unmapped or freed; install/clear_ste count as STE write plus
 * CFGI_STE.
 */
#include <errno.h>
#include <string.h>
#include <glib.h>

#include "smmu-hw.h"
#include "smmu-defs.h"

/* ASID of a global (nG = 0) IOTLB entry: matches every ASID */
#define SIM_ASID_GLOBAL         0x10000u
/* A full IOTLB is flushed, as a small hardware TLB would evict */
#define SIM_IOTLB_MAX           16384
/* L1CD + 3 CD words + 4 levels of S1 descriptors */
#define SIM_DESC_MAX            8
#define SIM_CD_WORDS            3
#define SIM_S2_PAGE             4096ULL

/* An installed STE and the stage 2 behind it */
typedef struct SimStream {
    SimPhysSte ste;
    SimS2 s2;
} SimStream;

/* A decoded translation table half (TTB0 or TTB1) of a CD */
typedef struct SimTT {
    bool disabled;
    bool tbi;
    bool had;
    unsigned gshift;        /* granule: 12, 14 or 16 */
    unsigned inputsize;     /* 64 - TxSZ */
    unsigned start_level;
    unsigned oas;           /* effective output size of this half */
    uint64_t ttb;
} SimTT;

/* Descriptor snapshots an object was built from (stale detection) */
typedef struct SimDescLog {
    unsigned n;
    const uint64_t *hva[SIM_DESC_MAX];
    uint64_t raw[SIM_DESC_MAX];
} SimDescLog;

/* A decoded CD, as the CD cache holds it */
typedef struct SimCd {
    uint64_t key;           /* pSID << 32 | CD index */
    uint16_t asid;
    bool affd, ha, hd, wxn, endi, record;
    SimTT tt[2];
    SimDescLog log;         /* L1CD and CD words 0-2 */
} SimCd;

typedef struct IotlbKey {
    uint64_t va;            /* leaf-aligned, top byte normalised */
    uint32_t asid;          /* or SIM_ASID_GLOBAL */
    uint16_t vmid;
    uint8_t level;
    uint8_t gshift;
} IotlbKey;

typedef struct IotlbEntry {
    IotlbKey key;           /* first: it is the hash table's key */
    uint64_t size;          /* leaf size */
    uint64_t ipa;           /* IPA of key.va */
    /* host address of ipa + hva_off; valid for hva_len bytes */
    uint8_t *hva;
    uint64_t hva_off, hva_len;
    uint8_t perm[2];        /* [0] EL0, [1] privileged: SIM_ACC_R/W/X */
    SimDescLog log;
} IotlbEntry;

struct SimSmmu {
    GMutex lock;
    uint32_t idr[6];
    /* decoded features */
    bool s1p, s2p, asid16, cd2l, term_model, stall_none, ril, had, stt;
    unsigned httu, ttendian, sidsize, ssidsize, oas;
    bool gran[17];          /* indexed by granule shift */
    bool vax;
    bool caching;           /* IOTLB and CD cache enabled */
    GHashTable *streams;    /* pSID -> SimStream */
    GHashTable *cds;        /* &SimCd.key -> SimCd */
    GHashTable *iotlb;      /* &IotlbEntry.key -> IotlbEntry */
    GHashTable *atc_invs;   /* pSID -> ATC_INVs received (no ATC modelled) */
    SimSmmuStats stats;
};

/* One translation in progress */
typedef struct Xlate {
    SimSmmu *smmu;
    const SimStream *st;
    uint32_t psid;
    bool ssv;
    uint32_t ssid;
    uint64_t iova;
    unsigned access;
    bool stale;
    SimXlate *out;
} Xlate;

/* ---- STE builders (arm-smmu-v3.c, arm-smmu-v3-iommufd.c) ---- */

static unsigned oas_to_bits(unsigned enc)
{
    static const unsigned bits[] = { 32, 36, 40, 42, 44, 48, 52, 52 };

    return bits[enc & 7];
}

static unsigned bits_to_ps(unsigned bits)
{
    unsigned enc;

    for (enc = 0; enc < 6 && oas_to_bits(enc) < bits; enc++) {
        continue;
    }
    return enc;
}

void sim_ste_abort(SimPhysSte *ste)
{
    memset(ste, 0, sizeof(*ste));
    ste->word[0] = SIM_STE0_V |
                   SIM_FIELD_PREP(SIM_STE0_CFG, SIM_STE_CFG_ABORT);
}

void sim_ste_s2(SimPhysSte *ste, uint16_t vmid, unsigned ias_bits)
{
    /* io-pgtable-arm's S2 with a 4K granule and ias == oas */
    unsigned ias = MIN(MAX(ias_bits, 32u), 48u);
    unsigned levels = (ias - 12 + 8) / 9;
    unsigned start = 4 - levels;

    if (start == 0 && (ias == 40 || ias == 42)) {
        start++;                /* concatenated PGD is mandatory */
    }
    memset(ste, 0, sizeof(*ste));
    ste->word[0] = SIM_STE0_V | SIM_FIELD_PREP(SIM_STE0_CFG, SIM_STE_CFG_S2);
    ste->word[2] = SIM_FIELD_PREP(SIM_STE2_S2VMID, vmid) |
                   SIM_FIELD_PREP(SIM_STE2_S2T0SZ, 64 - ias) |
                   /* 4K SL0 counts from level 2 downwards */
                   SIM_FIELD_PREP(SIM_STE2_S2SL0, ~(start + 1) & 3) |
                   SIM_FIELD_PREP(SIM_STE2_S2IR0, 1) |
                   SIM_FIELD_PREP(SIM_STE2_S2OR0, 1) |
                   SIM_FIELD_PREP(SIM_STE2_S2SH0, 3) |
                   SIM_FIELD_PREP(SIM_STE2_S2TG, 0) |
                   SIM_FIELD_PREP(SIM_STE2_S2PS, bits_to_ps(ias_bits)) |
                   SIM_STE2_S2AA64 | SIM_STE2_S2PTW | SIM_STE2_S2R;
    /* No real S2 tables exist: a recognisable, 64K-aligned stand-in */
    ste->word[3] = (0x80000000ULL | ((uint64_t)vmid << 16)) & SIM_STE3_S2TTB;
}

int sim_vste_check(const uint64_t vste[2], uint64_t out[2], bool *ats)
{
    unsigned cfg, eats;

    *ats = false;
    if (!(vste[0] & SIM_STE0_V)) {
        out[0] = 0;
        out[1] = 0;
        return 0;
    }
    if ((vste[0] & ~SIM_VSTE0_ALLOWED) || (vste[1] & ~SIM_VSTE1_ALLOWED)) {
        return -EIO;
    }
    cfg = SIM_FIELD_GET(SIM_STE0_CFG, vste[0]);
    if (cfg != SIM_STE_CFG_ABORT && cfg != SIM_STE_CFG_BYPASS &&
        cfg != SIM_STE_CFG_S1) {
        return -EIO;
    }
    eats = SIM_FIELD_GET(SIM_STE1_EATS, vste[1]);
    if (eats != SIM_STE_EATS_ABT && eats != SIM_STE_EATS_TRANS) {
        return -EIO;
    }
    out[0] = vste[0];
    out[1] = vste[1] & ~SIM_STE1_EATS;
    *ats = cfg == SIM_STE_CFG_S1 && eats == SIM_STE_EATS_TRANS;
    return 0;
}

void sim_ste_nested(SimPhysSte *ste, const uint64_t vste[2], uint16_t vmid,
                    unsigned ias_bits)
{
    unsigned cfg = SIM_FIELD_GET(SIM_STE0_CFG, vste[0]);

    if (!(vste[0] & SIM_STE0_V)) {
        cfg = SIM_STE_CFG_ABORT;
    }
    switch (cfg) {
    case SIM_STE_CFG_S1:
        sim_ste_s2(ste, vmid, ias_bits);
        ste->word[0] = SIM_STE0_V |
                       SIM_FIELD_PREP(SIM_STE0_CFG, SIM_STE_CFG_NESTED) |
                       (vste[0] & ~SIM_STE0_CFG);
        /* MEV: merge events, the host's DoS mitigation on its eventq */
        ste->word[1] |= vste[1] | SIM_STE1_MEV;
        break;
    case SIM_STE_CFG_BYPASS:
        sim_ste_s2(ste, vmid, ias_bits);
        break;
    default:
        sim_ste_abort(ste);
        break;
    }
}

/* ---- object lifetime ---- */

static guint iotlb_hash(gconstpointer p)
{
    const IotlbKey *k = p;
    uint64_t h = k->va * 0x9e3779b97f4a7c15ULL;

    h ^= ((uint64_t)k->asid << 24) ^ ((uint64_t)k->vmid << 44) ^
         ((uint64_t)k->level << 8) ^ k->gshift;
    return (guint)(h ^ (h >> 32));
}

static gboolean iotlb_equal(gconstpointer a, gconstpointer b)
{
    const IotlbKey *x = a, *y = b;

    return x->va == y->va && x->asid == y->asid && x->vmid == y->vmid &&
           x->level == y->level && x->gshift == y->gshift;
}

SimSmmu *sim_smmu_new(const uint32_t idr[6])
{
    SimSmmu *s = g_new0(SimSmmu, 1);

    g_mutex_init(&s->lock);
    memcpy(s->idr, idr, sizeof(s->idr));
    s->s2p = idr[0] & SIM_IDR0_S2P;
    s->s1p = idr[0] & SIM_IDR0_S1P;
    s->httu = SIM_FIELD_GET(SIM_IDR0_HTTU, idr[0]);
    s->asid16 = idr[0] & SIM_IDR0_ASID16;
    s->cd2l = idr[0] & SIM_IDR0_CD2L;
    s->ttendian = SIM_FIELD_GET(SIM_IDR0_TTENDIAN, idr[0]);
    s->stall_none = SIM_FIELD_GET(SIM_IDR0_STALL_MODEL, idr[0]) ==
                    SIM_IDR0_STALL_NONE;
    s->term_model = idr[0] & SIM_IDR0_TERM_MODEL;
    s->sidsize = SIM_FIELD_GET(SIM_IDR1_SIDSIZE, idr[1]);
    s->ssidsize = SIM_FIELD_GET(SIM_IDR1_SSIDSIZE, idr[1]);
    s->had = idr[3] & SIM_IDR3_HAD;
    s->stt = idr[3] & SIM_IDR3_STT;
    s->ril = idr[3] & SIM_IDR3_RIL;
    s->oas = oas_to_bits(SIM_FIELD_GET(SIM_IDR5_OAS, idr[5]));
    s->gran[12] = idr[5] & SIM_IDR5_GRAN4K;
    s->gran[14] = idr[5] & SIM_IDR5_GRAN16K;
    s->gran[16] = idr[5] & SIM_IDR5_GRAN64K;
    s->vax = SIM_FIELD_GET(SIM_IDR5_VAX, idr[5]) == 1;
    s->caching = true;
    s->atc_invs = g_hash_table_new(g_direct_hash, g_direct_equal);
    s->streams = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                       NULL, g_free);
    s->cds = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                   NULL, g_free);
    s->iotlb = g_hash_table_new_full(iotlb_hash, iotlb_equal, NULL, g_free);
    return s;
}

void sim_smmu_free(SimSmmu *smmu)
{
    if (!smmu) {
        return;
    }
    g_hash_table_destroy(smmu->iotlb);
    g_hash_table_destroy(smmu->cds);
    g_hash_table_destroy(smmu->streams);
    g_hash_table_destroy(smmu->atc_invs);
    g_mutex_clear(&smmu->lock);
    g_free(smmu);
}

/* ---- configuration cache invalidation ---- */

typedef struct CfgiMatch {
    uint64_t sid_first, sid_last;
    bool all_ssid;
    uint32_t ssid;
} CfgiMatch;

static gboolean cfgi_match(gpointer key, gpointer value, gpointer opaque)
{
    const SimCd *cd = value;
    const CfgiMatch *m = opaque;
    uint64_t cd_key = cd->key;  /* pSID << 32 | index */

    g_assert(key == &cd->key);
    uint64_t sid = cd_key >> 32;

    return sid >= m->sid_first && sid <= m->sid_last &&
           (m->all_ssid || (uint32_t)cd_key == m->ssid);
}

static void cfgi(SimSmmu *s, uint64_t first, uint64_t last, bool all_ssid,
                 uint32_t ssid)
{
    CfgiMatch m = { first, last, all_ssid, ssid };

    g_hash_table_foreach_remove(s->cds, cfgi_match, &m);
}

void sim_smmu_install_ste(SimSmmu *smmu, uint32_t psid,
                          const SimPhysSte *ste, const SimS2 *s2)
{
    SimStream *st = g_new0(SimStream, 1);

    st->ste = *ste;
    if (s2) {
        st->s2 = *s2;
    }
    g_mutex_lock(&smmu->lock);
    g_hash_table_replace(smmu->streams, GUINT_TO_POINTER(psid), st);
    cfgi(smmu, psid, psid, true, 0);
    g_mutex_unlock(&smmu->lock);
}

void sim_smmu_clear_ste(SimSmmu *smmu, uint32_t psid)
{
    g_mutex_lock(&smmu->lock);
    g_hash_table_remove(smmu->streams, GUINT_TO_POINTER(psid));
    cfgi(smmu, psid, psid, true, 0);
    g_mutex_unlock(&smmu->lock);
}

bool sim_smmu_get_ste(SimSmmu *smmu, uint32_t psid, SimPhysSte *ste)
{
    SimStream *st;

    g_mutex_lock(&smmu->lock);
    st = g_hash_table_lookup(smmu->streams, GUINT_TO_POINTER(psid));
    if (st && ste) {
        *ste = st->ste;
    }
    g_mutex_unlock(&smmu->lock);
    return st != NULL;
}

/* ---- events ---- */

static int evt_config(Xlate *x, unsigned id)
{
    uint64_t *e = x->out->event;

    memset(x->out->event, 0, sizeof(x->out->event));
    e[0] = SIM_FIELD_PREP(SIM_EVT0_ID, id) |
           SIM_FIELD_PREP(SIM_EVT0_SID, x->psid);
    if (x->ssv) {
        e[0] |= SIM_EVT0_SSV | SIM_FIELD_PREP(SIM_EVT0_SSID, x->ssid);
    }
    return -EFAULT;
}

/*
 * A translation fault record. Stage-1 faults have S2 = 0, CLASS = IN and no
 * IPA; stage-2 faults carry the IPA and the class of the access that
 * needed it (CD fetch, S1 table walk or the final output).
 */
static int evt_fault(Xlate *x, unsigned id, bool s2, unsigned cls,
                     uint64_t ipa)
{
    uint64_t *e = x->out->event;

    evt_config(x, id);
    e[1] = SIM_FIELD_PREP(SIM_EVT1_CLASS, cls);
    if (!(x->access & SIM_ACC_W)) {
        e[1] |= SIM_EVT1_RNW;
    }
    if (x->access & SIM_ACC_X) {
        e[1] |= SIM_EVT1_IND;
    }
    if (x->access & SIM_ACC_PRIV) {
        e[1] |= SIM_EVT1_PNU;
    }
    e[2] = x->iova;
    if (s2) {
        e[1] |= SIM_EVT1_S2;
        e[3] = ipa & SIM_EVT3_IPA;
        x->out->s2_fault = true;
    }
    return -EFAULT;
}

/* STE.S2R = 0 or CD.R = 0: the fault terminates the access unrecorded */
static int s2_fault(Xlate *x, unsigned id, unsigned cls, uint64_t ipa)
{
    if (!(x->st->ste.word[2] & SIM_STE2_S2R)) {
        return -EPERM;
    }
    return evt_fault(x, id, true, cls, ipa);
}

static int s1_fault(Xlate *x, const SimCd *cd, unsigned id)
{
    if (!cd->record) {
        return -EPERM;
    }
    return evt_fault(x, id, false, SIM_EVT_CLASS_IN, 0);
}

/* ---- memory access through stage 2 ---- */

static const uint64_t *s2_fetch(Xlate *x, uint64_t ipa, uint64_t len,
                                unsigned cls, int *ret)
{
    const SimS2 *s2 = &x->st->s2;
    void *p = NULL;

    if (s2->lookup) {
        p = s2->lookup(s2->opaque, ipa, len, false);
    }
    if (!p) {
        *ret = s2_fault(x, SIM_EVT_F_TRANSLATION, cls, ipa);
    }
    return p;
}

static uint64_t desc_load(const uint64_t *p, bool be)
{
    uint64_t v = __atomic_load_n(p, __ATOMIC_RELAXED);

    return be ? GUINT64_FROM_BE(v) : GUINT64_FROM_LE(v);
}

static void log_add(SimDescLog *log, const uint64_t *hva)
{
    log->hva[log->n] = hva;
    log->raw[log->n] = __atomic_load_n(hva, __ATOMIC_RELAXED);
    log->n++;
}

static bool log_changed(const SimDescLog *log)
{
    unsigned i;

    for (i = 0; i < log->n; i++) {
        if (__atomic_load_n(log->hva[i], __ATOMIC_RELAXED) != log->raw[i]) {
            return true;
        }
    }
    return false;
}

/*
 * Map [base, base + size) of stage 2, falling back to the 4K S2 page of
 * @ipa when the whole leaf is not one contiguous, equally writable range.
 */
typedef struct S2Map {
    uint8_t *hva;
    uint64_t off, len;
    bool writable;
} S2Map;

static bool s2_try(const SimS2 *s2, uint64_t base, uint64_t off,
                   uint64_t len, bool write, S2Map *m)
{
    void *p = s2->lookup(s2->opaque, base + off, len, write);

    if (!p) {
        return false;
    }
    m->hva = p;
    m->off = off;
    m->len = len;
    m->writable = write;
    return true;
}

static int s2_map(Xlate *x, uint64_t base, uint64_t size, uint64_t ipa,
                  S2Map *m)
{
    const SimS2 *s2 = &x->st->s2;
    uint64_t sub = (ipa & ~(SIM_S2_PAGE - 1)) - base;
    bool wr = x->access & SIM_ACC_W;

    if (!s2->lookup) {
        return s2_fault(x, SIM_EVT_F_TRANSLATION, SIM_EVT_CLASS_IN, ipa);
    }
    /* Prefer writable, then large: a read may be followed by writes */
    if (s2_try(s2, base, 0, size, true, m) ||
        (size > SIM_S2_PAGE &&
         s2_try(s2, base, sub, SIM_S2_PAGE, true, m)) ||
        s2_try(s2, base, 0, size, false, m) ||
        (size > SIM_S2_PAGE &&
         s2_try(s2, base, sub, SIM_S2_PAGE, false, m))) {
        if (wr && !m->writable) {
            return s2_fault(x, SIM_EVT_F_PERMISSION, SIM_EVT_CLASS_IN, ipa);
        }
        return 0;
    }
    return s2_fault(x, SIM_EVT_F_TRANSLATION, SIM_EVT_CLASS_IN, ipa);
}

static unsigned need_perm(unsigned access)
{
    unsigned need = access & (SIM_ACC_R | SIM_ACC_W | SIM_ACC_X);

    return need ? need : SIM_ACC_R;
}

/* Fill @out from an IOTLB entry; false if @va is outside what it maps. */
static bool entry_serve(const IotlbEntry *e, uint64_t va, unsigned access,
                        SimXlate *out)
{
    uint64_t off = va - e->key.va;
    unsigned perm = e->perm[!!(access & SIM_ACC_PRIV)];

    if (off < e->hva_off || off - e->hva_off >= e->hva_len ||
        (need_perm(access) & ~perm)) {
        return false;
    }
    out->ipa = e->ipa + off;
    out->hva = e->hva + (off - e->hva_off);
    out->len = e->hva_len - (off - e->hva_off);
    out->perm = perm;
    return true;
}

/* ---- stage 2 only (STE bypass/S2, S1DSS bypass) ---- */

static int xlate_s2_only(Xlate *x)
{
    uint64_t base = x->iova & ~(SIM_S2_PAGE - 1);
    S2Map m;
    int ret = s2_map(x, base, SIM_S2_PAGE, x->iova, &m);

    if (ret) {
        return ret;
    }
    x->out->ipa = x->iova;
    x->out->hva = m.hva + (x->iova - base - m.off);
    x->out->len = m.len - (x->iova - base - m.off);
    x->out->perm = SIM_ACC_R | SIM_ACC_X | (m.writable ? SIM_ACC_W : 0);
    return 0;
}

/* ---- context descriptors ---- */

static unsigned tg_to_shift(unsigned half, unsigned tg)
{
    if (half == 0) {
        return tg == SIM_TG0_4K ? 12 : tg == SIM_TG0_64K ? 16 :
               tg == SIM_TG0_16K ? 14 : 0;
    }
    return tg == SIM_TG1_4K ? 12 : tg == SIM_TG1_64K ? 16 :
           tg == SIM_TG1_16K ? 14 : 0;
}

/* The CD checks of the architecture's "ILLEGAL CD" list that we model */
static int cd_decode(Xlate *x, const uint64_t w[SIM_CD_WORDS], SimCd *cd)
{
    SimSmmu *s = x->smmu;
    uint64_t w0 = w[0];
    unsigned ips, i;

    if (!(w0 & SIM_CD0_V) || !(w0 & SIM_CD0_AA64) ||
        (!(w0 & SIM_CD0_A) && s->term_model) ||
        ((w0 & SIM_CD0_S) && s->stall_none) ||
        ((w0 & SIM_CD0_HA) && s->httu < 1) ||
        ((w0 & SIM_CD0_HD) && s->httu < 2) ||
        (!!(w0 & SIM_CD0_ENDI) != (s->ttendian == 3) && s->ttendian != 0)) {
        return evt_config(x, SIM_EVT_C_BAD_CD);
    }
    cd->asid = SIM_FIELD_GET(SIM_CD0_ASID, w0);
    /* ASID[15:8] are RES0 without ASID16: treated as a misprogrammed CD */
    if (!s->asid16 && cd->asid > 0xff) {
        return evt_config(x, SIM_EVT_C_BAD_CD);
    }
    ips = MIN(oas_to_bits(SIM_FIELD_GET(SIM_CD0_IPS, w0)), s->oas);
    cd->affd = w0 & SIM_CD0_AFFD;
    cd->ha = w0 & SIM_CD0_HA;
    cd->hd = w0 & SIM_CD0_HD;
    cd->wxn = w0 & SIM_CD0_WXN;
    cd->endi = w0 & SIM_CD0_ENDI;
    cd->record = w0 & SIM_CD0_R;
    for (i = 0; i < 2; i++) {
        SimTT *tt = &cd->tt[i];
        unsigned tsz, min, max, stride, levels, bits;
        uint64_t ttb_field = i ? SIM_CD2_TTB1 : SIM_CD1_TTB0;

        memset(tt, 0, sizeof(*tt));
        tt->tbi = w0 & (i ? SIM_CD0_TBI1 : SIM_CD0_TBI0);
        tt->disabled = w0 & (i ? SIM_CD0_EPD1 : SIM_CD0_EPD0);
        if (tt->disabled) {
            continue;
        }
        tt->gshift = tg_to_shift(i, SIM_FIELD_GET(i ? SIM_CD0_TG1 :
                                                  SIM_CD0_TG0, w0));
        if (!tt->gshift || !s->gran[tt->gshift]) {
            return evt_config(x, SIM_EVT_C_BAD_CD);
        }
        tsz = SIM_FIELD_GET(i ? SIM_CD0_T1SZ : SIM_CD0_T0SZ, w0);
        min = (tt->gshift == 16 && s->vax) ? 12 : 16;
        max = s->stt ? (tt->gshift == 16 ? 47 : 48) : 39;
        if (tsz < min || tsz > max) {
            return evt_config(x, SIM_EVT_C_BAD_CD);
        }
        /* Only a 64K granule can output more than 48 bits */
        tt->oas = tt->gshift == 16 ? ips : MIN(ips, 48u);
        tt->ttb = w[1 + i] & ttb_field;
        if (tt->ttb >> tt->oas) {
            return evt_config(x, SIM_EVT_C_BAD_CD);
        }
        tt->had = s->had && (w[1 + i] & (i ? SIM_CD2_HAD1 : SIM_CD1_HAD0));
        tt->inputsize = 64 - tsz;
        stride = tt->gshift - 3;
        levels = (tt->inputsize - tt->gshift + stride - 1) / stride;
        tt->start_level = 4 - levels;
        /* TTB bits below the start table's size are ignored */
        bits = tt->inputsize - (tt->gshift + (levels - 1) * stride) + 3;
        tt->ttb &= ~((1ULL << MAX(bits, 4u)) - 1);
    }
    return 0;
}

static int cd_fetch(Xlate *x, uint32_t idx, SimCd *cd)
{
    uint64_t ste0 = x->st->ste.word[0];
    uint64_t ctx = ste0 & SIM_STE0_S1CTXPTR;
    unsigned cdmax = SIM_FIELD_GET(SIM_STE0_S1CDMAX, ste0);
    unsigned fmt = SIM_FIELD_GET(SIM_STE0_S1FMT, ste0);
    uint64_t cd_ipa, w[SIM_CD_WORDS];
    const uint64_t *p;
    unsigned i;
    int ret;

    cd->log.n = 0;
    if (cdmax && fmt != SIM_STE_S1FMT_LINEAR) {
        /* 4K leaves hold 64 CDs, 64K leaves 1024 */
        unsigned split = fmt == SIM_STE_S1FMT_4K_L2 ? 6 : 10;
        uint64_t l1;

        p = s2_fetch(x, ctx + (uint64_t)(idx >> split) * 8, 8,
                     SIM_EVT_CLASS_CD, &ret);
        if (!p) {
            return ret;
        }
        log_add(&cd->log, p);
        l1 = GUINT64_FROM_LE(cd->log.raw[0]);
        if (!(l1 & SIM_L1CD_V)) {
            return evt_config(x, SIM_EVT_C_BAD_SUBSTREAMID);
        }
        cd_ipa = (l1 & SIM_L1CD_L2PTR) +
                 (uint64_t)(idx & ((1u << split) - 1)) * SIM_CD_BYTES;
    } else {
        cd_ipa = ctx + (uint64_t)idx * SIM_CD_BYTES;
    }
    p = s2_fetch(x, cd_ipa, SIM_CD_BYTES, SIM_EVT_CLASS_CD, &ret);
    if (!p) {
        return ret;
    }
    for (i = 0; i < SIM_CD_WORDS; i++) {
        log_add(&cd->log, p + i);
        w[i] = GUINT64_FROM_LE(cd->log.raw[cd->log.n - 1]);
    }
    return cd_decode(x, w, cd);
}

/* The CD for @idx, from the CD cache when it holds it. */
static const SimCd *cd_get(Xlate *x, uint32_t idx, SimCd *buf, int *ret)
{
    SimSmmu *s = x->smmu;
    uint64_t key = ((uint64_t)x->psid << 32) | idx;
    SimCd *cd;

    if (s->caching) {
        cd = g_hash_table_lookup(s->cds, &key);
        if (cd) {
            x->stale |= log_changed(&cd->log);
            return cd;
        }
    }
    memset(buf, 0, sizeof(*buf));
    buf->key = key;
    *ret = cd_fetch(x, idx, buf);
    if (*ret) {
        return NULL;
    }
    if (s->caching) {
        cd = g_new(SimCd, 1);
        *cd = *buf;
        g_hash_table_replace(s->cds, &cd->key, cd);
        return cd;
    }
    return buf;
}

/* ---- stage 1 ---- */

static bool block_ok(unsigned gshift, unsigned level)
{
    /* No 52-bit (LPA2/DS) tables: 4K blocks at L1/L2, 16K/64K at L2 */
    return level == 2 || (gshift == 12 && level == 1);
}

static uint64_t desc_oa(uint64_t desc, unsigned gshift, unsigned shift)
{
    uint64_t oa = desc & SIM_GENMASK(47, shift);

    if (gshift == 16) {
        oa |= SIM_FIELD_GET(SIM_PTE_OA_HI64K, desc) << 48;
    }
    return oa;
}

/* Hardware update of a descriptor (HA/HD): needs a writable stage 2. */
static int desc_update(Xlate *x, uint64_t ipa, const uint64_t **p,
                       uint64_t set, uint64_t clear, bool be)
{
    const SimS2 *s2 = &x->st->s2;
    uint64_t *w = s2->lookup(s2->opaque, ipa, 8, true);
    uint64_t s = be ? GUINT64_TO_BE(set) : GUINT64_TO_LE(set);
    uint64_t c = be ? GUINT64_TO_BE(clear) : GUINT64_TO_LE(clear);

    if (!w) {
        return s2_fault(x, SIM_EVT_F_PERMISSION, SIM_EVT_CLASS_TT, ipa);
    }
    if (s) {
        __atomic_fetch_or(w, s, __ATOMIC_RELAXED);
    }
    if (c) {
        __atomic_fetch_and(w, ~c, __ATOMIC_RELAXED);
    }
    *p = w;
    return 0;
}

static void leaf_perms(const SimCd *cd, uint64_t desc, bool no_el0,
                       bool ro, bool uxn_t, bool pxn_t, uint8_t perm[2])
{
    bool ap1 = desc & SIM_PTE_AP1, ap2 = desc & SIM_PTE_AP2;
    bool ur = ap1 && !no_el0;
    bool uw = ur && !ap2 && !ro;
    bool pw = !ap2 && !ro;
    /* EL0-writable memory is never privileged-executable */
    bool ux = !(desc & SIM_PTE_UXN) && !uxn_t && !(cd->wxn && uw);
    bool px = !(desc & SIM_PTE_PXN) && !pxn_t && !uw && !(cd->wxn && pw);

    perm[0] = (ur ? SIM_ACC_R : 0) | (uw ? SIM_ACC_W : 0) |
              (ux ? SIM_ACC_X : 0);
    perm[1] = SIM_ACC_R | (pw ? SIM_ACC_W : 0) | (px ? SIM_ACC_X : 0);
}

/*
 * Walk @tt for @va, logging every descriptor, and build @e. The S2
 * lookup of each table and of the output goes through s2_fetch/s2_map.
 */
static int s1_walk(Xlate *x, const SimCd *cd, const SimTT *tt, uint64_t va,
                   IotlbEntry *e)
{
    unsigned g = tt->gshift, stride = g - 3, level = tt->start_level;
    bool no_el0 = false, ro = false, uxn_t = false, pxn_t = false;
    uint64_t table = tt->ttb, desc = 0, oa, ipa;
    unsigned shift = 0;
    const uint64_t *p;
    S2Map m;
    int ret;

    for (;; level++) {
        unsigned bits;
        uint64_t dipa;

        shift = g + (3 - level) * stride;
        bits = level == tt->start_level ? tt->inputsize - shift : stride;
        dipa = table + ((va >> shift) & ((1ULL << bits) - 1)) * 8;
        p = s2_fetch(x, dipa, 8, SIM_EVT_CLASS_TT, &ret);
        if (!p) {
            return ret;
        }
        desc = desc_load(p, cd->endi);
        if (!(desc & SIM_PTE_VALID)) {
            return s1_fault(x, cd, SIM_EVT_F_TRANSLATION);
        }
        if (level < 3 && (desc & SIM_PTE_TABLE)) {
            log_add(&e->log, p);
            table = desc_oa(desc, g, g);
            if (table >> tt->oas) {
                return s1_fault(x, cd, SIM_EVT_F_ADDR_SIZE);
            }
            if (!tt->had) {
                no_el0 |= desc & SIM_PTE_APTABLE0;
                ro |= desc & SIM_PTE_APTABLE1;
                uxn_t |= desc & SIM_PTE_UXNTABLE;
                pxn_t |= desc & SIM_PTE_PXNTABLE;
            }
            continue;
        }
        if (level == 3 ? !(desc & SIM_PTE_TABLE) : !block_ok(g, level)) {
            return s1_fault(x, cd, SIM_EVT_F_TRANSLATION);
        }
        oa = desc_oa(desc, g, shift);
        if (oa >> tt->oas) {
            return s1_fault(x, cd, SIM_EVT_F_ADDR_SIZE);
        }
        if (!(desc & SIM_PTE_AF)) {
            if (cd->ha) {
                ret = desc_update(x, dipa, &p, SIM_PTE_AF, 0, cd->endi);
                if (ret) {
                    return ret;
                }
                desc |= SIM_PTE_AF;
            } else if (!cd->affd) {
                return s1_fault(x, cd, SIM_EVT_F_ACCESS);
            }
        }
        /* Dirty-bit management: a write to writable-clean makes it dirty */
        if (cd->hd && (desc & SIM_PTE_DBM) && (desc & SIM_PTE_AP2) && !ro &&
            (x->access & SIM_ACC_W)) {
            ret = desc_update(x, dipa, &p, 0, SIM_PTE_AP2, cd->endi);
            if (ret) {
                return ret;
            }
            desc &= ~SIM_PTE_AP2;
        }
        log_add(&e->log, p);
        break;
    }
    leaf_perms(cd, desc, no_el0, ro, uxn_t, pxn_t, e->perm);
    if (need_perm(x->access) & ~e->perm[!!(x->access & SIM_ACC_PRIV)]) {
        return s1_fault(x, cd, SIM_EVT_F_PERMISSION);
    }
    e->size = 1ULL << shift;
    e->key.va = va & ~(e->size - 1);
    e->key.level = level;
    e->key.gshift = g;
    e->key.asid = (desc & SIM_PTE_NG) ? cd->asid : SIM_ASID_GLOBAL;
    e->ipa = oa;
    ipa = oa + (va - e->key.va);
    ret = s2_map(x, oa, e->size, ipa, &m);
    if (ret) {
        return ret;
    }
    e->hva = m.hva;
    e->hva_off = m.off;
    e->hva_len = m.len;
    if (!m.writable) {
        e->perm[0] &= ~SIM_ACC_W;
        e->perm[1] &= ~SIM_ACC_W;
    }
    return 0;
}

/* Top byte as a TBI-enabled half compares it: a copy of bit 55 */
static uint64_t va_normalise(uint64_t va)
{
    return (va & SIM_GENMASK(55, 0)) |
           ((va & SIM_BIT(55)) ? SIM_GENMASK(63, 56) : 0);
}

static IotlbEntry *iotlb_find(SimSmmu *s, uint16_t vmid, uint16_t asid,
                              const SimTT *tt, uint64_t va)
{
    unsigned stride = tt->gshift - 3, level;
    IotlbKey k = { .vmid = vmid, .gshift = tt->gshift };

    for (level = 3; level >= MAX(tt->start_level, 1u); level--) {
        IotlbEntry *e;

        if (level < 3 && !block_ok(tt->gshift, level)) {
            continue;
        }
        k.level = level;
        k.va = va & ~((1ULL << (tt->gshift + (3 - level) * stride)) - 1);
        k.asid = asid;
        e = g_hash_table_lookup(s->iotlb, &k);
        if (e) {
            return e;
        }
        k.asid = SIM_ASID_GLOBAL;
        e = g_hash_table_lookup(s->iotlb, &k);
        if (e) {
            return e;
        }
    }
    return NULL;
}

static int xlate_s1(Xlate *x, const SimCd *cd, uint16_t vmid)
{
    SimSmmu *s = x->smmu;
    uint64_t va = x->iova;
    unsigned sel = !!(va & SIM_BIT(55));
    const SimTT *tt = &cd->tt[sel];
    unsigned top = tt->tbi ? 55 : 63;
    uint64_t upper, want;
    IotlbEntry *e, walk;
    int ret;

    if (tt->disabled) {
        return s1_fault(x, cd, SIM_EVT_F_TRANSLATION);
    }
    /* Bits [top:inputsize] must all equal the half's select bit */
    upper = va & SIM_GENMASK(top, tt->inputsize);
    want = sel ? SIM_GENMASK(top, tt->inputsize) : 0;
    if (upper != want) {
        return s1_fault(x, cd, SIM_EVT_F_TRANSLATION);
    }
    if (tt->tbi) {
        va = va_normalise(va);
    }
    if (s->caching) {
        e = iotlb_find(s, vmid, cd->asid, tt, va);
        if (e && entry_serve(e, va, x->access, x->out)) {
            x->out->iotlb_hit = true;
            x->stale |= log_changed(&e->log);
            s->stats.iotlb_hits++;
            return 0;
        }
        s->stats.iotlb_misses++;
    }
    s->stats.walks++;
    memset(&walk, 0, sizeof(walk));
    walk.key.vmid = vmid;
    walk.log = cd->log;
    ret = s1_walk(x, cd, tt, va, &walk);
    if (ret) {
        return ret;
    }
    entry_serve(&walk, va, x->access, x->out);
    if (s->caching) {
        if (g_hash_table_size(s->iotlb) >= SIM_IOTLB_MAX) {
            g_hash_table_remove_all(s->iotlb);
        }
        e = g_new(IotlbEntry, 1);
        *e = walk;
        g_hash_table_replace(s->iotlb, &e->key, e);
    }
    return 0;
}

static int xlate(Xlate *x)
{
    SimSmmu *s = x->smmu;
    uint64_t ste0, ste1;
    unsigned cfg, cdmax, fmt, dss;
    uint32_t idx = 0;
    uint16_t vmid;
    const SimCd *cd;
    SimCd buf;
    int ret = 0;

    if (s->sidsize < 32 && (x->psid >> s->sidsize)) {
        return evt_config(x, SIM_EVT_C_BAD_STREAMID);
    }
    x->st = g_hash_table_lookup(s->streams, GUINT_TO_POINTER(x->psid));
    if (!x->st || !(x->st->ste.word[0] & SIM_STE0_V)) {
        return evt_config(x, SIM_EVT_C_BAD_STE);
    }
    ste0 = x->st->ste.word[0];
    ste1 = x->st->ste.word[1];
    cfg = SIM_FIELD_GET(SIM_STE0_CFG, ste0);
    if (cfg == SIM_STE_CFG_ABORT) {
        return -EPERM;
    }
    if (cfg < SIM_STE_CFG_BYPASS ||
        ((cfg & 1) && !s->s1p) || ((cfg & 2) && !s->s2p) ||
        ((cfg & 2) && !(x->st->ste.word[2] & SIM_STE2_S2AA64))) {
        return evt_config(x, SIM_EVT_C_BAD_STE);
    }
    vmid = (cfg & 2) ? SIM_FIELD_GET(SIM_STE2_S2VMID, x->st->ste.word[2]) : 0;
    if (!(cfg & 1)) {
        /* No stage 1, so no substreams */
        if (x->ssv) {
            return evt_config(x, SIM_EVT_C_BAD_SUBSTREAMID);
        }
        return xlate_s2_only(x);
    }
    cdmax = SIM_FIELD_GET(SIM_STE0_S1CDMAX, ste0);
    fmt = SIM_FIELD_GET(SIM_STE0_S1FMT, ste0);
    dss = SIM_FIELD_GET(SIM_STE1_S1DSS, ste1);
    if (cdmax && (cdmax > s->ssidsize || fmt == 3 ||
                  (fmt != SIM_STE_S1FMT_LINEAR && !s->cd2l) || dss == 3)) {
        return evt_config(x, SIM_EVT_C_BAD_STE);
    }
    if (x->ssv) {
        if (!cdmax || (x->ssid >> cdmax) ||
            (dss == SIM_STE_S1DSS_SSID0 && x->ssid == 0)) {
            return evt_config(x, SIM_EVT_C_BAD_SUBSTREAMID);
        }
        idx = x->ssid;
    } else if (cdmax) {
        if (dss == SIM_STE_S1DSS_TERMINATE) {
            return evt_config(x, SIM_EVT_F_STREAM_DISABLED);
        }
        if (dss == SIM_STE_S1DSS_BYPASS) {
            return xlate_s2_only(x);
        }
    }
    cd = cd_get(x, idx, &buf, &ret);
    if (!cd) {
        return ret;
    }
    return xlate_s1(x, cd, vmid);
}

int sim_smmu_translate(SimSmmu *smmu, uint32_t psid, bool ssv, uint32_t ssid,
                       uint64_t iova, unsigned access, SimXlate *out)
{
    Xlate x = {
        .smmu = smmu, .psid = psid, .ssv = ssv, .ssid = ssid,
        .iova = iova, .access = access, .out = out,
    };
    int ret;

    memset(out, 0, sizeof(*out));
    g_mutex_lock(&smmu->lock);
    smmu->stats.translations++;
    ret = xlate(&x);
    if (ret == -EFAULT) {
        smmu->stats.faults++;
    }
    if (x.stale) {
        out->stale = true;
        smmu->stats.stale_hits++;
    }
    g_mutex_unlock(&smmu->lock);
    return ret;
}

/* ---- commands ---- */

typedef struct TlbiMatch {
    bool any_vmid;
    uint16_t vmid;
    bool any_asid;
    uint32_t asid;          /* non-global entries of this ASID */
    bool keep_global;       /* TLBI_NH_ASID leaves global entries */
    bool by_va, by_ipa;
    uint64_t first, last;   /* inclusive */
    unsigned ttl;           /* 0: any level */
} TlbiMatch;

static gboolean tlbi_match(gpointer key, gpointer value, gpointer opaque)
{
    const IotlbKey *k = key;
    const IotlbEntry *e = value;
    const TlbiMatch *m = opaque;
    uint64_t base;

    if (!m->any_vmid && k->vmid != m->vmid) {
        return false;
    }
    if (k->asid == SIM_ASID_GLOBAL) {
        if (m->keep_global) {
            return false;
        }
    } else if (!m->any_asid && k->asid != m->asid) {
        return false;
    }
    if (m->ttl && k->level != m->ttl) {
        return false;
    }
    if (!m->by_va && !m->by_ipa) {
        return true;
    }
    base = m->by_ipa ? e->ipa : k->va;
    return base <= m->last && base + (e->size - 1) >= m->first;
}

/*
 * The address range of a TLBI by VA/IPA. With RIL and TG != 0 it is
 * (NUM + 1) << SCALE granules and TTL names the leaf level; otherwise it
 * is the translation containing the address.
 */
static void tlbi_range(SimSmmu *s, const uint64_t cmd[2], uint64_t addr,
                       TlbiMatch *m)
{
    unsigned tg = SIM_FIELD_GET(SIM_CMD1_TLBI_TG, cmd[1]);
    uint64_t num, len;
    unsigned shift;

    m->first = addr;
    m->last = addr;
    if (!s->ril || !tg) {
        return;
    }
    num = SIM_FIELD_GET(SIM_CMD0_TLBI_NUM, cmd[0]) + 1;
    shift = SIM_FIELD_GET(SIM_CMD0_TLBI_SCALE, cmd[0]) + 10 + 2 * tg;
    len = num << shift;         /* at most 32 << 47 */
    m->last = addr + len - 1 >= addr ? addr + len - 1 : ~0ULL;
    m->ttl = SIM_FIELD_GET(SIM_CMD1_TLBI_TTL, cmd[1]);
}

static void tlbi(SimSmmu *s, const TlbiMatch *m)
{
    g_hash_table_foreach_remove(s->iotlb, tlbi_match, (gpointer)m);
}

int sim_smmu_exec(SimSmmu *smmu, const uint64_t cmd[2])
{
    unsigned op = SIM_FIELD_GET(SIM_CMD0_OP, cmd[0]);
    uint64_t sid = SIM_FIELD_GET(SIM_CMD0_SID, cmd[0]);
    uint32_t ssid = SIM_FIELD_GET(SIM_CMD0_SSID, cmd[0]);
    TlbiMatch m = {
        .vmid = SIM_FIELD_GET(SIM_CMD0_TLBI_VMID, cmd[0]),
        .asid = SIM_FIELD_GET(SIM_CMD0_TLBI_ASID, cmd[0]),
    };
    unsigned range;

    g_mutex_lock(&smmu->lock);
    switch (op) {
    case SIM_CMD_CFGI_STE:
    case SIM_CMD_CFGI_CD_ALL:
        cfgi(smmu, sid, sid, true, 0);
        break;
    case SIM_CMD_CFGI_STE_RANGE:
        range = SIM_FIELD_GET(SIM_CMD1_RANGE, cmd[1]);
        sid &= ~((2ULL << range) - 1);
        cfgi(smmu, sid, sid + (2ULL << range) - 1, true, 0);
        break;
    case SIM_CMD_CFGI_CD:
        cfgi(smmu, sid, sid, false, ssid);
        break;
    case SIM_CMD_TLBI_NH_ALL:
    case SIM_CMD_TLBI_S12_VMALL:
        m.any_asid = true;
        tlbi(smmu, &m);
        break;
    case SIM_CMD_TLBI_NH_ASID:
        m.keep_global = true;
        tlbi(smmu, &m);
        break;
    case SIM_CMD_TLBI_NH_VA:
    case SIM_CMD_TLBI_NH_VAA:
        m.any_asid = op == SIM_CMD_TLBI_NH_VAA;
        m.by_va = true;
        /* Entries hold TBI-normalised VAs; a valid VA is unchanged by it */
        tlbi_range(smmu, cmd, va_normalise(cmd[1] & SIM_CMD1_TLBI_VA), &m);
        tlbi(smmu, &m);
        break;
    case SIM_CMD_TLBI_S2_IPA:
        m.any_asid = true;
        m.by_ipa = true;
        tlbi_range(smmu, cmd, cmd[1] & SIM_CMD1_TLBI_IPA, &m);
        tlbi(smmu, &m);
        break;
    case SIM_CMD_TLBI_NSNH_ALL:
        g_hash_table_remove_all(smmu->iotlb);
        break;
    case SIM_CMD_PREFETCH_CFG:
    case SIM_CMD_PREFETCH_ADDR:
    case SIM_CMD_TLBI_EL2_ALL:      /* no EL2 regime entries are cached */
    case SIM_CMD_TLBI_EL2_ASID:
    case SIM_CMD_TLBI_EL2_VA:
        break;
    case SIM_CMD_ATC_INV: {         /* no ATC is modelled: only counted */
        gpointer key = GUINT_TO_POINTER(sid);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(smmu->atc_invs, key));

        g_hash_table_insert(smmu->atc_invs, key, GUINT_TO_POINTER(n + 1));
        break;
    }
    case SIM_CMD_PRI_RESP:
    case SIM_CMD_RESUME:
    case SIM_CMD_STALL_TERM:
    case SIM_CMD_SYNC:              /* commands complete in order */
        break;
    default:
        g_mutex_unlock(&smmu->lock);
        return -EINVAL;
    }
    smmu->stats.cmds[op]++;
    g_mutex_unlock(&smmu->lock);
    return 0;
}

unsigned sim_smmu_atc_invs(SimSmmu *smmu, uint32_t psid)
{
    unsigned n;

    g_mutex_lock(&smmu->lock);
    n = GPOINTER_TO_UINT(g_hash_table_lookup(smmu->atc_invs,
                                             GUINT_TO_POINTER(psid)));
    g_mutex_unlock(&smmu->lock);
    return n;
}

void sim_smmu_get_stats(SimSmmu *smmu, SimSmmuStats *out)
{
    g_mutex_lock(&smmu->lock);
    *out = smmu->stats;
    g_mutex_unlock(&smmu->lock);
}

unsigned sim_smmu_iotlb_size(SimSmmu *smmu)
{
    unsigned n;

    g_mutex_lock(&smmu->lock);
    n = g_hash_table_size(smmu->iotlb);
    g_mutex_unlock(&smmu->lock);
    return n;
}

unsigned sim_smmu_cd_cache_size(SimSmmu *smmu)
{
    unsigned n;

    g_mutex_lock(&smmu->lock);
    n = g_hash_table_size(smmu->cds);
    g_mutex_unlock(&smmu->lock);
    return n;
}

void sim_smmu_set_caching(SimSmmu *smmu, bool enabled)
{
    g_mutex_lock(&smmu->lock);
    smmu->caching = enabled;
    g_hash_table_remove_all(smmu->iotlb);
    g_hash_table_remove_all(smmu->cds);
    g_mutex_unlock(&smmu->lock);
}
