/* census_je.c - build a known jemalloc heap state and record it as truth.
 *
 * Usage: LD_PRELOAD=/path/to/libjemalloc.so.2 census_je TRUTH.json wait|segv
 *
 * Three threads (main + 2 workers) run one after another (semaphores).
 * Each allocates jemalloc small, large and huge size classes in its own
 * arena (jemalloc gives every new thread the least used arena: main 0,
 * workers 1 and 2; requests >= opt.oversize_threshold go to the shared huge
 * arena), then frees some of them so that a freed region ends up in a known
 * place:
 *
 *   tcache  still in the freeing thread's tcache bin (cache_bin stack)
 *   slab    returned to its slab: free bit in the slab bitmap
 *   extent  large/huge: the extent went back to its arena (dirty/retained)
 *
 * The placement is predicted with a model of jemalloc's tcache (a stack of
 * ncached_max entries per size class; freeing into a full bin first flushes
 * the oldest ncached_max - (ncached_max >> 1) entries to their slabs) and
 * explicit "thread.tcache.flush" calls between the phases, so tcache GC has
 * nothing to take (a GC pass only flushes entries that sat below the bin's
 * low-water mark since the previous pass of that bin).  The prediction is
 * then checked against jemalloc's own statistics (curregs / curlextents /
 * tcache_bytes of the worker arenas, which hold only tracked regions) and
 * the result is part of the truth ("stats_checks").
 *
 * No jemalloc headers are needed: mallctl is found with dlsym.  As in
 * census.c no heap address is stored raw except the live regions'
 * (g_keep[], static roots); the truth keeps addresses XOR-encoded, and dead
 * stack is wiped, so a pointer scan of the core finds freed regions only
 * where jemalloc itself keeps them (tcache stacks).
 *
 * After setup the truth is written to argv[1], "READY" is printed, then
 *   wait : every thread blocks in pause() (for gcore)
 *   segv : the main thread writes through NULL in census_crash()
 */
#define _GNU_SOURCE
#include "truth.h"

#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

int main(int argc, char **argv);

#define NTHREADS 3
#define ADDR_KEY 0x5a5aa5a55a5aa5a5ULL
#define MAX_RECS 1024
#define MAX_SZ 256        /* size class indices we model (bins + lextents) */
#define MAX_NCACHED 512   /* largest ncached_max the model handles */
#define MIB (1024UL * 1024)

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
static mallctl_fn je_mallctl;

enum cls {
    C_S8, C_S16, C_S48, C_S112, C_S320, C_K1, C_K5, C_S14K,
    C_L20K, C_L40K, C_L100K, C_HUGE, C_OVER32, NCLS
};
enum kind { K_SMALL, K_LARGE, K_HUGE };
static const char *const kind_names[] = {"small", "large", "huge"};

struct cls_info {
    const char *name;
    size_t request;
    unsigned char fill;
    const char *tag;
    int count;          /* per thread */
    int only_thread;    /* -1: every thread */
};

static const struct cls_info classes[NCLS] = {
    [C_S8]     = {"s8",     8,        0xc1, "s8-",       16, -1},
    [C_S16]    = {"s16",    16,       0xc2, "je-s16-",   16, -1},
    [C_S48]    = {"s48",    48,       0xc3, "je-s48-",   16, -1},
    [C_S112]   = {"s112",   100,      0xc4, "je-s112-",  12, -1},
    [C_S320]   = {"s320",   320,      0xc5, "je-s320-",  12, -1},
    [C_K1]     = {"k1",     1000,     0xc6, "je-k1-",    12, -1},
    [C_K5]     = {"k5",     5000,     0xc7, "je-k5-",    8,  -1},
    [C_S14K]   = {"s14k",   14336,    0xc8, "je-s14k-",  6,  -1},
    [C_L20K]   = {"l20k",   20000,    0xc9, "je-l20k-",  6,  -1},
    [C_L40K]   = {"l40k",   40000,    0xca, "je-l40k-",  4,  -1},
    [C_L100K]  = {"l100k",  100000,   0xcb, "je-l100k-", 3,  -1},
    [C_HUGE]   = {"huge",   8 * MIB,  0xcc, "je-huge-",  2,  -1},
    [C_OVER32] = {"over32", 32,       0xcd, "je-over-",  400, 1},
};

enum state { ST_LIVE, ST_FREE };
enum where { W_NONE, W_TCACHE, W_SLAB, W_EXTENT };
static const char *const where_names[] = {NULL, "tcache", "slab", "extent"};

struct rec {
    uint64_t enc;       /* address ^ ADDR_KEY */
    int cls, thread, index;
    size_t usable;
    int szind, arena;
    int state, where, free_seq;
};

static struct rec g_rec[MAX_RECS];
static int g_nrec;
static int g_free_seq;
static void *g_keep[MAX_RECS]; /* live regions: static roots */

/* jemalloc facts read through mallctl (model input and truth) */
struct je_info {
    const char *version;
    unsigned nbins, nlextents, narenas;
    size_t page, quantum, tcache_max;
    int64_t opt_narenas, opt_tcache, opt_tcache_max, opt_lg_tcache_max;
    int64_t opt_oversize_threshold, opt_retain, opt_dirty_decay_ms;
    int64_t opt_nslots_small_min, opt_nslots_small_max, opt_nslots_large;
    int64_t opt_lg_nslots_mul, opt_lg_flush_small_div, opt_lg_flush_large_div;
    /* effective model parameters */
    int nslots_small_min, nslots_small_max, nslots_large, lg_nslots_mul;
    int lg_flush_small_div, lg_flush_large_div;
    size_t bin_size[MAX_SZ];
    uint32_t bin_nregs[MAX_SZ];
    size_t bin_slab_size[MAX_SZ];
    int ncached_max[MAX_SZ];
    int huge_arena;
    int64_t stats_allocated;
};
static struct je_info g_je;

/* per-class facts */
struct cls_run {
    size_t size_class;
    int szind;
    int kind;
};
static struct cls_run g_cls[NCLS];

/* model of one thread's tcache: per szind, record ids, [0] = oldest */
struct tbin {
    int n;
    int items[MAX_NCACHED];
};
struct thread_info {
    pid_t tid;
    char name[32];
    int arena;
    const char *blocked_in;
    struct tbin *tc; /* MAX_SZ bins, static storage below */
};
static struct thread_info g_threads[NTHREADS];
static struct tbin g_tbins[NTHREADS][64];
static int g_tbin_szind[NTHREADS][64];
static int g_ntbins[NTHREADS];

static sem_t g_go[NTHREADS], g_done[NTHREADS];

static void check(int ok, const char *what)
{
    if (!ok)
        truth_die(what);
}

/* ---- mallctl helpers (no jemalloc headers) ---------------------------- */

/* Read a numeric mallctl whatever its width (bool, unsigned, size_t ...).
 * Returns 0 and sets *out on success. */
static int je_num(const char *name, int64_t *out)
{
    static const size_t widths[] = {8, 4, 1};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        unsigned char buf[8] = {0};
        size_t sz = widths[i];
        int rc = je_mallctl(name, buf, &sz, NULL, 0);
        if (rc == 0 && sz == widths[i]) {
            if (sz == 8) {
                int64_t v;
                memcpy(&v, buf, 8);
                *out = v;
            } else if (sz == 4) {
                int32_t v;
                memcpy(&v, buf, 4);
                *out = v;
            } else {
                *out = buf[0];
            }
            return 0;
        }
        if (rc != EINVAL)
            return rc;
    }
    return EINVAL;
}

static int64_t je_num_or(const char *name, int64_t dflt)
{
    int64_t v;
    return je_num(name, &v) == 0 ? v : dflt;
}

static int64_t je_numf(int64_t dflt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int64_t je_numf(int64_t dflt, const char *fmt, ...)
{
    char name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return je_num_or(name, dflt);
}

static void je_flush_tcache(void)
{
    check(je_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0,
          "mallctl thread.tcache.flush");
}

static int je_lookup_arena(void *p)
{
    unsigned a = 0;
    size_t sz = sizeof a;
    if (je_mallctl("arenas.lookup", &a, &sz, &p, sizeof p) != 0)
        return -1;
    return (int)a;
}

static int je_thread_arena(void)
{
    unsigned a = 0;
    size_t sz = sizeof a;
    check(je_mallctl("thread.arena", &a, &sz, NULL, 0) == 0, "mallctl thread.arena");
    return (int)a;
}

static void je_epoch(void)
{
    uint64_t e = 1;
    size_t sz = sizeof e;
    check(je_mallctl("epoch", &e, &sz, &e, sizeof e) == 0, "mallctl epoch");
}

static int even_up(int v) { return v % 2 ? v + 1 : v; }

/* tcache slots per size class: jemalloc 5.x tcache_boot().  5.3 reads the
 * opt.tcache_nslots_* options; 5.2 has the same rule with the constants
 * 20 / 200 / 20 and multiplier 2. */
static int ncached_max_of(int szind)
{
    if (szind >= (int)g_je.nbins)
        return g_je.nslots_large;
    int cand = g_je.lg_nslots_mul >= 0 ? (int)g_je.bin_nregs[szind] << g_je.lg_nslots_mul
                                       : (int)g_je.bin_nregs[szind] >> -g_je.lg_nslots_mul;
    cand = even_up(cand);
    int lo = even_up(g_je.nslots_small_min);
    int hi = g_je.nslots_small_max % 2 ? g_je.nslots_small_max - 1 : g_je.nslots_small_max;
    if (cand <= lo)
        return lo;
    if (cand <= hi)
        return cand;
    return hi;
}

static void je_read_info(void)
{
    size_t sz = sizeof g_je.version;
    check(je_mallctl("version", &g_je.version, &sz, NULL, 0) == 0, "mallctl version");
    g_je.nbins = (unsigned)je_num_or("arenas.nbins", 0);
    g_je.nlextents = (unsigned)je_num_or("arenas.nlextents", 0);
    g_je.narenas = (unsigned)je_num_or("arenas.narenas", 0);
    g_je.page = (size_t)je_num_or("arenas.page", 0);
    g_je.quantum = (size_t)je_num_or("arenas.quantum", 0);
    g_je.tcache_max = (size_t)je_num_or("arenas.tcache_max", 0);
    check(g_je.nbins > 0 && g_je.nbins + g_je.nlextents <= MAX_SZ, "arenas.nbins");
    g_je.opt_narenas = je_num_or("opt.narenas", -1);
    g_je.opt_tcache = je_num_or("opt.tcache", -1);
    g_je.opt_tcache_max = je_num_or("opt.tcache_max", -1);
    g_je.opt_lg_tcache_max = je_num_or("opt.lg_tcache_max", -1000);
    g_je.opt_oversize_threshold = je_num_or("opt.oversize_threshold", -1);
    g_je.opt_retain = je_num_or("opt.retain", -1);
    g_je.opt_dirty_decay_ms = je_num_or("opt.dirty_decay_ms", -1000);
    g_je.opt_nslots_small_min = je_num_or("opt.tcache_nslots_small_min", -1);
    g_je.opt_nslots_small_max = je_num_or("opt.tcache_nslots_small_max", -1);
    g_je.opt_nslots_large = je_num_or("opt.tcache_nslots_large", -1);
    g_je.opt_lg_nslots_mul = je_num_or("opt.lg_tcache_nslots_mul", -1000);
    g_je.opt_lg_flush_small_div = je_num_or("opt.lg_tcache_flush_small_div", -1);
    g_je.opt_lg_flush_large_div = je_num_or("opt.lg_tcache_flush_large_div", -1);

    g_je.nslots_small_min = g_je.opt_nslots_small_min > 0 ? (int)g_je.opt_nslots_small_min : 20;
    g_je.nslots_small_max = g_je.opt_nslots_small_max > 0 ? (int)g_je.opt_nslots_small_max : 200;
    g_je.nslots_large = g_je.opt_nslots_large > 0 ? (int)g_je.opt_nslots_large : 20;
    g_je.lg_nslots_mul = g_je.opt_lg_nslots_mul > -1000 ? (int)g_je.opt_lg_nslots_mul : 1;
    g_je.lg_flush_small_div = g_je.opt_lg_flush_small_div >= 0 ? (int)g_je.opt_lg_flush_small_div : 1;
    g_je.lg_flush_large_div = g_je.opt_lg_flush_large_div >= 0 ? (int)g_je.opt_lg_flush_large_div : 1;

    for (unsigned j = 0; j < g_je.nbins; j++) {
        g_je.bin_size[j] = (size_t)je_numf(0, "arenas.bin.%u.size", j);
        g_je.bin_nregs[j] = (uint32_t)je_numf(0, "arenas.bin.%u.nregs", j);
        g_je.bin_slab_size[j] = (size_t)je_numf(0, "arenas.bin.%u.slab_size", j);
    }
    for (unsigned k = 0; k < g_je.nlextents; k++)
        g_je.bin_size[g_je.nbins + k] = (size_t)je_numf(0, "arenas.lextent.%u.size", k);
    for (unsigned i = 0; i < g_je.nbins + g_je.nlextents; i++)
        g_je.ncached_max[i] = ncached_max_of((int)i);
    g_je.huge_arena = -1;
}

static int szind_of(size_t usable)
{
    for (unsigned i = 0; i < g_je.nbins + g_je.nlextents; i++)
        if (g_je.bin_size[i] == usable)
            return (int)i;
    return -1;
}

static int tcacheable(int szind)
{
    return szind >= 0 && g_je.opt_tcache != 0 && g_je.bin_size[szind] <= g_je.tcache_max;
}

/* ---- allocation bookkeeping ------------------------------------------- */

static void fill_region(void *p, int cls, int thread, int index)
{
    const struct cls_info *ci = &classes[cls];
    memset(p, ci->fill, ci->request);
    char tag[48];
    int n = snprintf(tag, sizeof tag, "%s%d", ci->tag, thread * 1000 + index);
    check(n > 0 && (size_t)n + 1 <= ci->request, "tag longer than the request");
    memcpy(p, tag, (size_t)n + 1);
}

static int track_alloc(int cls, int thread, int index)
{
    check(g_nrec < MAX_RECS, "too many records");
    void *p = malloc(classes[cls].request);
    check(p != NULL, "malloc failed");
    fill_region(p, cls, thread, index);
    int r = g_nrec++;
    struct rec *rc = &g_rec[r];
    rc->enc = (uint64_t)(uintptr_t)p ^ ADDR_KEY;
    rc->cls = cls;
    rc->thread = thread;
    rc->index = index;
    rc->usable = malloc_usable_size(p);
    rc->szind = szind_of(rc->usable);
    rc->arena = je_lookup_arena(p);
    rc->state = ST_LIVE;
    rc->where = W_NONE;
    rc->free_seq = -1;
    g_keep[r] = p;
    p = NULL;
    return r;
}

static struct tbin *tbin_of(int t, int szind)
{
    for (int i = 0; i < g_ntbins[t]; i++)
        if (g_tbin_szind[t][i] == szind)
            return &g_tbins[t][i];
    check(g_ntbins[t] < 64, "too many tcache bins in the model");
    g_tbin_szind[t][g_ntbins[t]] = szind;
    return &g_tbins[t][g_ntbins[t]++];
}

/* the model's view of a flush of the oldest n entries */
static void model_flush_oldest(struct tbin *b, int n)
{
    for (int i = 0; i < n; i++) {
        struct rec *rc = &g_rec[b->items[i]];
        rc->where = rc->szind < (int)g_je.nbins ? W_SLAB : W_EXTENT;
    }
    memmove(b->items, b->items + n, (size_t)(b->n - n) * sizeof b->items[0]);
    b->n -= n;
}

static void model_flush_all(int t)
{
    for (int i = 0; i < g_ntbins[t]; i++)
        model_flush_oldest(&g_tbins[t][i], g_tbins[t][i].n);
}

static void track_free(int r)
{
    struct rec *rc = &g_rec[r];
    void *p = g_keep[r];
    check(p != NULL && rc->state == ST_LIVE, "bad free");
    int t = rc->thread;
    if (tcacheable(rc->szind)) {
        struct tbin *b = tbin_of(t, rc->szind);
        int max = g_je.ncached_max[rc->szind];
        check(max <= MAX_NCACHED, "ncached_max too large for the model");
        if (b->n == max) {
            int div = rc->szind < (int)g_je.nbins ? g_je.lg_flush_small_div
                                                   : g_je.lg_flush_large_div;
            model_flush_oldest(b, b->n - (max >> div));
        }
        b->items[b->n++] = r;
        rc->where = W_TCACHE;
    } else {
        rc->where = W_EXTENT;
    }
    rc->state = ST_FREE;
    rc->free_seq = g_free_seq++;
    g_keep[r] = NULL;
    free(p);
    p = NULL;
}

static void explicit_flush(int t)
{
    je_flush_tcache();
    model_flush_all(t);
}

/* ---- per-thread heap construction -------------------------------------- */

static int g_first[NTHREADS][NCLS];

static __attribute__((noinline)) void build_heap(int t)
{
    for (int c = 0; c < NCLS; c++) {
        g_first[t][c] = -1;
        if (classes[c].only_thread >= 0 && classes[c].only_thread != t)
            continue;
        for (int i = 0; i < classes[c].count; i++) {
            int r = track_alloc(c, t, i);
            if (i == 0)
                g_first[t][c] = r;
        }
    }
    g_threads[t].arena = je_thread_arena();

    /* start from an empty tcache: drop what tcache fills prefetched */
    explicit_flush(t);

    /* phase S: odd indices 1,3,5 of every class except over32; they pass
     * through the tcache (or not) and end in their slab / extent */
    for (int c = 0; c < NCLS; c++) {
        if (c == C_OVER32 || g_first[t][c] < 0)
            continue;
        for (int i = 1; i < 6 && i < classes[c].count; i += 2)
            track_free(g_first[t][c] + i);
    }
    explicit_flush(t);

    /* phase O (worker 1): 300 frees of one class into a tcache bin that
     * holds fewer: the overflow flushes the oldest ones to the slab; every
     * 4th region stays live so no slab becomes empty */
    if (g_first[t][C_OVER32] >= 0)
        for (int i = 0; i < classes[C_OVER32].count; i++)
            if (i % 4 != 0)
                track_free(g_first[t][C_OVER32] + i);

    /* phase C: indices 2 and 4 stay in the tcache (small, l20k), large
     * ones above tcache_max go back to their arena */
    for (int c = 0; c < NCLS; c++) {
        if (c == C_OVER32 || c == C_HUGE || g_first[t][c] < 0)
            continue;
        for (int i = 2; i < 6 && i < classes[c].count; i += 2)
            track_free(g_first[t][c] + i);
    }
}

/* Wipe dead stack below the caller so no stale pointer survives there. */
static __attribute__((noinline)) void scrub_stack(void)
{
    char buf[64 * 1024];
    explicit_bzero(buf, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

/* ---- blocking / crashing functions ------------------------------------- */

static __attribute__((noinline)) void worker_block(void)
{
    for (;;)
        pause();
}

static __attribute__((noinline)) void census_wait(void)
{
    for (;;)
        pause();
}

static __attribute__((noinline)) void census_crash(void)
{
    volatile int *null_ptr = NULL;
    *null_ptr = 0x5e67; /* SIGSEGV, si_addr 0 */
}

static void *worker_main(void *arg)
{
    int t = (int)(intptr_t)arg;
    char name[16];
    snprintf(name, sizeof name, "census-je-w%d", t);
    pthread_setname_np(pthread_self(), name);
    g_threads[t].tid = corpus_gettid();
    g_threads[t].blocked_in = "worker_block";
    while (sem_wait(&g_go[t]) != 0)
        ;
    build_heap(t);
    scrub_stack();
    sem_post(&g_done[t]);
    worker_block();
    return NULL;
}

/* ---- glibc heap observation (no stdio, no malloc) ----------------------- */

static char g_maps[65536];
static unsigned long g_heap_start, g_heap_end;

static void observe_glibc_heap(void)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size_t n = 0;
    ssize_t k;
    while (n < sizeof g_maps - 1 && (k = read(fd, g_maps + n, sizeof g_maps - 1 - n)) > 0)
        n += (size_t)k;
    close(fd);
    g_maps[n] = '\0';
    for (char *line = g_maps; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        size_t len = strlen(line);
        if (len >= 6 && strcmp(line + len - 6, "[heap]") == 0) {
            g_heap_start = strtoul(line, NULL, 16);
            char *dash = strchr(line, '-');
            if (dash)
                g_heap_end = strtoul(dash + 1, NULL, 16);
        }
        line = nl ? nl + 1 : NULL;
    }
    memset(g_maps, 0, sizeof g_maps);
}

/* ---- stats cross-checks ------------------------------------------------- */

struct stat_check {
    int arena, szind;
    const char *what;     /* curregs / curlextents / tcache_bytes */
    int64_t observed;
    int64_t tracked;      /* predicted from the tracked records */
    int64_t tracked_small; /* tcache_bytes: small size classes only */
    int exclusive;        /* arena holds tracked regions only: must match */
    const char *note;
};
static struct stat_check g_checks[256];
static int g_nchecks;
static int g_checks_failed;

static int arena_exclusive(int a)
{
    /* worker arenas and the huge arena only ever see tracked requests */
    if (a == g_je.huge_arena)
        return 1;
    for (int t = 1; t < NTHREADS; t++)
        if (g_threads[t].arena == a)
            return a != g_threads[0].arena;
    return 0;
}

/* jemalloc before 5.3 counts large tcache entries wrongly in
 * stats.arenas.<i>.tcache_bytes (fixed by jemalloc pull request #1786,
 * 2020): observed on 5.2.1 as "small entries only". */
static int je_pre_5_3(void)
{
    return g_je.version[0] < '5' || (g_je.version[0] == '5' && g_je.version[1] == '.' &&
                                     g_je.version[2] < '3' && g_je.version[3] == '.');
}

static void add_check(int arena, int szind, const char *what, int64_t obs, int64_t tracked,
                      int64_t tracked_small)
{
    check(g_nchecks < (int)(sizeof g_checks / sizeof g_checks[0]), "too many checks");
    struct stat_check *c = &g_checks[g_nchecks++];
    c->arena = arena;
    c->szind = szind;
    c->what = what;
    c->observed = obs;
    c->tracked = tracked;
    c->tracked_small = tracked_small;
    c->exclusive = arena_exclusive(arena);
    c->note = NULL;
    if (tracked_small >= 0 && obs != tracked && je_pre_5_3() &&
        (c->exclusive ? obs == tracked_small : obs >= tracked_small)) {
        c->note = "jemalloc < 5.3: tcache_bytes leaves out large tcache entries";
        return;
    }
    if (obs < 0 || (c->exclusive ? obs != tracked : obs < tracked))
        g_checks_failed++;
}

static void stats_checks(void)
{
    je_epoch();
    g_je.stats_allocated = je_num_or("stats.allocated", -1);
    /* (arena, szind) pairs in use */
    for (int r = 0; r < g_nrec; r++) {
        struct rec *rc = &g_rec[r];
        int seen = 0;
        for (int q = 0; q < r; q++)
            if (g_rec[q].arena == rc->arena && g_rec[q].szind == rc->szind)
                seen = 1;
        if (seen || rc->szind < 0)
            continue;
        int64_t tracked = 0;
        for (int q = 0; q < g_nrec; q++)
            if (g_rec[q].arena == rc->arena && g_rec[q].szind == rc->szind &&
                (g_rec[q].state == ST_LIVE || g_rec[q].where == W_TCACHE))
                tracked++;
        if (rc->szind < (int)g_je.nbins)
            add_check(rc->arena, rc->szind, "curregs",
                      je_numf(-1, "stats.arenas.%d.bins.%d.curregs", rc->arena, rc->szind),
                      tracked, -1);
        else
            add_check(rc->arena, rc->szind, "curlextents",
                      je_numf(-1, "stats.arenas.%d.lextents.%d.curlextents", rc->arena,
                              rc->szind - (int)g_je.nbins),
                      tracked, -1);
    }
    /* bytes held in the tcaches associated with each thread's arena */
    for (int t = 0; t < NTHREADS; t++) {
        int a = g_threads[t].arena;
        int64_t tracked = 0, small = 0;
        for (int q = 0; q < g_nrec; q++)
            if (g_rec[q].where == W_TCACHE && g_threads[g_rec[q].thread].arena == a) {
                tracked += (int64_t)g_rec[q].usable;
                if (g_rec[q].szind < (int)g_je.nbins)
                    small += (int64_t)g_rec[q].usable;
            }
        add_check(a, -1, "tcache_bytes", je_numf(-1, "stats.arenas.%d.tcache_bytes", a),
                  tracked, small);
    }
}

/* ---- truth output -------------------------------------------------------- */

static void hex_or_null(const char *key, uint64_t enc, const char *sep)
{
    if (enc == 0)
        truth_printf("\"%s\": null%s", key, sep);
    else
        truth_printf("\"%s\": \"0x%llx\"%s", key, (unsigned long long)(enc ^ ADDR_KEY), sep);
}

static void print_opt(const char *key, int64_t v, int64_t absent, const char *sep)
{
    if (v == absent)
        truth_printf("\"%s\": null%s", key, sep);
    else
        truth_printf("\"%s\": %lld%s", key, (long long)v, sep);
}

static int tcache_pos(int r)
{
    struct rec *rc = &g_rec[r];
    if (rc->where != W_TCACHE)
        return -1;
    struct tbin *b = tbin_of(rc->thread, rc->szind);
    for (int i = 0; i < b->n; i++)
        if (b->items[i] == r)
            return b->n - 1 - i; /* 0 = most recently freed (stack head) */
    return -2;
}

static __attribute__((noinline)) void write_truth(const char *path, int segv)
{
    truth_open(path);
    truth_printf("{\n  \"schema\": \"%s\",\n  \"program\": \"census_je\",\n", TRUTH_SCHEMA);
    truth_printf("  \"mode\": \"%s\",\n  \"pid\": %d,\n", segv ? "segv" : "wait", (int)getpid());
    truth_printf("  \"glibc\": \"%s\",\n  \"allocator\": \"jemalloc\",\n", gnu_get_libc_version());

    truth_printf("  \"jemalloc\": {\"version\": ");
    truth_str(g_je.version);
    truth_printf(", \"model\": \"jemalloc-5-tcache\", \"narenas\": %u, \"nbins\": %u, "
                 "\"nlextents\": %u, \"page\": %zu, \"quantum\": %zu, \"tcache_max\": %zu, "
                 "\"huge_arena\": %d, ",
                 g_je.narenas, g_je.nbins, g_je.nlextents, g_je.page, g_je.quantum,
                 g_je.tcache_max, g_je.huge_arena);
    print_opt("stats_allocated", g_je.stats_allocated, -1, ", ");
    truth_printf("\"opt\": {");
    print_opt("narenas", g_je.opt_narenas, -1, ", ");
    print_opt("tcache", g_je.opt_tcache, -1, ", ");
    print_opt("tcache_max", g_je.opt_tcache_max, -1, ", ");
    print_opt("lg_tcache_max", g_je.opt_lg_tcache_max, -1000, ", ");
    print_opt("oversize_threshold", g_je.opt_oversize_threshold, -1, ", ");
    print_opt("retain", g_je.opt_retain, -1, ", ");
    print_opt("dirty_decay_ms", g_je.opt_dirty_decay_ms, -1000, ", ");
    print_opt("tcache_nslots_small_min", g_je.opt_nslots_small_min, -1, ", ");
    print_opt("tcache_nslots_small_max", g_je.opt_nslots_small_max, -1, ", ");
    print_opt("tcache_nslots_large", g_je.opt_nslots_large, -1, ", ");
    print_opt("lg_tcache_nslots_mul", g_je.opt_lg_nslots_mul, -1000, ", ");
    print_opt("lg_tcache_flush_small_div", g_je.opt_lg_flush_small_div, -1, ", ");
    print_opt("lg_tcache_flush_large_div", g_je.opt_lg_flush_large_div, -1, "");
    truth_printf("}, \"model_params\": {\"nslots_small_min\": %d, \"nslots_small_max\": %d, "
                 "\"nslots_large\": %d, \"lg_nslots_mul\": %d, \"lg_flush_small_div\": %d, "
                 "\"lg_flush_large_div\": %d}},\n",
                 g_je.nslots_small_min, g_je.nslots_small_max, g_je.nslots_large,
                 g_je.lg_nslots_mul, g_je.lg_flush_small_div, g_je.lg_flush_large_div);

    if (g_heap_start)
        truth_printf("  \"glibc_heap\": {\"present\": true, \"start\": \"0x%lx\", \"end\": \"0x%lx\"},\n",
                     g_heap_start, g_heap_end);
    else
        truth_printf("  \"glibc_heap\": {\"present\": false, \"start\": null, \"end\": null},\n");

    truth_printf("  \"threads\": [\n");
    for (int t = 0; t < NTHREADS; t++) {
        struct thread_info *ti = &g_threads[t];
        truth_printf("    {\"index\": %d, \"tid\": %d, \"name\": ", t, (int)ti->tid);
        truth_str(ti->name);
        truth_printf(", \"main_thread\": %s, \"arena\": %d, \"blocked_in\": \"%s\", "
                     "\"chain\": [\"%s\", \"%s\"]}%s\n",
                     t == 0 ? "true" : "false", ti->arena, ti->blocked_in, ti->blocked_in,
                     t == 0 ? "main" : "worker_main", t + 1 < NTHREADS ? "," : "");
    }
    truth_printf("  ],\n");

    truth_printf("  \"functions\": {\"main\": \"%p\", \"census_wait\": \"%p\", "
                 "\"census_crash\": \"%p\", \"worker_main\": \"%p\", "
                 "\"worker_block\": \"%p\", \"build_heap\": \"%p\", "
                 "\"write_truth\": \"%p\", \"scrub_stack\": \"%p\"},\n",
                 (void *)main, (void *)census_wait, (void *)census_crash,
                 (void *)worker_main, (void *)worker_block, (void *)build_heap,
                 (void *)write_truth, (void *)scrub_stack);

    truth_printf("  \"classes\": [\n");
    for (int c = 0; c < NCLS; c++) {
        const struct cls_info *ci = &classes[c];
        struct cls_run *cr = &g_cls[c];
        int s = cr->szind;
        truth_printf("    {\"name\": \"%s\", \"request\": %zu, \"size_class\": %zu, "
                     "\"kind\": \"%s\", \"szind\": %d, ",
                     ci->name, ci->request, cr->size_class, kind_names[cr->kind], s);
        if (s >= 0 && s < (int)g_je.nbins)
            truth_printf("\"nregs\": %u, \"slab_size\": %zu, ",
                         g_je.bin_nregs[s], g_je.bin_slab_size[s]);
        else
            truth_printf("\"nregs\": null, \"slab_size\": null, ");
        truth_printf("\"tcacheable\": %s, ", tcacheable(s) ? "true" : "false");
        if (tcacheable(s))
            truth_printf("\"ncached_max\": %d, ", g_je.ncached_max[s]);
        else
            truth_printf("\"ncached_max\": null, ");
        truth_printf("\"fill_byte\": %u, \"tag_prefix\": \"%s\", \"tag_offset\": 0, "
                     "\"count_per_thread\": %d, \"only_thread\": ",
                     ci->fill, ci->tag, ci->count);
        if (ci->only_thread >= 0)
            truth_printf("%d}%s\n", ci->only_thread, c + 1 < NCLS ? "," : "");
        else
            truth_printf("null}%s\n", c + 1 < NCLS ? "," : "");
    }
    truth_printf("  ],\n");

    /* live / tcache / slab / extent counts per class and thread */
    truth_printf("  \"class_counts\": [\n");
    int first = 1;
    for (int c = 0; c < NCLS; c++)
        for (int t = 0; t < NTHREADS; t++) {
            int n[4] = {0}, live = 0;
            for (int r = 0; r < g_nrec; r++)
                if (g_rec[r].cls == c && g_rec[r].thread == t) {
                    if (g_rec[r].state == ST_LIVE)
                        live++;
                    else
                        n[g_rec[r].where]++;
                }
            if (live + n[1] + n[2] + n[3] == 0)
                continue;
            truth_printf("%s    {\"class\": \"%s\", \"thread\": %d, \"size_class\": %zu, "
                         "\"live\": %d, \"tcache\": %d, \"slab\": %d, \"extent\": %d}",
                         first ? "" : ",\n", classes[c].name, t, g_cls[c].size_class,
                         live, n[W_TCACHE], n[W_SLAB], n[W_EXTENT]);
            first = 0;
        }
    truth_printf("\n  ],\n");

    truth_printf("  \"stats_checks\": [\n");
    for (int i = 0; i < g_nchecks; i++) {
        struct stat_check *k = &g_checks[i];
        truth_printf("    {\"arena\": %d, \"what\": \"%s\", \"szind\": %d, \"size_class\": ",
                     k->arena, k->what, k->szind);
        if (k->szind >= 0)
            truth_printf("%zu", g_je.bin_size[k->szind]);
        else
            truth_printf("null");
        truth_printf(", \"observed\": %lld, \"tracked\": %lld, \"exclusive\": %s",
                     (long long)k->observed, (long long)k->tracked,
                     k->exclusive ? "true" : "false");
        if (k->tracked_small >= 0)
            truth_printf(", \"tracked_small\": %lld", (long long)k->tracked_small);
        if (k->note)
            truth_printf(", \"note\": \"%s\"", k->note);
        truth_printf("}%s\n", i + 1 < g_nchecks ? "," : "");
    }
    truth_printf("  ],\n  \"stats_checks_ok\": %s,\n", g_checks_failed ? "false" : "true");

    truth_printf("  \"allocations\": [\n");
    for (int r = 0; r < g_nrec; r++) {
        struct rec *rc = &g_rec[r];
        truth_printf("    {\"id\": %d, \"class\": \"%s\", \"thread\": %d, \"index\": %d, ",
                     r, classes[rc->cls].name, rc->thread, rc->index);
        hex_or_null("addr", rc->enc, ", ");
        truth_printf("\"request\": %zu, \"usable\": %zu, \"kind\": \"%s\", \"szind\": %d, "
                     "\"arena\": %d, \"state\": \"%s\", ",
                     classes[rc->cls].request, rc->usable, kind_names[g_cls[rc->cls].kind],
                     rc->szind, rc->arena, rc->state == ST_LIVE ? "live" : "free");
        if (rc->where == W_NONE)
            truth_printf("\"where\": null, \"free_seq\": null, \"tcache_pos\": null}");
        else if (rc->where == W_TCACHE)
            truth_printf("\"where\": \"tcache\", \"free_seq\": %d, \"tcache_pos\": %d}",
                         rc->free_seq, tcache_pos(r));
        else
            truth_printf("\"where\": \"%s\", \"free_seq\": %d, \"tcache_pos\": null}",
                         where_names[rc->where], rc->free_seq);
        truth_printf("%s\n", r + 1 < g_nrec ? "," : "");
    }
    truth_printf("  ],\n");

    if (segv)
        truth_printf("  \"crash\": {\"signal\": 11, \"signal_name\": \"SIGSEGV\", "
                     "\"thread_index\": 0, \"tid\": %d, \"function\": \"census_crash\", "
                     "\"chain\": [\"census_crash\", \"main\"], \"fault_addr\": \"0x0\"}\n",
                     (int)g_threads[0].tid);
    else
        truth_printf("  \"crash\": null\n");
    truth_printf("}\n");
    truth_close();
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "wait") != 0 && strcmp(argv[2], "segv") != 0)) {
        static const char usage[] = "usage: LD_PRELOAD=libjemalloc.so.2 census_je TRUTH.json wait|segv\n";
        (void)!write(2, usage, sizeof usage - 1);
        return 2;
    }
    int segv = strcmp(argv[2], "segv") == 0;
    je_mallctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
    if (!je_mallctl) {
        static const char msg[] = "census_je: mallctl not found - run with LD_PRELOAD=libjemalloc.so.2\n";
        (void)!write(2, msg, sizeof msg - 1);
        return 2;
    }
    je_read_info();

    g_threads[0].tid = corpus_gettid();
    g_threads[0].blocked_in = segv ? "census_crash" : "census_wait";

    pthread_t th[NTHREADS];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int t = 1; t < NTHREADS; t++) {
        sem_init(&g_go[t], 0, 0);
        sem_init(&g_done[t], 0, 0);
        if (pthread_create(&th[t], &attr, worker_main, (void *)(intptr_t)t) != 0)
            truth_die("pthread_create");
    }
    pthread_attr_destroy(&attr);

    build_heap(0);
    for (int t = 1; t < NTHREADS; t++) {
        sem_post(&g_go[t]);
        while (sem_wait(&g_done[t]) != 0)
            ;
    }

    /* class facts from the first record of each class */
    for (int c = 0; c < NCLS; c++) {
        g_cls[c].szind = -1;
        for (int r = 0; r < g_nrec; r++)
            if (g_rec[r].cls == c) {
                g_cls[c].size_class = g_rec[r].usable;
                g_cls[c].szind = g_rec[r].szind;
                break;
            }
        g_cls[c].kind = g_cls[c].szind >= 0 && g_cls[c].szind < (int)g_je.nbins ? K_SMALL
                      : (g_je.opt_oversize_threshold > 0 &&
                         g_cls[c].size_class >= (size_t)g_je.opt_oversize_threshold) ? K_HUGE
                      : K_LARGE;
    }
    for (int r = 0; r < g_nrec; r++)
        if (g_cls[g_rec[r].cls].kind == K_HUGE) {
            g_je.huge_arena = g_rec[r].arena;
            break;
        }

    for (int t = 0; t < NTHREADS; t++)
        corpus_thread_name(g_threads[t].tid, g_threads[t].name, sizeof g_threads[t].name);
    observe_glibc_heap();
    stats_checks();

    write_truth(argv[1], segv);
    scrub_stack();
    corpus_ready();
    if (segv)
        census_crash();
    census_wait();
    return 0;
}
