/* double_free.c - free the same tcache-sized pointer twice.
 *
 * Usage: double_free TRUTH.json
 * glibc >= 2.29 detects it via the tcache key and aborts with
 * "free(): double free detected in tcache 2".
 */
#define _GNU_SOURCE
#include "truth.h"

#include <gnu/libc-version.h>

#define VICTIM_REQUEST 40

static __attribute__((noinline)) void free_twice(void *p)
{
    void *volatile local = p;
    free(local);
    corpus_ready();
    free(local); /* aborts */
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        static const char usage[] = "usage: double_free TRUTH.json\n";
        (void)!write(2, usage, sizeof usage - 1);
        return 2;
    }
    unsigned char *p = malloc(VICTIM_REQUEST);
    if (!p)
        truth_die("malloc");
    memset(p, 0xdf, VICTIM_REQUEST);
    size_t field = ((size_t *)p)[-1];

    char name[32];
    pid_t tid = corpus_gettid();
    corpus_thread_name(tid, name, sizeof name);
    truth_open(argv[1]);
    truth_printf("{\n  \"schema\": \"%s\",\n  \"program\": \"double_free\",\n", TRUTH_SCHEMA);
    truth_printf("  \"mode\": \"crash\",\n  \"pid\": %d,\n  \"glibc\": \"%s\",\n",
                 (int)getpid(), gnu_get_libc_version());
    truth_printf("  \"threads\": [\n    {\"index\": 0, \"tid\": %d, \"name\": ", (int)tid);
    truth_str(name);
    truth_printf(", \"main_thread\": true, \"function\": \"free_twice\", "
                 "\"chain\": [\"free_twice\", \"main\"]}\n  ],\n");
    truth_printf("  \"functions\": {\"main\": \"%p\", \"free_twice\": \"%p\"},\n",
                 (void *)main, (void *)free_twice);
    truth_printf("  \"crash\": {\"signal\": 6, \"signal_name\": \"SIGABRT\", \"si_code\": -6, "
                 "\"thread_index\": 0, \"tid\": %d, \"function\": \"free_twice\", "
                 "\"chain\": [\"free_twice\", \"main\"], \"fault_addr\": null, "
                 "\"kind\": \"double_free_tcache\", "
                 "\"message\": \"free(): double free detected in tcache 2\", "
                 "\"ptr\": \"0x%lx\", \"chunk\": \"0x%lx\", \"request\": %d, "
                 "\"chunk_size\": %zu, \"tcache_index\": %zu},\n",
                 (int)tid, (unsigned long)p, (unsigned long)(p - 16), VICTIM_REQUEST,
                 field & ~(size_t)7, ((field & ~(size_t)7) - 17) / 16);
    truth_printf("  \"heap_checks\": [\n"
                 "    {\"what\": \"victim size field\", \"addr\": \"0x%lx\", \"value\": \"0x%zx\"}\n"
                 "  ]\n}\n",
                 (unsigned long)(p - 8), field);
    truth_close();

    free_twice(p);
    return 0;
}
