/* corrupt_top.c - overwrite the main arena's top chunk size, then make
 * malloc use top: glibc (>= 2.29) aborts with "malloc(): corrupted top size".
 *
 * Usage: corrupt_top TRUTH.json
 * The last allocated chunk is followed by top, so top = chunk + chunksize.
 * The new size is far larger than the arena's system_mem, which is what the
 * check in _int_malloc (use_top) tests.
 */
#define _GNU_SOURCE
#include "truth.h"

#include <gnu/libc-version.h>

#define BAD_TOP_SIZE 0x00007fffffff0001ULL /* > system_mem, PREV_INUSE set */
#define VICTIM_REQUEST 40
#define TRIGGER_REQUEST 0x10000

static __attribute__((noinline)) void *trigger_top_check(size_t n)
{
    volatile size_t local = n;
    corpus_ready();
    return malloc(local); /* aborts inside malloc */
}

static __attribute__((noinline)) void smash_top(unsigned char *victim)
{
    size_t csize = ((size_t *)victim)[-1] & ~(size_t)7;
    size_t *top_size = (size_t *)(victim - 16 + csize + 8);
    *top_size = BAD_TOP_SIZE;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        static const char usage[] = "usage: corrupt_top TRUTH.json\n";
        (void)!write(2, usage, sizeof usage - 1);
        return 2;
    }
    unsigned char *victim = malloc(VICTIM_REQUEST);
    if (!victim)
        truth_die("malloc");
    memset(victim, 0xc7, VICTIM_REQUEST);
    size_t vfield = ((size_t *)victim)[-1];
    uintptr_t vchunk = (uintptr_t)victim - 16;
    uintptr_t top = vchunk + (vfield & ~(size_t)7);
    size_t old_top_size = *(size_t *)(top + 8);

    char name[32];
    pid_t tid = corpus_gettid();
    corpus_thread_name(tid, name, sizeof name);
    truth_open(argv[1]);
    truth_printf("{\n  \"schema\": \"%s\",\n  \"program\": \"corrupt_top\",\n", TRUTH_SCHEMA);
    truth_printf("  \"mode\": \"crash\",\n  \"pid\": %d,\n  \"glibc\": \"%s\",\n",
                 (int)getpid(), gnu_get_libc_version());
    truth_printf("  \"threads\": [\n    {\"index\": 0, \"tid\": %d, \"name\": ", (int)tid);
    truth_str(name);
    truth_printf(", \"main_thread\": true, \"function\": \"trigger_top_check\", "
                 "\"chain\": [\"trigger_top_check\", \"main\"]}\n  ],\n");
    truth_printf("  \"functions\": {\"main\": \"%p\", \"trigger_top_check\": \"%p\", "
                 "\"smash_top\": \"%p\"},\n",
                 (void *)main, (void *)trigger_top_check, (void *)smash_top);
    truth_printf("  \"crash\": {\"signal\": 6, \"signal_name\": \"SIGABRT\", \"si_code\": -6, "
                 "\"thread_index\": 0, \"tid\": %d, \"function\": \"trigger_top_check\", "
                 "\"chain\": [\"trigger_top_check\", \"main\"], \"fault_addr\": null, "
                 "\"kind\": \"corrupted_top_size\", "
                 "\"message\": \"malloc(): corrupted top size\", "
                 "\"top_chunk\": \"0x%lx\", \"top_size_before\": \"0x%zx\", "
                 "\"top_size_written\": \"0x%llx\", \"victim\": \"0x%lx\", "
                 "\"trigger_request\": %d},\n",
                 (int)tid, (unsigned long)top, old_top_size, BAD_TOP_SIZE,
                 (unsigned long)victim, TRIGGER_REQUEST);
    truth_printf("  \"heap_checks\": [\n"
                 "    {\"what\": \"victim size field\", \"addr\": \"0x%lx\", \"value\": \"0x%zx\"},\n"
                 "    {\"what\": \"corrupted top size field\", \"addr\": \"0x%lx\", \"value\": \"0x%llx\"}\n"
                 "  ]\n}\n",
                 (unsigned long)(vchunk + 8), vfield, (unsigned long)(top + 8), BAD_TOP_SIZE);
    truth_close();

    smash_top(victim);
    trigger_top_check(TRIGGER_REQUEST);
    return 0;
}
