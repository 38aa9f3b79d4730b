/* growth.c - a process whose glibc heap grows in known ways between two
 * snapshots, for `coresift diff OLD NEW`.  See corpus/growth/README.md.
 *
 * Usage: growth OUTDIR NAME
 *
 * The program builds its heap in two phases.  After each phase it writes
 * OUTDIR/NAME.<k>.truth.json (k = 1, 2) with malloc-free code (truth.h),
 * wipes its dead stack, prints "READY <k>" on stdout and blocks in
 * growth_wait() (sigsuspend) until it gets SIGUSR1; the driver script
 * takes a gcore meanwhile.  After snapshot 2 and SIGUSR1 it exits 0.
 *
 * Classes (one request size each, so each is a recognisable size class;
 * none of these sizes is used by glibc itself in this program):
 *
 *   leak    200 -> chunk 0xd0   definite leaks, 12 -> 30 (pointers dropped)
 *   reach   488 -> chunk 0x1f0  kept in g_reach[], 20 -> 50
 *   freed  1000 -> chunk 0x3f0  kept in g_freed[], 16 -> 0 (all freed)
 *   stable 3000 -> chunk 0xbc0  kept in g_stable[], 8 -> 8
 *   tree    600 -> chunk 0x260  definite leaks holding one pointer each, 3 -> 5
 *   leaf    120 -> chunk 0x80   referenced only by a tree block: indirect, 3 -> 5
 *
 * Every block's first bytes are the text tag "GROWTH-<CLASS>-<nnnn>\0",
 * the rest of its request is the class fill byte (tree: the leaf pointer
 * at offset 32).  Leaked blocks hold no pointer to each other (leak) or
 * exactly one, to their own leaf (tree).
 *
 * No raw pointer to a leaked block is kept anywhere: addresses are stored
 * XOR-encoded (ADDR_KEY, which makes them non-canonical) in g_enc[][] for
 * the truth and for gdb, local copies are wiped (volatile), and the dead
 * stack below main is wiped before each snapshot.
 */
#define _GNU_SOURCE
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function" /* truth.h helpers not needed here */
#include "truth.h"
#pragma GCC diagnostic pop

#include <gnu/libc-version.h>
#include <signal.h>

int main(int argc, char **argv);

#define ADDR_KEY 0xa5a55a5aa5a55a5aULL
#define MAXN 64
#define NSNAP 2

enum cls { C_LEAK, C_REACH, C_FREED, C_STABLE, C_TREE, C_LEAF, NCLS };
enum reach { R_STATIC, R_DEFINITE, R_INDIRECT };

struct cls_info {
    const char *name;
    const char *behaviour; /* "leak", "reachable-growth", "freed", "stable" */
    size_t request;
    unsigned char fill;
    const char *tag;
    int reach;              /* what a live block of this class is */
    int planned[NSNAP];     /* live blocks at snapshot 1 and 2 */
};

static const struct cls_info classes[NCLS] = {
    [C_LEAK]   = {"leak",   "leak",             200,  0xa1, "GROWTH-LEAK-",   R_DEFINITE, {12, 30}},
    [C_REACH]  = {"reach",  "reachable-growth", 488,  0xa2, "GROWTH-REACH-",  R_STATIC,   {20, 50}},
    [C_FREED]  = {"freed",  "freed",            1000, 0xa3, "GROWTH-FREED-",  R_STATIC,   {16, 0}},
    [C_STABLE] = {"stable", "stable",           3000, 0xa4, "GROWTH-STABLE-", R_STATIC,   {8, 8}},
    [C_TREE]   = {"tree",   "leak",             600,  0xa6, "GROWTH-TREE-",   R_DEFINITE, {3, 5}},
    [C_LEAF]   = {"leaf",   "leak",             120,  0xa7, "GROWTH-LEAF-",   R_INDIRECT, {3, 5}},
};
#define TREE_LEAF_OFFSET 32 /* where a tree block keeps its leaf pointer */

static const char *const reach_names[] = {
    [R_STATIC] = "static", [R_DEFINITE] = "definite", [R_INDIRECT] = "indirect",
};

/* Live blocks, XOR-encoded (0 = empty slot); slots are never reused. */
static volatile uint64_t g_enc[NCLS][MAXN];
static volatile int g_nslots[NCLS];   /* slots used so far per class */
static volatile int g_live[NCLS];     /* live blocks per class */
static volatile int g_snapshot;       /* 0 before snapshot 1, then 1, 2 */
static size_t g_chunk_size[NCLS];     /* read back from the chunk header */

/* The static roots of the reachable classes (same index as g_enc). */
static void *volatile g_reach[MAXN];
static void *volatile g_freed[MAXN];
static void *volatile g_stable[MAXN];

static volatile sig_atomic_t g_go;
static sigset_t g_waitmask;

static void on_usr1(int sig)
{
    (void)sig;
    g_go = 1;
}

static size_t chunk_size_rule(size_t req)
{
    size_t c = (req + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

/* Allocate one block of class c, fill it, record it; returns its slot.
 * The pointer goes to *out (a root slot) or nowhere (out == NULL). */
static __attribute__((noinline)) int alloc_block(int c, void *volatile *out)
{
    const struct cls_info *ci = &classes[c];
    int slot = g_nslots[c];
    if (slot >= MAXN)
        truth_die("too many blocks");
    unsigned char *volatile p = malloc(ci->request);
    if (p == NULL)
        truth_die("malloc");
    size_t csize = ((size_t *)p)[-1] & ~(size_t)7;
    if (csize != chunk_size_rule(ci->request))
        truth_die("unexpected chunk size");
    if (g_chunk_size[c] == 0)
        g_chunk_size[c] = csize;
    memset(p, ci->fill, ci->request);
    char tag[32];
    int n = snprintf(tag, sizeof tag, "%s%04d", ci->tag, slot);
    memcpy(p, tag, (size_t)n + 1);
    explicit_bzero(tag, sizeof tag);
    g_enc[c][slot] = (uint64_t)(uintptr_t)p ^ ADDR_KEY;
    g_nslots[c] = slot + 1;
    g_live[c]++;
    if (out)
        *out = p;
    p = NULL;
    return slot;
}

static void *decode(uint64_t enc) { return (void *)(uintptr_t)(enc ^ ADDR_KEY); }

/* A leaked tree block with its leaf: tree -> leaf, nothing -> tree. */
static __attribute__((noinline)) void alloc_tree(void)
{
    void *volatile leaf = NULL;
    int ls = alloc_block(C_LEAF, &leaf);
    int ts = alloc_block(C_TREE, NULL);
    unsigned char *volatile tree = decode(g_enc[C_TREE][ts]);
    memcpy(tree + TREE_LEAF_OFFSET, (void *)&leaf, sizeof(void *));
    (void)ls;
    tree = NULL;
    leaf = NULL;
}

static __attribute__((noinline)) void free_block(int c, int slot, void *volatile *root)
{
    free(decode(g_enc[c][slot]));
    g_enc[c][slot] = 0;
    *root = NULL;
    g_live[c]--;
}

/* phase 1: what the process holds at snapshot 1 */
static __attribute__((noinline)) void phase1(void)
{
    for (int i = 0; i < classes[C_STABLE].planned[0]; i++)
        alloc_block(C_STABLE, &g_stable[i]);
    for (int i = 0; i < classes[C_FREED].planned[0]; i++)
        alloc_block(C_FREED, &g_freed[i]);
    /* leaks and reachable blocks interleaved, as a long-running process would */
    for (int i = 0; i < classes[C_REACH].planned[0]; i++) {
        alloc_block(C_REACH, &g_reach[i]);
        if (i < classes[C_LEAK].planned[0])
            alloc_block(C_LEAK, NULL);
        if (i < classes[C_TREE].planned[0])
            alloc_tree();
    }
}

/* phase 2: between snapshot 1 and snapshot 2 */
static __attribute__((noinline)) void phase2(void)
{
    /* the freed class goes first, so the new blocks reuse its memory: the
     * same addresses hold other classes at snapshot 2 */
    for (int i = 0; i < g_nslots[C_FREED]; i++)
        if (g_enc[C_FREED][i])
            free_block(C_FREED, i, &g_freed[i]);
    int more_reach = classes[C_REACH].planned[1] - classes[C_REACH].planned[0];
    int more_leak = classes[C_LEAK].planned[1] - classes[C_LEAK].planned[0];
    int more_tree = classes[C_TREE].planned[1] - classes[C_TREE].planned[0];
    for (int i = 0; i < more_reach; i++) {
        if (i < more_leak)
            alloc_block(C_LEAK, NULL);
        alloc_block(C_REACH, &g_reach[g_nslots[C_REACH]]);
        if (i < more_tree)
            alloc_tree();
    }
}

/* Wipe dead stack below the caller so no stale pointer survives there. */
static __attribute__((noinline)) void scrub_stack(void)
{
    char buf[64 * 1024];
    explicit_bzero(buf, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

/* Block until the driver sends SIGUSR1 (it takes the gcore meanwhile). */
static __attribute__((noinline)) void growth_wait(void)
{
    while (!g_go)
        sigsuspend(&g_waitmask);
    g_go = 0;
}

/* ---- truth output ----------------------------------------------------- */

static void write_class(int c, int snap)
{
    const struct cls_info *ci = &classes[c];
    size_t csize = g_chunk_size[c] ? g_chunk_size[c] : chunk_size_rule(ci->request);
    int live = g_live[c];
    if (live != ci->planned[snap - 1])
        truth_die("live count differs from the plan");
    int d = ci->reach == R_DEFINITE ? live : 0;
    int ind = ci->reach == R_INDIRECT ? live : 0;
    int delta = ci->planned[1] - ci->planned[0];
    truth_printf("    {\"name\": \"%s\", \"behaviour\": \"%s\", \"reach\": \"%s\", "
                 "\"request\": %zu, \"chunk_size\": %zu, \"usable_size\": %zu, "
                 "\"tag_prefix\": \"%s\", \"fill_byte\": %u,\n",
                 ci->name, ci->behaviour, reach_names[ci->reach], ci->request, csize,
                 csize - 8, ci->tag, ci->fill);
    truth_printf("     \"live\": %d, \"leaked_definite\": %d, \"leaked_indirect\": %d, "
                 "\"reachable\": %d, \"live_chunk_bytes\": %zu,\n",
                 live, d, ind, live - d - ind, (size_t)live * csize);
    truth_printf("     \"live_by_snapshot\": [%d, %d], \"delta_chunks\": %d, "
                 "\"delta_chunk_bytes\": %lld, \"delta_usable_bytes\": %lld, "
                 "\"delta_leaked_definite\": %d, \"delta_leaked_indirect\": %d,\n",
                 ci->planned[0], ci->planned[1], delta, (long long)delta * (long long)csize,
                 (long long)delta * (long long)(csize - 8),
                 ci->reach == R_DEFINITE ? delta : 0, ci->reach == R_INDIRECT ? delta : 0);
    truth_printf("     \"slots_used\": %d, \"addresses\": [", g_nslots[c]);
    int first = 1;
    for (int i = 0; i < g_nslots[c]; i++) {
        if (!g_enc[c][i])
            continue;
        truth_printf("%s\"0x%llx\"", first ? "" : ", ",
                     (unsigned long long)(g_enc[c][i] ^ ADDR_KEY));
        first = 0;
    }
    truth_printf("]}%s\n", c + 1 < NCLS ? "," : "");
}

static __attribute__((noinline)) void write_truth(const char *dir, const char *name, int snap)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s.%d.truth.json", dir, name, snap) >= (int)sizeof path)
        truth_die("path too long");
    truth_open(path);
    truth_printf("{\n  \"schema\": \"%s\",\n  \"program\": \"growth\",\n", TRUTH_SCHEMA);
    truth_printf("  \"run\": \"%s\",\n  \"pid\": %d,\n  \"snapshot\": %d,\n  \"snapshots\": %d,\n",
                 name, (int)getpid(), snap, NSNAP);
    truth_printf("  \"glibc\": \"%s\",\n  \"allocator\": \"glibc\",\n", gnu_get_libc_version());
    truth_printf("  \"blocked_in\": \"growth_wait\",\n");
    truth_printf("  \"functions\": {\"main\": \"%p\", \"growth_wait\": \"%p\", "
                 "\"phase1\": \"%p\", \"phase2\": \"%p\"},\n",
                 (void *)main, (void *)growth_wait, (void *)phase1, (void *)phase2);
    truth_printf("  \"tree_leaf_offset\": %d,\n", TREE_LEAF_OFFSET);

    int dc = 0, ic = 0, ddc = 0, dic = 0;
    size_t db = 0, ib = 0;
    for (int c = 0; c < NCLS; c++) {
        size_t cs = g_chunk_size[c] ? g_chunk_size[c] : chunk_size_rule(classes[c].request);
        int delta = classes[c].planned[1] - classes[c].planned[0];
        if (classes[c].reach == R_DEFINITE) {
            dc += g_live[c];
            db += (size_t)g_live[c] * cs;
            ddc += delta;
        } else if (classes[c].reach == R_INDIRECT) {
            ic += g_live[c];
            ib += (size_t)g_live[c] * cs;
            dic += delta;
        }
    }
    truth_printf("  \"leaks\": {\"definite_chunks\": %d, \"definite_chunk_bytes\": %zu, "
                 "\"indirect_chunks\": %d, \"indirect_chunk_bytes\": %zu, "
                 "\"possible_chunks\": 0, \"delta_definite_chunks\": %d, "
                 "\"delta_indirect_chunks\": %d},\n",
                 dc, db, ic, ib, ddc, dic);
    truth_printf("  \"classes\": [\n");
    for (int c = 0; c < NCLS; c++)
        write_class(c, snap);
    truth_printf("  ]\n}\n");
    truth_close();
    explicit_bzero(path, sizeof path);
}

static __attribute__((noinline)) void snapshot(const char *dir, const char *name, int snap)
{
    g_snapshot = snap;
    write_truth(dir, name, snap);
    scrub_stack();
    char msg[16];
    int n = snprintf(msg, sizeof msg, "READY %d\n", snap);
    (void)!write(1, msg, (size_t)n);
    growth_wait();
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        static const char usage[] = "usage: growth OUTDIR NAME\n";
        (void)!write(2, usage, sizeof usage - 1);
        return 2;
    }
    /* SIGUSR1 stays blocked except inside sigsuspend: no lost wake-up */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &g_waitmask);
    sigdelset(&g_waitmask, SIGUSR1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        truth_die("sigaction");

    phase1();
    snapshot(argv[1], argv[2], 1);
    phase2();
    snapshot(argv[1], argv[2], 2);
    return 0;
}
