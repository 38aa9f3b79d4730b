"""Fragmented glibc heap from Debian's python3 (run with PYTHONMALLOC=malloc).

Three worker threads (each gets its own glibc arena) and the main thread allocate bytes objects
of several sizes, lists and dicts, then drop every third one so the bins fill with free chunks of
many sizes; a few objects are big enough to be mmapped.  The main thread also fills nearly every
bin of the main arena.  Worker 1 leaks 40 blocks from its arena through ctypes (libc malloc, the
address dropped): their addresses go to LEAKS_FILE, the truth for the leak check.  Then every
thread waits, and the main thread writes READY_FILE (its pid) so
make-real-cores.sh can attach gdb.  Before the threads start, one mmapped chunk is placed at a
64 MiB aligned address.  Usage: py_fragment.py READY_FILE LEAKS_FILE ALIGNED_FILE
"""
import ctypes
import os
import sys
import threading

READY_FILE, LEAKS_FILE, ALIGNED_FILE = sys.argv[1:4]
keep = []          # everything that stays alive, reachable from a module global
ready = threading.Barrier(4)
done = threading.Event()


def fill(seed):
    objs = []
    sizes = [24, 40, 72, 100, 200, 500, 1000, 1500, 3000, 9000, 40000, 100000]
    for i in range(1500):
        size = sizes[(i * 7 + seed) % len(sizes)]
        objs.append(bytes([i % 251]) * size)
        if i % 10 == 0:
            objs.append({"k%d" % i: i, "v": [i, str(i)]})
        if i % 300 == seed:
            objs.append(bytearray(600 * 1024))   # above the mmap threshold
    del objs[::3]                                 # every third object freed
    keep.append(objs)


def leak_blocks():
    """malloc'd blocks nothing points to: only their (decimal) addresses are written out."""
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    lines = []
    for i in range(40):
        size = 40 + 97 * i
        addr = libc.malloc(size)
        ctypes.memset(addr, 0x5A, size)
        lines.append("%d %d\n" % (addr, size))
    with open(LEAKS_FILE, "w") as f:
        f.writelines(lines)


def mmapped_chunk_at_64mib_boundary():
    """A 1 MiB mmapped chunk placed at a 64 MiB aligned address (where glibc's arena heaps
    lie): the kernel puts a new mapping in the highest gap that fits, so a 1 MiB hole is
    punched at such an address in a PROT_NONE reservation first.  Retried a few times (a
    higher gap may exist); the chunk kept is recorded in ALIGNED_FILE (address or "none")."""
    libc = ctypes.CDLL(None)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    mib, got = 1 << 20, "none"
    for _ in range(8):
        r = libc.mmap(None, 192 * mib, 0, 0x22, -1, 0)  # PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS
        x = (r + 64 * mib - 1) & ~(64 * mib - 1)
        libc.munmap(x, mib)
        b = bytearray(mib - 32)  # malloc(mib - 31): an mmapped chunk of exactly 1 MiB
        user = ctypes.addressof((ctypes.c_char * 1).from_buffer(b))
        libc.munmap(r, x - r)
        libc.munmap(x + mib, r + 192 * mib - x - mib)
        if user - 16 == x:
            keep.append(b)
            got = "%d" % x
            break
    with open(ALIGNED_FILE, "w") as f:
        f.write(got + "\n")


def fill_every_bin():
    """One size per glibc bin (small bins 160..1008, large bins to 100 KB), 30 objects of each,
    interleaved, every third dropped: more than tcache's 7 per size, with live neighbours,
    so nearly every bin of the main arena ends up non-empty."""
    chunk_sizes = list(range(160, 1024, 16)) + list(range(1024, 3136, 64)) + \
        list(range(3136, 10752, 512)) + list(range(10752, 45056, 4096)) + \
        [60000, 100000]
    objs = [bytes(cs - 48) for _ in range(30) for cs in chunk_sizes]
    del objs[::3]
    keep.append(objs)


def worker(seed):
    fill(seed)
    if seed == 1:
        leak_blocks()
    ready.wait()
    done.wait()


mmapped_chunk_at_64mib_boundary()
threads = [threading.Thread(target=worker, args=(s,), name="frag-%d" % s) for s in (1, 2, 3)]
for t in threads:
    t.start()
fill(0)
fill_every_bin()
ready.wait()
with open(READY_FILE + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(READY_FILE + ".tmp", READY_FILE)
done.wait()
