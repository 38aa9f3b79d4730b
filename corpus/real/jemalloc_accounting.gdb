# Sourced by make-real-cores.sh into gdb attached to a jemalloc process, right before gcore.
# Only the current thread runs during the call.  Options NULL: gdb would malloc a string
# argument inside the process.  The text goes to fd 2 (jemalloc's default malloc_message).
# jemalloc 5.3 allocates a 64 KiB buffer (buf_writer, arena 0) for the print before it reads
# its statistics and frees it afterwards: check_jemalloc.py takes that one extent off.
set pagination off
set confirm off
set scheduler-locking on
call (void) malloc_stats_print(0, 0, 0)
