/* objects.cpp - a heap of things coresift's signatures should name, with truth.
 *
 * Usage: objects TRUTH.json wait|segv      (C++17, link with -lz -pthread)
 *
 * Allocates, in known counts, polymorphic C++ objects (a global class, classes in a
 * namespace, a derived class, two instances of a class template), open zlib streams (two
 * deflate and two inflate streams: one of each with zlib's own allocator, one with this
 * program's allocator so every buffer zlib allocates is recorded in order), FILEs from
 * fopen with their buffers, chunks holding pointers to this program's functions, UTF-16
 * strings, JVM type signatures, text, zero-filled and random chunks, and a gzip header.
 * A worker thread blocks so that its DTV (calloc'd by pthread_create) is on the heap.
 *
 * The truth lists every tracked allocation with the signature it should get
 * ("allocations": address, signature, module: "exe" | "libz" | "libc" | null), plus
 * per-class counts. Then it prints READY and either waits (gcore) or writes through NULL
 * in objects_crash (kernel core).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "truth.h"

#include <gnu/libc-version.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <zlib.h>

#include <cstdint>
#include <new>

int main(int argc, char **argv);

/* ---- the classes ---------------------------------------------------------- */

struct Widget {
    virtual ~Widget() {}
    virtual int area() const { return w * h; }
    int w = 3, h = 4;
};

namespace app {
struct Session {
    virtual ~Session() {}
    virtual int kind() const { return 1; }
    uint64_t id = 0;
    int state = 7;
};
struct SecureSession : Session {
    int kind() const override { return 2; }
    uint64_t key[4] = {0x1111, 0x2222, 0x3333, 0x4444};
};
template <typename T>
struct Box {
    virtual ~Box() {}
    virtual T get() const { return value; }
    T value{};
};
}  // namespace app

/* ---- bookkeeping (no heap use of its own) ------------------------------------ */

#define MAX_RECS 256
struct rec {
    uint64_t addr;
    const char *signature;
    const char *module; /* "exe", "libz", "libc" or NULL */
    const char *what;
};
static struct rec g_rec[MAX_RECS];
static int g_nrec;
static void *g_keep[MAX_RECS]; /* keeps everything reachable */
static char g_exe_sig[96];     /* "ptr:" + the program's file name */

static void track(const void *p, const char *signature, const char *module, const char *what)
{
    if (g_nrec >= MAX_RECS)
        truth_die("too many records");
    g_keep[g_nrec] = const_cast<void *>(p);
    g_rec[g_nrec++] = {(uint64_t)(uintptr_t)p, signature, module, what};
}

/* ---- zlib with a recording allocator --------------------------------------- */

#define MAX_ZALLOCS 16
static void *g_zallocs[MAX_ZALLOCS];
static int g_nzallocs;

static voidpf recording_zalloc(voidpf, uInt items, uInt size)
{
    void *p = calloc(items, size);
    if (g_nzallocs < MAX_ZALLOCS)
        g_zallocs[g_nzallocs++] = p;
    return p;
}
static void recording_zfree(voidpf, voidpf p) { free(p); }

static unsigned char g_plain[16 * 1024];
static unsigned char g_packed[16 * 1024];
static unsigned char g_sink[32 * 1024];

static z_stream *new_stream(bool recording)
{
    z_stream *s = new z_stream();
    if (recording) {
        s->zalloc = recording_zalloc;
        s->zfree = recording_zfree;
    }
    return s;
}

/* deflateInit allocates, in this order: state, window, prev, head, pending_buf (zlib
 * 1.2.9-1.3.x deflateInit2_). */
static void open_deflate(bool recording)
{
    const char *mod = recording ? "exe" : "libz";
    g_nzallocs = 0;
    z_stream *s = new_stream(recording);
    /* the recording stream also uses a small window (2^10) and hash table (memLevel 2) */
    int rc = recording ? deflateInit2(s, 6, Z_DEFLATED, 10, 2, Z_DEFAULT_STRATEGY) : deflateInit(s, 6);
    if (rc != Z_OK)
        truth_die("deflateInit");
    s->next_in = g_plain;
    s->avail_in = sizeof g_plain / 2;
    s->next_out = g_sink;
    s->avail_out = sizeof g_sink;
    if (deflate(s, Z_NO_FLUSH) != Z_OK)
        truth_die("deflate");
    track(s, "zlib:z_stream", mod, "deflate z_stream");
    track(s->state, "zlib:deflate_state", mod, "deflate state");
    if (recording) {
        static const char *const names[] = {"zlib:deflate_state", "zlib:deflate_window", "zlib:deflate_prev",
                                            "zlib:deflate_head", "zlib:deflate_pending"};
        if (g_nzallocs != 5 || g_zallocs[0] != (void *)s->state)
            truth_die("unexpected deflateInit allocations");
        for (int i = 1; i < 5; i++)
            track(g_zallocs[i], names[i], mod, "deflate buffer");
    }
}

/* inflateInit allocates the state; the window comes with the first output. */
static void open_inflate(bool recording, uLong packed_len)
{
    const char *mod = recording ? "exe" : "libz";
    g_nzallocs = 0;
    z_stream *s = new_stream(recording);
    if (inflateInit(s) != Z_OK)
        truth_die("inflateInit");
    s->next_in = g_packed;
    s->avail_in = (uInt)packed_len / 2;
    s->next_out = g_sink;
    s->avail_out = sizeof g_sink;
    if (inflate(s, Z_NO_FLUSH) != Z_OK)
        truth_die("inflate");
    track(s, "zlib:z_stream", mod, "inflate z_stream");
    track(s->state, "zlib:inflate_state", mod, "inflate state");
    if (recording) {
        if (g_nzallocs != 2 || g_zallocs[0] != (void *)s->state)
            truth_die("unexpected inflate allocations");
        track(g_zallocs[1], "zlib:inflate_window", mod, "inflate window");
    }
}

static void build_zlib(void)
{
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof g_plain; i++) { /* compressible: words from a small alphabet */
        x = x * 1103515245u + 12345u;
        g_plain[i] = (unsigned char)("abcdefgh \n"[(x >> 16) % 10]);
    }
    uLongf packed_len = sizeof g_packed;
    /* compress() allocates and frees its own stream: freed chunks are not signed */
    if (compress2(g_packed, &packed_len, g_plain, sizeof g_plain, 6) != Z_OK)
        truth_die("compress2");
    open_deflate(false);
    open_deflate(true);
    open_inflate(false, packed_len);
    open_inflate(true, packed_len);
}

/* ---- the rest ------------------------------------------------------------------ */

#define N_WIDGET 5
#define N_SESSION 7
#define N_SECURE 3
#define N_BOX_INT 4
#define N_BOX_DOUBLE 2

struct callbacks {
    void (*on_open)(void);
    void (*on_close)(void);
    int id;
};
static __attribute__((noinline)) void cb_open(void) {}
static __attribute__((noinline)) void cb_close(void) {}

static void build_objects(void)
{
    for (int i = 0; i < N_WIDGET; i++)
        track(new Widget(), "class:Widget", "exe", "object");
    for (int i = 0; i < N_SESSION; i++)
        track(new app::Session(), "class:app::Session", "exe", "object");
    for (int i = 0; i < N_SECURE; i++)
        track(new app::SecureSession(), "class:app::SecureSession", "exe", "object");
    for (int i = 0; i < N_BOX_INT; i++)
        track(new app::Box<int>(), "class:app::Box<int>", "exe", "object");
    for (int i = 0; i < N_BOX_DOUBLE; i++)
        track(new app::Box<double>(), "class:app::Box<double>", "exe", "object");

    for (int i = 0; i < 4; i++) {
        callbacks *cb = (callbacks *)malloc(sizeof *cb);
        *cb = {cb_open, cb_close, i};
        track(cb, g_exe_sig, "exe", "function pointers");
    }

    /* UTF-16 strings (no digits, so the normalised name is the text itself) */
    static const char16_t *const wide[] = {u"Hello wide world", u"Program Files", u"Hello wide world"};
    static const char *const wide_sig[] = {"utf16:Hello wide world", "utf16:Program Files", "utf16:Hello wide world"};
    for (int i = 0; i < 3; i++) {
        size_t n = 0;
        while (wide[i][n]) n++;
        char16_t *w = (char16_t *)malloc((n + 1) * sizeof(char16_t));
        for (size_t k = 0; k <= n; k++) w[k] = wide[i][k];
        track(w, wide_sig[i], NULL, "utf-16 text");
    }

    /* JVM type signatures */
    static const char *const jvm[] = {"Ljava/lang/String;", "(Ljava/lang/Object;I)V", "[Ljava/util/Map$Entry;",
                                      "Ljava/lang/String;"};
    static const char *const jvm_sig[] = {"jvm-sig:Ljava/lang/String;", "jvm-sig:(Ljava/lang/Object;I)V",
                                          "jvm-sig:[Ljava/util/Map$Entry;", "jvm-sig:Ljava/lang/String;"};
    for (int i = 0; i < 4; i++) {
        char *s = (char *)malloc(strlen(jvm[i]) + 1);
        memcpy(s, jvm[i], strlen(jvm[i]) + 1);
        track(s, jvm_sig[i], NULL, "jvm signature");
    }

    /* plain text, like census */
    for (int i = 0; i < 3; i++) {
        char *s = (char *)malloc(40);
        memset(s, 0xc1, 40);
        snprintf(s, 40, "objects-note-%d", 100 + i);
        track(s, "text:objects-note-#", NULL, "text");
    }

    /* zero-filled, random (high entropy), and a gzip member header */
    for (int i = 0; i < 2; i++)
        track(calloc(1, 512), "zeros", NULL, "zeros");
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 2; i++) {
        unsigned char *r = (unsigned char *)malloc(1024);
        for (int k = 0; k < 1024; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            r[k] = (unsigned char)(x >> 24);
        }
        r[0] = 0x55; /* not a gzip/zstd magic by chance */
        track(r, "entropy:high", NULL, "random bytes");
    }
    unsigned char *gz = (unsigned char *)calloc(1, 64);
    gz[0] = 0x1f; gz[1] = 0x8b; gz[2] = 8;
    track(gz, "gzip:data", NULL, "gzip header (built-in rule)");
}

/* FILEs with their buffers: the buffer is malloc'd by the first read or write. */
#define N_FILES 3
static FILE *g_files[N_FILES];
static void build_files(const char *self)
{
    g_files[0] = fopen(self, "r");
    g_files[1] = fopen("/proc/self/cmdline", "r");
    g_files[2] = fopen("/dev/null", "w");
    for (int i = 0; i < N_FILES; i++)
        if (!g_files[i])
            truth_die("fopen");
    if (fgetc(g_files[0]) == EOF || fgetc(g_files[1]) == EOF || fputc('x', g_files[2]) == EOF)
        truth_die("stdio");
    for (int i = 0; i < N_FILES; i++) {
        track(g_files[i], "glibc:FILE", "libc", "FILE");
        track(g_files[i]->_IO_buf_base, "glibc:stdio_buffer", "libc", "stdio buffer");
    }
}

/* ---- threads ------------------------------------------------------------------- */

static sem_t g_worker_ready;
static pid_t g_worker_tid;
static uint64_t g_worker_dtv;

static void *worker_main(void *)
{
    g_worker_tid = corpus_gettid();
    /* x86-64 TCB: fs:0 is the TCB itself, fs:8 its DTV pointer (element 0 of an array
     * calloc'd by pthread_create, whose element -1 holds the length: 16 bytes before) */
    uint64_t dtv;
    __asm__ volatile("mov %%fs:8, %0" : "=r"(dtv));
    g_worker_dtv = dtv - 16;
    sem_post(&g_worker_ready);
    for (;;)
        pause();
    return NULL;
}

static __attribute__((noinline)) void objects_wait(void)
{
    for (;;)
        pause();
}

static __attribute__((noinline)) void objects_crash(void)
{
    *(volatile int *)0 = 1;
}

static void write_truth(const char *path, const char *mode)
{
    char name[32];
    pid_t tid = corpus_gettid();
    corpus_thread_name(tid, name, sizeof name);
    bool crash = strcmp(mode, "segv") == 0;
    const char *fn = crash ? "objects_crash" : "objects_wait";
    truth_open(path);
    truth_printf("{\n  \"schema\": \"%s\",\n  \"program\": \"objects\",\n", TRUTH_SCHEMA);
    truth_printf("  \"mode\": \"%s\",\n  \"pid\": %d,\n  \"glibc\": \"%s\",\n  \"zlib\": \"%s\",\n",
                 crash ? "crash" : "wait", (int)getpid(), gnu_get_libc_version(), zlibVersion());
    truth_printf("  \"threads\": [\n    {\"index\": 0, \"tid\": %d, \"name\": ", (int)tid);
    truth_str(name);
    truth_printf(", \"main_thread\": true, \"function\": \"%s\", \"chain\": [\"%s\", \"main\"]},\n", fn, fn);
    truth_printf("    {\"index\": 1, \"tid\": %d, \"main_thread\": false, \"function\": \"worker_main\", "
                 "\"chain\": [\"worker_main\"]}\n  ],\n", (int)g_worker_tid);
    truth_printf("  \"functions\": {\"main\": \"%p\", \"objects_wait\": \"%p\", \"objects_crash\": \"%p\", "
                 "\"worker_main\": \"%p\"},\n",
                 (void *)main, (void *)objects_wait, (void *)objects_crash, (void *)worker_main);
    if (crash)
        truth_printf("  \"crash\": {\"signal\": 11, \"signal_name\": \"SIGSEGV\", \"si_code\": 1, "
                     "\"thread_index\": 0, \"tid\": %d, \"function\": \"objects_crash\", "
                     "\"chain\": [\"objects_crash\", \"main\"], \"fault_addr\": \"0x0\"},\n", (int)tid);
    truth_printf("  \"class_counts\": {\"Widget\": %d, \"app::Session\": %d, \"app::SecureSession\": %d, "
                 "\"app::Box<int>\": %d, \"app::Box<double>\": %d},\n",
                 N_WIDGET, N_SESSION, N_SECURE, N_BOX_INT, N_BOX_DOUBLE);
    truth_printf("  \"structure_counts\": {\"zlib:z_stream\": 4, \"zlib:deflate_state\": 2, "
                 "\"zlib:inflate_state\": 2, \"glibc:FILE\": %d, \"glibc:stdio_buffer\": %d, "
                 "\"glibc:dtv\": 1, \"glibc:tcache\": 1},\n", N_FILES, N_FILES);
    truth_printf("  \"dtv_chunk\": \"0x%llx\",\n", (unsigned long long)g_worker_dtv);
    truth_printf("  \"allocations\": [\n");
    for (int i = 0; i < g_nrec; i++) {
        const struct rec *r = &g_rec[i];
        truth_printf("    {\"address\": \"0x%llx\", \"signature\": ", (unsigned long long)r->addr);
        truth_str(r->signature);
        truth_printf(", \"module\": ");
        if (r->module)
            truth_str(r->module);
        else
            truth_printf("null");
        truth_printf(", \"what\": ");
        truth_str(r->what);
        truth_printf("}%s\n", i + 1 < g_nrec ? "," : "");
    }
    truth_printf("  ]\n}\n");
    truth_close();
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "wait") != 0 && strcmp(argv[2], "segv") != 0)) {
        static const char usage[] = "usage: objects TRUTH.json wait|segv\n";
        (void)!write(2, usage, sizeof usage - 1);
        return 2;
    }
    const char *base = strrchr(argv[0], '/');
    snprintf(g_exe_sig, sizeof g_exe_sig, "ptr:%s", base ? base + 1 : argv[0]);
    /* the worker first: pthread_create callocs its DTV in the main arena */
    sem_init(&g_worker_ready, 0, 0);
    pthread_t th;
    if (pthread_create(&th, NULL, worker_main, NULL) != 0)
        truth_die("pthread_create");
    while (sem_wait(&g_worker_ready) != 0) {
    }
    track((void *)(uintptr_t)g_worker_dtv, "glibc:dtv", "libc", "worker DTV");
    build_objects();
    build_zlib();
    build_files(argv[0]);
    write_truth(argv[1], argv[2]);
    corpus_ready();
    if (strcmp(argv[2], "segv") == 0)
        objects_crash();
    objects_wait();
    return 0;
}
