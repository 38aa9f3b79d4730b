#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#define NT 40
static pthread_barrier_t bar;
static void* thr(void* a) {
  long i = (long)a;
  void* p[20];
  for (int k = 0; k < 20; k++) p[k] = malloc(24 + 16 * (k % 5) + i);
  for (int k = 0; k < 20; k += 3) free(p[k]);
  pthread_barrier_wait(&bar);
  pause();
  return 0;
}
int main(int argc, char** argv) {
  int mode = argc > 1 ? atoi(argv[1]) : 0;
  FILE* out = fopen("edge.out", "w");
  if (mode & 1) {  /* memalign'd mmapped chunks */
    size_t al[] = {64, 4096, 65536, 1 << 20};
    for (int i = 0; i < 4; i++) { void* p = memalign(al[i], 300000 + i); fprintf(out, "memalign %zu %p usable %zu\n", al[i], p, malloc_usable_size(p)); }
    void* q = malloc(500000); fprintf(out, "mmap %p usable %zu\n", q, malloc_usable_size(q));
  }
  if (mode & 2) {  /* non-contiguous main arena: block the brk growth */
    void* a = malloc(100); fprintf(out, "first %p\n", a);
    char* brk = sbrk(0);
    void* blk = mmap(brk + 4096 * 4, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    fprintf(out, "blocker %p (brk %p)\n", blk, brk);
    for (int i = 0; i < 8; i++) { void* b = malloc(60000); fprintf(out, "big %p usable %zu\n", b, malloc_usable_size(b)); }
    void* c = malloc(100); fprintf(out, "after %p\n", c);
    free(malloc(200));
  }
  if (mode & 4) {  /* threads sharing arenas */
    pthread_barrier_init(&bar, 0, NT + 1);
    pthread_t t[NT];
    for (long i = 0; i < NT; i++) pthread_create(&t[i], 0, thr, (void*)i);
    pthread_barrier_wait(&bar);
  }
  fclose(out);
  printf("READY\n"); fflush(stdout);
  pause();
}
