/* je_truth_prog.c - a small jemalloc heap with known state, for the jemalloc walker tests.
 * Compiled and run by make_je_core.sh at test time (LD_PRELOAD=libjemalloc.so.2).
 *
 * usage: je_truth_prog TRUTH.jsonl wait|segv [corrupt|mixed]
 *
 * Four threads (main first, then three workers one after another) allocate small, large and
 * huge classes, then free part of them: some frees stay in the thread's tcache, one class
 * overflows its tcache bin so entries are flushed back to the slab bitmaps, large frees above
 * tcache_max return to the arena as extents.  `corrupt` adds two double frees in size class
 * 64: one pointer freed twice into the tcache (duplicate) and one freed, flushed to its slab,
 * then freed again into the tcache (free in the bitmap while cached).  `mixed` first allocates
 * from glibc's own malloc (__libc_malloc, as code that bypasses the preloaded allocator does),
 * frees some of those with __libc_free, and records them as {"glibc_p"…} lines: the process
 * then has two allocators with live chunks.
 *
 * Truth, one JSON object per line: {"version"…}, one {"thread"…} per thread, {"arena_stats"…}
 * per non-empty bin, then one {"p"…} per allocation (address, request, usable size, live,
 * thread, arena from arenas.lookup), then {"glibc_p"…} and {"double_free"…} entries.  Lines are formatted into a
 * stack buffer and written with write(2): no heap use while writing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef int (*mallctl_t)(const char*, void*, size_t*, void*, size_t);
static mallctl_t mc;
static int fd;

static void out(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0) (void)!write(fd, buf, (size_t)n);
}

static unsigned lookup_arena(void* p) {
  unsigned a = 9999;
  size_t sz = sizeof a;
  if (mc("arenas.lookup", &a, &sz, &p, sizeof p)) return 9999;
  return a;
}

#define NCLS 13
#define NTHREADS 4
#define MAXP 700
static const size_t sizes[NCLS] = {8, 24, 48, 100, 320, 1000, 3000, 14336, 20000, 30000, 100000, 1u << 20, 40};
static const int counts[NCLS] = {600, 300, 200, 150, 100, 60, 30, 10, 6, 5, 4, 3, 400};
struct rec { void* p; size_t usable; int live; unsigned arena; };
static struct rec recs[NTHREADS][NCLS][MAXP];
static void* huge[NTHREADS];
static size_t huge_usable[NTHREADS];
static unsigned huge_arena[NTHREADS];
static sem_t go[NTHREADS], done_sem;
static pid_t tids[NTHREADS];
static unsigned tarena[NTHREADS];
static void* dup_p;
static void* flushed_p;

/* glibc's malloc, reached by name whatever is preloaded. */
extern void* __libc_malloc(size_t);
extern void __libc_free(void*);
#define NGLIBC 7
static const size_t glibc_sizes[NGLIBC] = {24, 40, 100, 500, 2000, 5000, 300000};
static const int glibc_counts[NGLIBC] = {6, 5, 4, 3, 3, 3, 1};
static struct { void* p; size_t req, usable; int live; } glibc_recs[32];
static int nglibc;

static void glibc_allocations(void) {
  for (int c = 0; c < NGLIBC; ++c)
    for (int i = 0; i < glibc_counts[c]; ++i) {
      void* p = __libc_malloc(glibc_sizes[c]);
      memset(p, 0x60 + c, 16);
      size_t hdr = ((size_t*)p)[-1];  /* glibc's chunk header: size | flags (2 = mmapped) */
      glibc_recs[nglibc].p = p;
      glibc_recs[nglibc].req = glibc_sizes[c];
      glibc_recs[nglibc].usable = (hdr & ~(size_t)7) - ((hdr & 2) ? 16 : 8);
      glibc_recs[nglibc].live = 1;
      ++nglibc;
    }
  /* Free the second chunk of every class with more than two (tcache, or unsorted for 2000+). */
  for (int k = 0, c = 0; c < NGLIBC; k += glibc_counts[c], ++c)
    if (glibc_counts[c] > 2) __libc_free(glibc_recs[k + 1].p), glibc_recs[k + 1].live = 0;
}

static void work(int t) {
  unsigned seed = 1u + (unsigned)t;
  for (int c = 0; c < NCLS; ++c)
    for (int i = 0; i < counts[c]; ++i) {
      struct rec* r = &recs[t][c][i];
      r->p = malloc(sizes[c]);
      memset(r->p, 0x40 + c, sizes[c] < 64 ? sizes[c] : 64);
      r->usable = malloc_usable_size(r->p);
      r->arena = lookup_arena(r->p);
      r->live = 1;
    }
  huge[t] = malloc((size_t)10 << 20);  /* above oversize_threshold: the huge arena */
  huge_usable[t] = malloc_usable_size(huge[t]);
  huge_arena[t] = lookup_arena(huge[t]);
  for (int c = 0; c < NCLS; ++c)
    for (int i = 0; i < counts[c]; ++i) {
      struct rec* r = &recs[t][c][i];
      int f = (c == NCLS - 1) ? (i < 300) : ((i + t + (int)(rand_r(&seed) & 1)) % 3 == 0);
      if (f) {
        free(r->p);
        r->live = 0;
      }
    }
}

static void* worker(void* arg) {
  int t = (int)(intptr_t)arg;
  sem_wait(&go[t]);
  tids[t] = (pid_t)syscall(SYS_gettid);
  work(t);
  size_t sz = sizeof tarena[t];
  mc("thread.arena", &tarena[t], &sz, NULL, 0);
  sem_post(&done_sem);
  for (;;) pause();
  return NULL;
}

int main(int argc, char** argv) {
  mc = (mallctl_t)dlsym(RTLD_DEFAULT, "mallctl");
  if (!mc || argc < 3) {
    fprintf(stderr, "usage: LD_PRELOAD=libjemalloc.so.2 %s TRUTH wait|segv [corrupt|mixed]\n", argv[0]);
    return 2;
  }
  int corrupt = argc > 3 && !strcmp(argv[3], "corrupt");
  if (argc > 3 && !strcmp(argv[3], "mixed")) glibc_allocations();
  fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pthread_t th[NTHREADS];
  for (int t = 0; t < NTHREADS; ++t) sem_init(&go[t], 0, 0);
  sem_init(&done_sem, 0, 0);
  for (int t = 1; t < NTHREADS; ++t) pthread_create(&th[t], NULL, worker, (void*)(intptr_t)t);
  tids[0] = (pid_t)syscall(SYS_gettid);
  work(0);
  size_t sz = sizeof tarena[0];
  mc("thread.arena", &tarena[0], &sz, NULL, 0);
  for (int t = 1; t < NTHREADS; ++t) {
    sem_post(&go[t]);
    sem_wait(&done_sem);
  }
  if (corrupt) {
    dup_p = malloc(64);
    flushed_p = malloc(64);
    free(flushed_p);
    mc("thread.tcache.flush", NULL, NULL, NULL, 0);
    free(flushed_p);  /* free in its slab bitmap and now cached as well */
    free(dup_p);
    free(dup_p);      /* cached twice */
  }
  const char* ver = "";
  sz = sizeof ver;
  mc("version", &ver, &sz, NULL, 0);
  unsigned narenas = 0;
  sz = sizeof narenas;
  mc("arenas.narenas", &narenas, &sz, NULL, 0);
  out("{\"version\":\"%s\",\"narenas\":%u,\"pid\":%d}\n", ver, narenas, (int)getpid());
  for (int t = 0; t < NTHREADS; ++t) out("{\"thread\":%d,\"tid\":%d,\"arena\":%u}\n", t, (int)tids[t], tarena[t]);
  uint64_t epoch = 1;
  sz = sizeof epoch;
  mc("epoch", &epoch, &sz, &epoch, sz);
  for (unsigned a = 0; a < narenas; ++a)
    for (unsigned b = 0; b < 36; ++b) {
      char name[128];
      size_t cur = 0, slabs = 0, s1 = sizeof cur;
      snprintf(name, sizeof name, "stats.arenas.%u.bins.%u.curregs", a, b);
      if (mc(name, &cur, &s1, NULL, 0)) continue;
      snprintf(name, sizeof name, "stats.arenas.%u.bins.%u.curslabs", a, b);
      mc(name, &slabs, &s1, NULL, 0);
      if (cur || slabs) out("{\"arena_stats\":%u,\"bin\":%u,\"curregs\":%zu,\"curslabs\":%zu}\n", a, b, cur, slabs);
    }
  for (int t = 0; t < NTHREADS; ++t) {
    for (int c = 0; c < NCLS; ++c)
      for (int i = 0; i < counts[c]; ++i) {
        struct rec* r = &recs[t][c][i];
        out("{\"p\":\"0x%lx\",\"req\":%zu,\"usable\":%zu,\"live\":%d,\"thread\":%d,\"arena\":%u}\n", (unsigned long)r->p,
            sizes[c], r->usable, r->live, t, r->arena);
      }
    out("{\"p\":\"0x%lx\",\"req\":%zu,\"usable\":%zu,\"live\":1,\"thread\":%d,\"arena\":%u,\"huge\":1}\n",
        (unsigned long)huge[t], (size_t)10 << 20, huge_usable[t], t, huge_arena[t]);
  }
  for (int i = 0; i < nglibc; ++i)
    out("{\"glibc_p\":\"0x%lx\",\"req\":%zu,\"usable\":%zu,\"live\":%d}\n", (unsigned long)glibc_recs[i].p,
        glibc_recs[i].req, glibc_recs[i].usable, glibc_recs[i].live);
  if (corrupt)
    out("{\"double_free\":\"0x%lx\",\"kind\":\"duplicate\"}\n{\"double_free\":\"0x%lx\",\"kind\":\"flushed\"}\n",
        (unsigned long)dup_p, (unsigned long)flushed_p);
  close(fd);
  printf("READY\n");
  fflush(stdout);
  if (!strcmp(argv[2], "segv")) *(volatile int*)0 = 1;
  for (;;) pause();
}
