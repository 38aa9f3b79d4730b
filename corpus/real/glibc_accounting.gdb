# Sourced by make-real-cores.sh into gdb attached to a glibc process, right before gcore.
# Only the current thread runs during the calls; malloc_info writes to stderr (unbuffered,
# so stdio allocates nothing) and walks the arenas itself: the accounting gcore then saves.
set pagination off
set confirm off
set scheduler-locking on
python
# The arenas in malloc_info's <heap nr=N> order: main_arena, then its ->next chain.
start = int(gdb.parse_and_eval("&main_arena"))
cur, order = start, []
while cur and len(order) < 1024:
    order.append(cur)
    cur = int(gdb.parse_and_eval("((struct malloc_state *) %d)->next" % cur))
    if cur == start:
        break
print("ARENAS " + " ".join(hex(a) for a in order))
end
call (int) malloc_info(0, stderr)
