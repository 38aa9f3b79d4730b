// What a chunk is, from its content: a short, stable name used to group chunks.
// First cut: text (normalised prefix, digits and hex runs folded to '#'), all-zero, or the
// size. Vtables, module pointers, known structures and user rules come next (docs/status.md).
#pragma once
#include <string>

#include "coresift/allocators/chunk_table.hpp"
#include "coresift/input/address_space.hpp"

namespace coresift {

// "text:census-small-#", "zeros", "bytes:<first 8 bytes hex>", …
std::string chunk_signature(const AddressSpace& mem, const Chunk& c);
// The leading text of a chunk (within its first 32 bytes, skipping pointer words), or "".
std::string chunk_text(const AddressSpace& mem, const Chunk& c);
// Folds digit runs and long hex runs to '#', keeps at most 32 characters.
std::string normalise_text(const std::string& s);

}  // namespace coresift
