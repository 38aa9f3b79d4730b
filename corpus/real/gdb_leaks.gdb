# Sourced by make-real-cores.sh (redis, cmake) before the accounting: three blocks malloc'd by the
# process's own allocator from gdb, whose addresses only gdb sees (registers are restored
# after the call): leaks by construction, the truth check_leaks.py reads from the gdb log.
set scheduler-locking on
printf "LEAK %lu %d\n", (unsigned long) malloc(48), 48
printf "LEAK %lu %d\n", (unsigned long) malloc(700), 700
printf "LEAK %lu %d\n", (unsigned long) malloc(20000), 20000
