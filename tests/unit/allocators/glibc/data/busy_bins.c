// A main arena with almost every bin in use (issue #9: a busy main_arena was refused because
// fewer than 20 of its bins were empty). Chunks of each bin's size are allocated between live
// guards, all freed, then one malloc larger than any of them sorts them into their bins.
// glibc's own accounting (malloc_info) is written to argv[1], then the process aborts for a
// kernel core. usage: busy_bins TRUTH.xml
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>

static void* a[8192];
static void* g[8192];
static char out_buf[1 << 16];  // malloc_info must not allocate while it reports

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  FILE* out = fopen(argv[1], "w");
  if (!out) return 1;
  setvbuf(out, out_buf, _IOFBF, sizeof out_buf);
  int n = 0;
  for (size_t sz = 0x20; sz < 0x1f000;
       sz = sz < 0x400 ? sz + 0x10 : sz < 0x1000 ? sz + 0x40 : sz < 0x10000 ? sz + 0x200 : sz + 0x1000)
    for (int i = 0; i < (sz < 0x400 ? 9 : 1); ++i) {  // small sizes: past the 7 tcache slots
      a[n] = malloc(sz - 8);
      g[n++] = malloc(16);
    }
  for (int i = 0; i < n; ++i) free(a[i]);
  void* big = malloc(0x1f800);
  malloc_info(0, out);
  fflush(out);
  if (!big) return 1;
  abort();
}
