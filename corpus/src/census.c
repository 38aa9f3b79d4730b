/* census.c - build a known glibc malloc heap state and record it as truth.
 *
 * Usage: census TRUTH.json wait|segv
 *
 * Three threads (main + 2 workers).  Each thread allocates a fixed set of
 * size classes in its own arena (main arena for the main thread, a fresh
 * non-main arena per worker), then frees some of them in an order chosen so
 * that glibc (modelled on 2.36) puts every freed chunk in a predictable
 * place: tcache, fastbin, unsorted, smallbin, largebin, or unmapped.
 * The main thread also builds leak-analysis cases (reachable from a global,
 * from a blocked thread's stack, from another chunk, definitely lost, and
 * indirectly lost).
 *
 * The threads run one after another (semaphores), so the global bookkeeping
 * needs no locking and the heap layout is deterministic.
 *
 * Ground truth never stores raw heap pointers for the tracked chunks: every
 * address is kept XOR-encoded (ADDR_KEY) and only decoded while formatting
 * it as hex text.  Dead stack regions are wiped before the process is
 * dumped, so a conservative pointer scan of the core finds exactly the
 * references the truth describes.
 *
 * After setup the truth is written to argv[1], "READY" is printed, then:
 *   wait : every thread blocks in pause() until killed (for gcore)
 *   segv : the main thread writes through NULL in census_crash(), the
 *          workers stay blocked (for a kernel core)
 */
#define _GNU_SOURCE
#include "truth.h"

#include <gnu/libc-version.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

int main(int argc, char **argv);

#define NTHREADS 3
#define ADDR_KEY 0x5a5aa5a55a5aa5a5ULL
#define HEAP_MAX_SIZE (64UL * 1024 * 1024) /* glibc non-main heap alignment */
#define MAX_RECS 1024

/* glibc malloc parameters for x86-64 (defaults, no tunables) */
#define TCACHE_COUNT 7
#define TCACHE_BINS 64
#define FASTBIN_MAX_CHUNK 0x80
#define MIN_LARGE_CHUNK 0x400

enum cls {
    C_SMALL24, C_MED100, C_K1, C_K5, C_BIG, C_MMAPPED, C_SORTER,
    C_LEAK_ROOT, C_LEAK_HEAP, C_LEAK_STACK, C_LEAK_DEF, C_LEAK_IND,
    NCLS
};

struct cls_info {
    const char *name;
    size_t request;
    unsigned char fill;     /* every byte not used by tag/pointers */
    const char *tag;        /* text tag "<tag><thread*100+index>" */
    size_t tag_offset;      /* leak classes keep 2 pointer slots first */
};

static const struct cls_info classes[NCLS] = {
    [C_SMALL24]    = {"small24",    24,     0xa1, "census-small-",  0},
    [C_MED100]     = {"med100",     100,    0xa2, "census-med-",    0},
    [C_K1]         = {"k1",         1000,   0xa3, "census-k1-",     0},
    [C_K5]         = {"k5",         5000,   0xa4, "census-k5-",     0},
    [C_BIG]        = {"big",        40000,  0xa5, "census-big-",    0},
    [C_MMAPPED]    = {"mmapped",    300000, 0xa6, "census-mmap-",   0},
    [C_SORTER]     = {"sorter",     60000,  0xa7, "census-sorter-", 0},
    [C_LEAK_ROOT]  = {"leak_root",  56,     0xb1, "leak-root-",     16},
    [C_LEAK_HEAP]  = {"leak_heap",  40,     0xb2, "leak-heap-",     16},
    [C_LEAK_STACK] = {"leak_stack", 72,     0xb3, "leak-stack-",    16},
    [C_LEAK_DEF]   = {"leak_def",   136,    0xb4, "leak-def-",      16},
    [C_LEAK_IND]   = {"leak_ind",   152,    0xb5, "leak-ind-",      16},
};

/* how many of each census class every thread allocates */
#define N_SMALL24 40
#define N_MED100 30
#define N_K1 20
#define N_K5 8
#define N_BIG 3
#define N_MMAPPED 2

enum state { ST_LIVE, ST_FREE };
enum bin { B_NONE, B_TCACHE, B_FASTBIN, B_UNSORTED, B_SMALLBIN, B_LARGEBIN, B_UNMAPPED };
enum reach { R_NONE, R_STATIC, R_STACK, R_HEAP, R_DEFINITE, R_INDIRECT };

static const char *const bin_names[] = {
    [B_NONE] = NULL, [B_TCACHE] = "tcache", [B_FASTBIN] = "fastbin",
    [B_UNSORTED] = "unsorted", [B_SMALLBIN] = "smallbin",
    [B_LARGEBIN] = "largebin", [B_UNMAPPED] = "unmapped",
};
static const char *const reach_names[] = {
    [R_NONE] = NULL, [R_STATIC] = "static", [R_STACK] = "stack",
    [R_HEAP] = "heap", [R_DEFINITE] = "definite", [R_INDIRECT] = "indirect",
};

struct rec {
    uint64_t enc;        /* user pointer ^ ADDR_KEY */
    uint64_t enc_parent; /* referencing chunk ^ ADDR_KEY, or 0 */
    int cls, thread, index;
    size_t request, usable, size_field;
    int state, bin, bin_index, free_seq, reach;
};

static struct rec g_rec[MAX_RECS];
static int g_nrec;
static int g_free_seq;

/* Raw pointers that make the census classes reachable from static data
 * (indexed like g_rec).  Cleared when the chunk is freed. */
static void *g_keep[MAX_RECS];

/* Static roots of the leak cases. */
static void *g_leak_roots[2];

struct thread_info {
    pid_t tid;
    char name[32];
    uint64_t enc_arena; /* heap_info->ar_ptr ^ ADDR_KEY (workers only) */
    int tcache_count[TCACHE_BINS];
    const char *blocked_in;
};
static struct thread_info g_threads[NTHREADS];

static sem_t g_go[NTHREADS], g_done[NTHREADS];

/* ---- glibc 2.36 bin model ------------------------------------------- */

static size_t size_field_of(const void *p)
{
    return ((const size_t *)p)[-1];
}

static int tcache_index(size_t csize) { return (int)((csize - 17) / 16); }
static int fastbin_index(size_t csize) { return (int)(csize >> 4) - 2; }
static int smallbin_index(size_t csize) { return (int)(csize >> 4); }
static int largebin_index(size_t sz)
{
    if ((sz >> 6) <= 48) return 48 + (int)(sz >> 6);
    if ((sz >> 9) <= 20) return 91 + (int)(sz >> 9);
    if ((sz >> 12) <= 10) return 110 + (int)(sz >> 12);
    if ((sz >> 15) <= 4) return 119 + (int)(sz >> 15);
    if ((sz >> 18) <= 2) return 124 + (int)(sz >> 18);
    return 126;
}

/* ---- allocation bookkeeping ------------------------------------------ */

static void fill_chunk(void *p, int cls, int thread, int index)
{
    const struct cls_info *ci = &classes[cls];
    memset(p, ci->fill, ci->request);
    if (ci->tag_offset)
        memset(p, 0, ci->tag_offset); /* pointer slots */
    char tag[48];
    int n = snprintf(tag, sizeof tag, "%s%d", ci->tag, thread * 100 + index);
    memcpy((char *)p + ci->tag_offset, tag, (size_t)n + 1);
}

static void check(int ok, const char *what)
{
    if (!ok)
        truth_die(what);
}

/* Allocate one tracked chunk; returns the record index. */
static int track_alloc(int cls, int thread, int index, int reach, void **out)
{
    check(g_nrec < MAX_RECS, "too many records");
    void *p = malloc(classes[cls].request);
    check(p != NULL, "malloc failed");
    fill_chunk(p, cls, thread, index);
    int r = g_nrec++;
    struct rec *rc = &g_rec[r];
    rc->enc = (uint64_t)(uintptr_t)p ^ ADDR_KEY;
    rc->cls = cls;
    rc->thread = thread;
    rc->index = index;
    rc->request = classes[cls].request;
    rc->usable = malloc_usable_size(p);
    rc->size_field = size_field_of(p);
    rc->state = ST_LIVE;
    rc->bin = B_NONE;
    rc->bin_index = -1;
    rc->free_seq = -1;
    rc->reach = reach;
    *out = p;
    return r;
}

static void *rec_ptr(int r)
{
    return (void *)(uintptr_t)(g_rec[r].enc ^ ADDR_KEY);
}

/* Free a census chunk and record where glibc 2.36 must have put it. */
static void track_free(int r)
{
    struct rec *rc = &g_rec[r];
    struct thread_info *ti = &g_threads[rc->thread];
    size_t csize = rc->size_field & ~(size_t)7;
    void *p = g_keep[r];
    check(p != NULL && rc->state == ST_LIVE, "bad free");

    if (rc->size_field & 2) {
        rc->bin = B_UNMAPPED;
        rc->bin_index = -1;
    } else if (tcache_index(csize) < TCACHE_BINS &&
               ti->tcache_count[tcache_index(csize)] < TCACHE_COUNT) {
        rc->bin = B_TCACHE;
        rc->bin_index = tcache_index(csize);
        ti->tcache_count[rc->bin_index]++;
    } else if (csize <= FASTBIN_MAX_CHUNK) {
        rc->bin = B_FASTBIN;
        rc->bin_index = fastbin_index(csize);
    } else {
        rc->bin = B_UNSORTED;
        rc->bin_index = 1;
    }
    rc->state = ST_FREE;
    rc->reach = R_NONE;
    rc->free_seq = g_free_seq++;
    g_keep[r] = NULL;
    free(p);
}

/* A malloc that walks the unsorted bin moves every chunk in it to its
 * small or large bin (none of them is an exact fit). */
static void model_sort_unsorted(int thread)
{
    for (int r = 0; r < g_nrec; r++) {
        struct rec *rc = &g_rec[r];
        if (rc->thread != thread || rc->bin != B_UNSORTED)
            continue;
        size_t csize = rc->size_field & ~(size_t)7;
        if (csize < MIN_LARGE_CHUNK) {
            rc->bin = B_SMALLBIN;
            rc->bin_index = smallbin_index(csize);
        } else {
            rc->bin = B_LARGEBIN;
            rc->bin_index = largebin_index(csize);
        }
    }
}

/* ---- per-thread heap construction ------------------------------------ */

static int alloc_class(int cls, int thread, int n, int *first)
{
    void *p = NULL;
    for (int i = 0; i < n; i++) {
        int r = track_alloc(cls, thread, i, R_STATIC, &p);
        g_keep[r] = p;
        if (i == 0)
            *first = r;
    }
    p = NULL;
    return n;
}

static __attribute__((noinline)) void build_heap(int t)
{
    int mm, s24, m100, k1, k5, big, sorter;

    /* mmapped chunks first, while top is small, so they are really mmapped */
    alloc_class(C_MMAPPED, t, N_MMAPPED, &mm);
    alloc_class(C_SMALL24, t, N_SMALL24, &s24);
    alloc_class(C_MED100, t, N_MED100, &m100);
    alloc_class(C_K1, t, N_K1, &k1);
    alloc_class(C_K5, t, N_K5, &k5);
    alloc_class(C_BIG, t, N_BIG, &big);

    for (int i = 0; i < N_MMAPPED; i++)
        check((g_rec[mm + i].size_field & 2) != 0, "mmapped class not mmapped");

    /* Phase A: chunks that will be sorted.  Every freed chunk here has live
     * neighbours (or tcache chunks, which count as in use), so nothing
     * coalesces.  k1 evens: 7 fill the 0x3f0 tcache bin, the rest go to
     * the unsorted bin. */
    for (int i = 0; i < N_K1; i += 2)
        track_free(k1 + i);
    track_free(k5 + 0);
    track_free(k5 + 2);
    track_free(big + 0);

    /* A large request bigger than anything free: no fastbin chunk exists
     * yet (so no malloc_consolidate), the unsorted bin is sorted into the
     * small/large bins, nothing fits, the chunk comes from top. */
    void *p = NULL;
    sorter = track_alloc(C_SORTER, t, 0, R_STATIC, &p);
    g_keep[sorter] = p;
    p = NULL;
    model_sort_unsorted(t);

    /* Phase B: stays in the unsorted bin because no later malloc in this
     * arena walks it. k1[5] sits between two tcache chunks. */
    track_free(k5 + 4);
    track_free(k5 + 6);
    track_free(k1 + 5);

    /* tcache first, then fastbins */
    for (int i = 0; i < 10; i++)
        track_free(s24 + i);
    for (int i = 0; i < 9; i++)
        track_free(m100 + i);
}

/* The non-main arena a worker's chunks belong to: NON_MAIN_ARENA set,
 * heap_info at the 64 MiB boundary below the chunk, ar_ptr at offset 0. */
static __attribute__((noinline)) void record_arena(int t)
{
    uint64_t arena = 0;
    for (int r = 0; r < g_nrec; r++) {
        struct rec *rc = &g_rec[r];
        if (rc->thread != t || (rc->size_field & 2))
            continue;
        if (t == 0) {
            check((rc->size_field & 4) == 0, "main thread chunk in non-main arena");
            continue;
        }
        check((rc->size_field & 4) != 0, "worker chunk not in a non-main arena");
        uintptr_t chunk = (uintptr_t)rec_ptr(r) - 16;
        uintptr_t heap = chunk & ~(HEAP_MAX_SIZE - 1);
        uint64_t ar = (uint64_t)*(uintptr_t *)heap;
        if (arena == 0)
            arena = ar;
        check(arena == ar, "worker chunks in different arenas");
    }
    g_threads[t].enc_arena = t == 0 ? 0 : arena ^ ADDR_KEY;
}

/* Leak cases, all in the main arena:
 *   leak_root  x2 : pointers in g_leak_roots[]          -> "static"
 *   leak_heap  x3 : only pointed to by a leak_root       -> "heap"
 *   leak_def   x3 : no pointer anywhere                  -> "definite"
 *   leak_ind   x3 : def0->ind0, def1->ind1->ind2         -> "indirect"
 * (leak_stack lives in worker 1, see worker_main.) */
static __attribute__((noinline)) void build_leaks(void)
{
    void *root[2], *child[3], *def[3], *ind[3];
    int rroot[2], rchild[3], rdef[3], rind[3];

    for (int i = 0; i < 2; i++)
        rroot[i] = track_alloc(C_LEAK_ROOT, 0, i, R_STATIC, &root[i]);
    for (int i = 0; i < 3; i++)
        rchild[i] = track_alloc(C_LEAK_HEAP, 0, i, R_HEAP, &child[i]);
    for (int i = 0; i < 3; i++)
        rdef[i] = track_alloc(C_LEAK_DEF, 0, i, R_DEFINITE, &def[i]);
    for (int i = 0; i < 3; i++)
        rind[i] = track_alloc(C_LEAK_IND, 0, i, R_INDIRECT, &ind[i]);

    g_leak_roots[0] = root[0];
    g_leak_roots[1] = root[1];
    ((void **)root[0])[0] = child[0];
    ((void **)root[0])[1] = child[1];
    ((void **)root[1])[0] = child[2];
    g_rec[rchild[0]].enc_parent = g_rec[rroot[0]].enc;
    g_rec[rchild[1]].enc_parent = g_rec[rroot[0]].enc;
    g_rec[rchild[2]].enc_parent = g_rec[rroot[1]].enc;

    ((void **)def[0])[0] = ind[0];
    ((void **)def[1])[0] = ind[1];
    ((void **)ind[1])[0] = ind[2];
    g_rec[rind[0]].enc_parent = g_rec[rdef[0]].enc;
    g_rec[rind[1]].enc_parent = g_rec[rdef[1]].enc;
    g_rec[rind[2]].enc_parent = g_rec[rind[1]].enc;

    /* drop every local copy of the pointers */
    explicit_bzero(root, sizeof root);
    explicit_bzero(child, sizeof child);
    explicit_bzero(def, sizeof def);
    explicit_bzero(ind, sizeof ind);
}

/* Wipe dead stack below the caller so no stale pointer survives there. */
static __attribute__((noinline)) void scrub_stack(void)
{
    char buf[64 * 1024];
    explicit_bzero(buf, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

/* ---- blocking / crashing functions (names appear in the truth) ------- */

static __attribute__((noinline)) void worker_block(void *volatile *roots)
{
    (void)roots;
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
    snprintf(name, sizeof name, "census-w%d", t);
    pthread_setname_np(pthread_self(), name);
    g_threads[t].tid = corpus_gettid();
    g_threads[t].blocked_in = "worker_block";

    while (sem_wait(&g_go[t]) != 0)
        ;

    /* leak_stack: referenced only from this live frame */
    void *volatile stack_roots[2] = {NULL, NULL};
    if (t == 1) {
        for (int i = 0; i < 2; i++) {
            void *p = NULL;
            track_alloc(C_LEAK_STACK, t, i, R_STACK, &p);
            stack_roots[i] = p;
            p = NULL;
        }
    }
    build_heap(t);
    record_arena(t);
    scrub_stack();
    sem_post(&g_done[t]);
    worker_block(stack_roots);
    return NULL;
}

/* ---- truth output ----------------------------------------------------- */

/* print an XOR-encoded address (minus off) as a hex string, 0 -> null */
static void hex_or_null_off(const char *key, uint64_t enc, uint64_t off, const char *sep)
{
    if (enc == 0)
        truth_printf("\"%s\": null%s", key, sep);
    else
        truth_printf("\"%s\": \"0x%llx\"%s", key,
                     (unsigned long long)((enc ^ ADDR_KEY) - off), sep);
}

static void hex_or_null(const char *key, uint64_t enc, const char *sep)
{
    hex_or_null_off(key, enc, 0, sep);
}

static __attribute__((noinline)) void write_truth(const char *path, int segv)
{
    truth_open(path);
    truth_printf("{\n  \"schema\": \"%s\",\n  \"program\": \"census\",\n", TRUTH_SCHEMA);
    truth_printf("  \"mode\": \"%s\",\n  \"pid\": %d,\n", segv ? "segv" : "wait", (int)getpid());
    truth_printf("  \"glibc\": \"%s\",\n  \"bin_model\": \"glibc-2.36\",\n", gnu_get_libc_version());
    truth_printf("  \"malloc_params\": {\"tcache_count\": %d, \"tcache_bins\": %d, "
                 "\"fastbin_max_chunk\": %d, \"min_large_chunk\": %d, "
                 "\"heap_max_size\": %lu},\n",
                 TCACHE_COUNT, TCACHE_BINS, FASTBIN_MAX_CHUNK, MIN_LARGE_CHUNK, HEAP_MAX_SIZE);
    truth_printf("  \"main_arena\": null,\n");

    truth_printf("  \"threads\": [\n");
    for (int t = 0; t < NTHREADS; t++) {
        struct thread_info *ti = &g_threads[t];
        truth_printf("    {\"index\": %d, \"tid\": %d, \"name\": ", t, (int)ti->tid);
        truth_str(ti->name);
        truth_printf(", \"main_thread\": %s, \"arena_kind\": \"%s\", ",
                     t == 0 ? "true" : "false", t == 0 ? "main" : "non_main");
        hex_or_null("arena", ti->enc_arena, ", ");
        truth_printf("\"blocked_in\": \"%s\", \"chain\": [\"%s\", \"%s\"]}%s\n",
                     ti->blocked_in, ti->blocked_in, t == 0 ? "main" : "worker_main",
                     t + 1 < NTHREADS ? "," : "");
    }
    truth_printf("  ],\n");

    truth_printf("  \"functions\": {\"main\": \"%p\", \"census_wait\": \"%p\", "
                 "\"census_crash\": \"%p\", \"worker_main\": \"%p\", "
                 "\"worker_block\": \"%p\", \"build_heap\": \"%p\", "
                 "\"build_leaks\": \"%p\", \"write_truth\": \"%p\", "
                 "\"scrub_stack\": \"%p\"},\n",
                 (void *)main, (void *)census_wait, (void *)census_crash,
                 (void *)worker_main, (void *)worker_block, (void *)build_heap,
                 (void *)build_leaks, (void *)write_truth, (void *)scrub_stack);

    truth_printf("  \"classes\": [\n");
    for (int c = 0; c < NCLS; c++) {
        const struct cls_info *ci = &classes[c];
        long csize = -1;
        for (int r = 0; r < g_nrec; r++)
            if (g_rec[r].cls == c) {
                csize = (long)(g_rec[r].size_field & ~(size_t)7);
                break;
            }
        truth_printf("    {\"name\": \"%s\", \"request\": %zu, \"chunk_size\": %ld, "
                     "\"fill_byte\": %u, \"tag_prefix\": \"%s\", \"tag_offset\": %zu, "
                     "\"leak_case\": %s}%s\n",
                     ci->name, ci->request, csize, ci->fill, ci->tag, ci->tag_offset,
                     c >= C_LEAK_ROOT ? "true" : "false", c + 1 < NCLS ? "," : "");
    }
    truth_printf("  ],\n");

    truth_printf("  \"allocations\": [\n");
    for (int r = 0; r < g_nrec; r++) {
        struct rec *rc = &g_rec[r];
        /* final header: the PREV_INUSE bit of a chunk after a binned free
         * chunk was cleared by free(); unmapped chunks are gone */
        if (rc->bin != B_UNMAPPED)
            rc->size_field = size_field_of(rec_ptr(r));
        size_t csize = rc->size_field & ~(size_t)7;
        truth_printf("    {\"id\": %d, \"class\": \"%s\", \"thread\": %d, \"index\": %d, ",
                     r, classes[rc->cls].name, rc->thread, rc->index);
        hex_or_null("addr", rc->enc, ", ");
        hex_or_null_off("chunk", rc->enc, 16, ", ");
        truth_printf("\"request\": %zu, \"usable\": %zu, \"chunk_size\": %zu, "
                     "\"flags\": %u, \"state\": \"%s\", ",
                     rc->request, rc->usable, csize, (unsigned)(rc->size_field & 7),
                     rc->state == ST_LIVE ? "live" : "free");
        if (rc->bin == B_NONE)
            truth_printf("\"bin\": null, \"bin_index\": null, \"free_seq\": null, ");
        else if (rc->bin_index < 0)
            truth_printf("\"bin\": \"%s\", \"bin_index\": null, \"free_seq\": %d, ",
                         bin_names[rc->bin], rc->free_seq);
        else
            truth_printf("\"bin\": \"%s\", \"bin_index\": %d, \"free_seq\": %d, ",
                         bin_names[rc->bin], rc->bin_index, rc->free_seq);
        if (rc->reach == R_NONE)
            truth_printf("\"reach\": null, ");
        else
            truth_printf("\"reach\": \"%s\", ", reach_names[rc->reach]);
        hex_or_null("parent", rc->enc_parent, "");
        truth_printf("}%s\n", r + 1 < g_nrec ? "," : "");
    }
    truth_printf("  ],\n");

    if (segv)
        truth_printf("  \"crash\": {\"signal\": 11, \"signal_name\": \"SIGSEGV\", "
                     "\"thread_index\": 0, \"tid\": %d, \"function\": \"census_crash\", "
                     "\"chain\": [\"census_crash\", \"main\"], \"fault_addr\": \"0x0\"},\n",
                     (int)g_threads[0].tid);
    else
        truth_printf("  \"crash\": null,\n");
    truth_printf("  \"dumps\": []\n}\n");
    truth_close();
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "wait") != 0 && strcmp(argv[2], "segv") != 0)) {
        static const char usage[] = "usage: census TRUTH.json wait|segv\n";
        (void)!write(2, usage, sizeof usage - 1);
        return 2;
    }
    int segv = strcmp(argv[2], "segv") == 0;

    g_threads[0].tid = corpus_gettid();
    g_threads[0].blocked_in = segv ? "census_crash" : "census_wait";

    /* Start the workers before the main heap is built: pthread_create
     * callocs the new thread's DTV in the main arena. */
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

    build_leaks();
    build_heap(0);
    record_arena(0);

    for (int t = 1; t < NTHREADS; t++) {
        sem_post(&g_go[t]);
        while (sem_wait(&g_done[t]) != 0)
            ;
    }

    /* Freeing an mmapped chunk raises the dynamic mmap threshold, so do it
     * after every thread made its mmapped allocations. */
    for (int r = g_nrec - 1; r >= 0; r--)
        if (g_rec[r].thread == 0 && g_rec[r].cls == C_MMAPPED && g_rec[r].index == 1) {
            track_free(r);
            break;
        }

    for (int t = 0; t < NTHREADS; t++)
        corpus_thread_name(g_threads[t].tid, g_threads[t].name, sizeof g_threads[t].name);

    write_truth(argv[1], segv);
    scrub_stack();
    corpus_ready();
    if (segv)
        census_crash();
    census_wait();
    return 0;
}
