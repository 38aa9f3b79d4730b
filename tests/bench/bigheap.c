// Benchmark heap: about N live chunks spread over the main arena and two thread arenas,
// plus some frees, then either waits (for gcore) or crashes (kernel core).
// usage: bigheap TOTAL_CHUNKS wait|segv [LARGE_EVERY]
// LARGE_EVERY > 0 makes every LARGE_EVERY-th allocation 16-64 KiB (jemalloc's large extents;
// a quarter of them freed again) and frees one chunk in ten of the worker threads' at the end,
// for the jemalloc variant of the benchmark.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long per_thread;
static long large_every;
static pthread_barrier_t ready, done;

static void* fill(void* arg) {
  unsigned seed = (unsigned)(long)arg;
  void** keep = malloc(sizeof(void*) * (size_t)per_thread);
  for (long i = 0; i < per_thread; ++i) {
    size_t sz = 16 + (rand_r(&seed) % 24) * 16;  // 16..384 bytes: typical small objects
    if (large_every > 0 && i % large_every == large_every - 1) {
      keep[i] = malloc(16384 + (rand_r(&seed) % 48) * 1024);
      if (i % (4 * large_every) == large_every - 1) free(keep[i]), keep[i] = malloc(sz);
      continue;
    }
    keep[i] = malloc(sz);
    memset(keep[i], (int)(i & 0xff), sz < 64 ? sz : 64);
    if (i % 16 == 15) {  // a few frees so every bin kind has members
      free(keep[i - 7]);
      keep[i - 7] = malloc(sz / 2 + 8);
    }
  }
  if (large_every > 0)  // jemalloc variant: leave one region in ten free in its slab
    for (long i = 3; i < per_thread; i += 10) free(keep[i]), keep[i] = NULL;
  pthread_barrier_wait(&ready);
  pthread_barrier_wait(&done);  // never passes: keeps the arena and its chunks alive
  return keep;
}

int main(int argc, char** argv) {
  long total = argc > 1 ? atol(argv[1]) : 10000000;
  per_thread = total / 3;
  large_every = argc > 3 ? atol(argv[3]) : 0;
  pthread_barrier_init(&ready, NULL, 3);
  pthread_barrier_init(&done, NULL, 3);
  pthread_t t[2];
  for (long i = 0; i < 2; ++i) pthread_create(&t[i], NULL, fill, (void*)(i + 1));
  static void* main_result;
  // Main thread fills the main arena after the workers have taken their own arenas.
  main_result = malloc(1);
  pthread_barrier_t* unused = NULL;
  (void)unused;
  pthread_t self_fill;
  (void)self_fill;
  void** keep = malloc(sizeof(void*) * (size_t)per_thread);
  unsigned seed = 7;
  for (long i = 0; i < per_thread; ++i) keep[i] = malloc(16 + (rand_r(&seed) % 24) * 16);
  pthread_barrier_wait(&ready);
  printf("READY %ld\n", total);
  fflush(stdout);
  if (argc > 2 && strcmp(argv[2], "segv") == 0) raise(SIGSEGV);
  pause();
  return keep != NULL;
}
