// Raw memory ranges (FILE@0xBASE) without a core: placeholder until implemented.
#include "glibc.hpp"

namespace coresift::glibc {
bool raw_dump_looks_like_glibc(const Session&) { return false; }
void walk_raw_dumps(Session&, ChunkTable&) {}
}  // namespace coresift::glibc
