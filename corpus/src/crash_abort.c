/* crash_abort.c - abort() from main -> do_abort_chain -> call_abort.
 *
 * Usage: crash_abort TRUTH.json
 * Single-threaded.  SIGABRT is raised by glibc's abort() (raise ->
 * pthread_kill -> tgkill), so the innermost frames are in libc and si_code
 * is SI_TKILL (-6).
 */
#define _GNU_SOURCE
#include "truth.h"

#include <gnu/libc-version.h>

int main(int argc, char **argv);

static __attribute__((noinline)) void call_abort(int depth)
{
    volatile int local2 = depth + 1;
    corpus_ready();
    abort();
    (void)local2;
}

static __attribute__((noinline)) void do_abort_chain(int depth)
{
    volatile int local1 = depth + 1;
    call_abort(local1);
    local1++;
}

static void write_truth(const char *path)
{
    char name[32];
    pid_t tid = corpus_gettid();
    corpus_thread_name(tid, name, sizeof name);
    truth_open(path);
    truth_printf("{\n  \"schema\": \"%s\",\n  \"program\": \"crash_abort\",\n", TRUTH_SCHEMA);
    truth_printf("  \"mode\": \"crash\",\n  \"pid\": %d,\n  \"glibc\": \"%s\",\n",
                 (int)getpid(), gnu_get_libc_version());
    truth_printf("  \"threads\": [\n    {\"index\": 0, \"tid\": %d, \"name\": ", (int)tid);
    truth_str(name);
    truth_printf(", \"main_thread\": true, \"function\": \"call_abort\", "
                 "\"chain\": [\"call_abort\", \"do_abort_chain\", \"main\"]}\n  ],\n");
    truth_printf("  \"functions\": {\"main\": \"%p\", \"do_abort_chain\": \"%p\", "
                 "\"call_abort\": \"%p\", \"write_truth\": \"%p\"},\n",
                 (void *)main, (void *)do_abort_chain, (void *)call_abort, (void *)write_truth);
    truth_printf("  \"crash\": {\"signal\": 6, \"signal_name\": \"SIGABRT\", \"si_code\": -6, "
                 "\"thread_index\": 0, \"tid\": %d, \"function\": \"call_abort\", "
                 "\"chain\": [\"call_abort\", \"do_abort_chain\", \"main\"], "
                 "\"fault_addr\": null},\n", (int)tid);
    truth_printf("  \"heap_checks\": []\n}\n");
    truth_close();
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        static const char usage[] = "usage: crash_abort TRUTH.json\n";
        (void)!write(2, usage, sizeof usage - 1);
        return 2;
    }
    write_truth(argv[1]);
    volatile int local0 = 0;
    do_abort_chain(local0);
    return 0;
}
