/* crash_segv.c - SIGSEGV deep in a call chain while two named threads wait.
 *
 * Usage: crash_segv TRUTH.json [crash|wait]
 *   crash (default): main -> level_one -> level_two -> level_three ->
 *                    crash_here writes to (int *)0x10 -> SIGSEGV,
 *                    si_addr 0x10, si_code SEGV_MAPERR.
 *   wait: the same chain, but crash_here blocks in pause() (for gcore).
 * Threads "worker-1" and "worker-2" block in worker_wait() -> pause().
 */
#define _GNU_SOURCE
#include "truth.h"

#include <gnu/libc-version.h>

int main(int argc, char **argv);
#include <pthread.h>
#include <semaphore.h>

#define NWORKERS 2
#define FAULT_ADDR 0x10

static pid_t g_tids[NWORKERS + 1];
static char g_names[NWORKERS + 1][32];
static sem_t g_ready;
static int g_wait_mode;

static __attribute__((noinline)) void worker_wait(int idx)
{
    volatile int local_idx = idx;
    sem_post(&g_ready);
    for (;;)
        pause();
    (void)local_idx;
}

static void *worker_main(void *arg)
{
    int idx = (int)(intptr_t)arg;
    char name[16];
    snprintf(name, sizeof name, "worker-%d", idx);
    pthread_setname_np(pthread_self(), name);
    g_tids[idx] = corpus_gettid();
    worker_wait(idx);
    return NULL;
}

static __attribute__((noinline)) void crash_here(int depth)
{
    volatile int local4 = depth + 1;
    if (g_wait_mode) {
        corpus_ready();
        for (;;)
            pause();
    }
    corpus_ready();
    *(volatile int *)(uintptr_t)FAULT_ADDR = local4;
}

static __attribute__((noinline)) void level_three(int depth)
{
    volatile int local3 = depth + 1;
    crash_here(local3);
    local3++;
}

static __attribute__((noinline)) void level_two(int depth)
{
    volatile int local2 = depth + 1;
    level_three(local2);
    local2++;
}

static __attribute__((noinline)) void level_one(int depth)
{
    volatile int local1 = depth + 1;
    level_two(local1);
    local1++;
}

static void write_truth(const char *path)
{
    truth_open(path);
    truth_printf("{\n  \"schema\": \"%s\",\n  \"program\": \"crash_segv\",\n", TRUTH_SCHEMA);
    truth_printf("  \"mode\": \"%s\",\n  \"pid\": %d,\n  \"glibc\": \"%s\",\n",
                 g_wait_mode ? "wait" : "crash", (int)getpid(), gnu_get_libc_version());
    truth_printf("  \"threads\": [\n");
    for (int i = 0; i <= NWORKERS; i++) {
        truth_printf("    {\"index\": %d, \"tid\": %d, \"name\": ", i, (int)g_tids[i]);
        truth_str(g_names[i]);
        if (i == 0)
            truth_printf(", \"main_thread\": true, \"function\": \"crash_here\", "
                         "\"chain\": [\"crash_here\", \"level_three\", \"level_two\", "
                         "\"level_one\", \"main\"]},\n");
        else
            truth_printf(", \"main_thread\": false, \"function\": \"worker_wait\", "
                         "\"chain\": [\"worker_wait\", \"worker_main\"]}%s\n",
                         i < NWORKERS ? "," : "");
    }
    truth_printf("  ],\n");
    truth_printf("  \"functions\": {\"main\": \"%p\", \"level_one\": \"%p\", "
                 "\"level_two\": \"%p\", \"level_three\": \"%p\", \"crash_here\": \"%p\", "
                 "\"worker_main\": \"%p\", \"worker_wait\": \"%p\", \"write_truth\": \"%p\"},\n",
                 (void *)main, (void *)level_one, (void *)level_two, (void *)level_three,
                 (void *)crash_here, (void *)worker_main, (void *)worker_wait,
                 (void *)write_truth);
    if (g_wait_mode)
        truth_printf("  \"crash\": null,\n");
    else
        truth_printf("  \"crash\": {\"signal\": 11, \"signal_name\": \"SIGSEGV\", "
                     "\"si_code\": 1, \"thread_index\": 0, \"tid\": %d, "
                     "\"function\": \"crash_here\", \"chain\": [\"crash_here\", "
                     "\"level_three\", \"level_two\", \"level_one\", \"main\"], "
                     "\"fault_addr\": \"0x%x\"},\n", (int)g_tids[0], FAULT_ADDR);
    truth_printf("  \"heap_checks\": []\n}\n");
    truth_close();
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 ||
        (argc == 3 && strcmp(argv[2], "crash") != 0 && strcmp(argv[2], "wait") != 0)) {
        static const char usage[] = "usage: crash_segv TRUTH.json [crash|wait]\n";
        (void)!write(2, usage, sizeof usage - 1);
        return 2;
    }
    g_wait_mode = argc == 3 && strcmp(argv[2], "wait") == 0;
    g_tids[0] = corpus_gettid();
    sem_init(&g_ready, 0, 0);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 128 * 1024);
    pthread_t th[NWORKERS + 1];
    for (int i = 1; i <= NWORKERS; i++) {
        if (pthread_create(&th[i], &attr, worker_main, (void *)(intptr_t)i) != 0)
            truth_die("pthread_create");
        while (sem_wait(&g_ready) != 0) /* one worker at a time: stable tid order */
            ;
    }
    pthread_attr_destroy(&attr);
    for (int i = 0; i <= NWORKERS; i++)
        corpus_thread_name(g_tids[i], g_names[i], sizeof g_names[i]);

    write_truth(argv[1]);
    volatile int local0 = 0;
    level_one(local0);
    return 0;
}
