/* truth.h - tiny helpers shared by the corpus programs to write their own
 * ground truth as JSON.
 *
 * Everything here avoids malloc on purpose: the programs build exact heap
 * states, and stdio (fopen/printf) would allocate FILE objects and buffers
 * on the heap being described.  Text is formatted with vsnprintf into a
 * stack buffer and written with write(2); the buffer is wiped afterwards.
 */
#ifndef CORPUS_TRUTH_H
#define CORPUS_TRUTH_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TRUTH_SCHEMA "coresift-corpus-truth/1"

static int truth_fd = -1;

static void truth_die(const char *what)
{
    /* no stdio: keep the heap untouched even on the error path */
    char msg[256];
    int n = snprintf(msg, sizeof msg, "corpus: %s (errno %d)\n", what, errno);
    if (n > 0)
        (void)!write(2, msg, (size_t)n);
    _exit(2);
}

static void truth_open(const char *path)
{
    truth_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (truth_fd < 0)
        truth_die("cannot open truth file");
}

static void truth_write_all(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(truth_fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            truth_die("write truth");
        }
        buf += w;
        len -= (size_t)w;
    }
}

__attribute__((format(printf, 1, 2)))
static void truth_printf(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        truth_die("truth line too long");
    truth_write_all(line, (size_t)n);
    memset(line, 0, sizeof line);
}

/* Write s as a JSON string literal (with quotes). */
static void truth_str(const char *s)
{
    char out[512];
    size_t o = 0;
    out[o++] = '"';
    for (; *s && o < sizeof out - 8; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            o += (size_t)snprintf(out + o, sizeof out - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    truth_write_all(out, o);
}

static void truth_close(void)
{
    if (fsync(truth_fd) != 0 && errno != EINVAL)
        truth_die("fsync truth");
    if (close(truth_fd) != 0)
        truth_die("close truth");
    truth_fd = -1;
}

static pid_t corpus_gettid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* Read /proc/self/task/<tid>/comm (the name the kernel, gdb and core notes
 * report for that thread) into buf without using stdio. */
static void corpus_thread_name(pid_t tid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
}

/* Tell the driver script that the truth file is complete. */
static void corpus_ready(void)
{
    static const char msg[] = "READY\n";
    (void)!write(1, msg, sizeof msg - 1);
}

#endif
