/* bugs.c - several distinct crash bugs for the `coresift triage` corpus.
 *
 * usage: bugs BUG VARIANT
 *   BUG: null double_free top_overflow stack_overflow assert abort_msg readonly
 *   VARIANT: small integer (1..9) that changes sizes, data and the number of
 *   earlier allocations (the input), never the call path: every bug always
 *   crashes in its own crash_<bug> function, reached as
 *   main -> run_bug -> prepare_<bug> -> crash_<bug>.  (A different path to
 *   the same crash site is a different signature, as in satyr and Sentry.)
 *
 * Build: -O1 -g -fno-omit-frame-pointer.  All functions are noipa (implies
 * noinline, no cloning, no constant propagation across calls) so the frames
 * stay stable.  No stdio before the crash, except abort_msg's message, so
 * the heap layout is the program's own.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noipa))

struct node {
    long key;           /* +0x0 */
    long value;         /* +0x8 */
    struct node *next;  /* +0x10 */
    char tag[8];        /* +0x18 */
};

static volatile long sink;

/* ---- null: read or write through a NULL struct pointer ---------------- */
static NOINLINE struct node *find_node(struct node *head, long key)
{
    for (struct node *n = head; n; n = n->next)
        if (n->key == key)
            return n;
    return NULL; /* key not found: the caller does not check */
}

static NOINLINE void crash_null(void *arg, int variant)
{
    struct node *n = arg;
    if (variant % 2)
        sink = n->value;          /* read at 0x8 */
    else
        n->value = variant;       /* write at 0x8 */
    sink++;
}

static NOINLINE void prepare_null(int variant)
{
    struct node nodes[3] = {{1, 10, NULL, "a"}, {2, 20, NULL, "b"}, {3, 30, NULL, "c"}};
    nodes[0].next = &nodes[1];
    nodes[1].next = &nodes[2];
    struct node *n = find_node(nodes, 100 + variant);
    crash_null(n, variant);
    sink += nodes[0].value;
}

/* ---- double_free: glibc's tcache double-free check -------------------- */
static NOINLINE void crash_double_free(void *arg, int variant)
{
    void *volatile p = arg;
    (void)variant;
    free(p);
    free(p); /* "free(): double free detected in tcache 2" */
    sink++;
}

static NOINLINE void prepare_double_free(int variant)
{
    void *keep[8];
    int nkeep = variant + 1;
    for (int i = 0; i < nkeep; i++) {
        keep[i] = malloc(24 + 16 * i);
        memset(keep[i], 'k', 24);
    }
    char *buf = malloc(32 + 16 * variant);
    memset(buf, 'd', 32);
    crash_double_free(buf, variant);
    for (int i = 0; i < nkeep; i++)
        free(keep[i]);
}

/* ---- top_overflow: overwrite the top chunk's size ---------------------- */
static NOINLINE void crash_top_overflow(void *arg, int variant)
{
    char *victim = arg;
    /* victim is the last chunk before top; its usable size runs up to top's
     * size field, which an off-by-8 copy then overwrites */
    size_t chunk = ((size_t *)victim)[-1] & ~(size_t)7;
    size_t len = chunk - 8 + 8;
    memset(victim, 'A' + variant, len);
    void *volatile big = malloc(0x3000 + 0x100 * variant); /* "malloc(): corrupted top size" */
    sink += (long)(uintptr_t)big;
}

static NOINLINE void prepare_top_overflow(int variant)
{
    void *keep[8];
    int nkeep = variant;
    for (int i = 0; i < nkeep; i++)
        keep[i] = malloc(48 * (i + 1));
    char *victim = malloc(40 + 24 * variant);
    crash_top_overflow(victim, variant);
    for (int i = 0; i < nkeep; i++)
        free(keep[i]);
}

/* ---- stack_overflow: unbounded recursion with a local array ----------- */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static NOINLINE long crash_stack_overflow(long depth, int variant)
{
    volatile char frame[192];
    frame[0] = (char)depth;
    frame[variant * 16] = (char)variant;
    /* not a tail call: the result is used after the call */
    return crash_stack_overflow(depth + 1, variant) + frame[0];
}

static NOINLINE void stack_trampoline(void *arg, int variant)
{
    sink = crash_stack_overflow((long)(intptr_t)arg, variant);
}

static NOINLINE void prepare_stack_overflow(int variant)
{
    stack_trampoline((void *)(intptr_t)variant, variant);
}

/* ---- assert: assert() failure ------------------------------------------ */
static NOINLINE void crash_assert(void *arg, int variant)
{
    struct node *n = arg;
    assert(n->value < 100 && "queue length out of range");
    sink = n->value + variant;
}

static NOINLINE void prepare_assert(int variant)
{
    struct node n = {variant, 100 + 7 * variant, NULL, "q"};
    crash_assert(&n, variant);
}

/* ---- abort_msg: own message, then plain abort() ------------------------ */
static NOINLINE void crash_abort_msg(void *arg, int variant)
{
    const char *what = arg;
    char msg[128];
    size_t len = 0;
    const char *parts[] = {"bugs: fatal: invariant violated in ", what, " (variant ", NULL};
    for (int i = 0; parts[i]; i++) {
        size_t l = strlen(parts[i]);
        memcpy(msg + len, parts[i], l);
        len += l;
    }
    msg[len++] = (char)('0' + variant % 10);
    msg[len++] = ')';
    msg[len++] = '\n';
    (void)!write(2, msg, len);
    abort();
}

static NOINLINE void prepare_abort_msg(int variant)
{
    static const char *const where[] = {"scheduler", "journal", "index"};
    crash_abort_msg((void *)where[variant % 3], variant);
}

/* ---- readonly: write to a string literal (.rodata) --------------------- */
static NOINLINE void crash_readonly(void *arg, int variant)
{
    char *s = arg;
    for (int i = 0; i <= variant; i++)
        s[i] = (char)(s[i] & ~0x20); /* upcase in place: SEGV_ACCERR */
}

static NOINLINE const char *pick_name(int variant)
{
    static const char *const names[] = {"alpha", "bravo", "charlie", "delta"};
    return names[variant % 4];
}

static NOINLINE void prepare_readonly(int variant)
{
    char *name = (char *)pick_name(variant);
    crash_readonly(name, variant);
}

/* ---- dispatch ------------------------------------------------------------ */
static const struct {
    const char *name;
    void (*fn)(int);
} bugs[] = {
    {"null", prepare_null},
    {"double_free", prepare_double_free},
    {"top_overflow", prepare_top_overflow},
    {"stack_overflow", prepare_stack_overflow},
    {"assert", prepare_assert},
    {"abort_msg", prepare_abort_msg},
    {"readonly", prepare_readonly},
};

static NOINLINE int run_bug(const char *bug, int variant)
{
    for (size_t i = 0; i < sizeof bugs / sizeof bugs[0]; i++) {
        if (strcmp(bugs[i].name, bug) == 0) {
            bugs[i].fn(variant);
            return 0;
        }
    }
    return -1;
}

static void usage(void)
{
    static const char text[] =
        "usage: bugs BUG VARIANT\n"
        "  BUG: null double_free top_overflow stack_overflow assert abort_msg readonly\n"
        "  VARIANT: 1..7\n";
    (void)!write(2, text, sizeof text - 1);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        usage();
        return 2;
    }
    int variant = atoi(argv[2]);
    if (variant < 1 || variant > 7) {
        usage();
        return 2;
    }
    if (run_bug(argv[1], variant) != 0) {
        usage();
        return 2;
    }
    static const char nocrash[] = "bugs: the bug did not crash\n";
    (void)!write(2, nocrash, sizeof nocrash - 1);
    return 3;
}
