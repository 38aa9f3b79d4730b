// What a chunk is, from its content: a short, stable name used to group chunks, and the
// module whose code or data the content points at (evidence for the owners analysis).
//
// Evidence, strongest first: a user rule (--rules), a known structure (glibc internals, zlib
// streams, JVM NMT headers), a C++ vtable at offset 0 (class name from the typeinfo), a
// built-in rule (magic bytes, text prefixes), pointers into a module's code or static data,
// text (JVM descriptor, ASCII, UTF-16; normalised prefix), zeros, high entropy, size.
// docs/commands.md ("Signatures", "Rule files") lists every name.
#pragma once
#include <memory>
#include <string>

#include "coresift/allocators/chunk_table.hpp"
#include "coresift/input/address_space.hpp"

namespace coresift {

class HeapModel;

enum class SignatureSource : uint8_t {
  kRule,       // a rule from a rule file (or a built-in rule)
  kVtable,     // vtable pointer at offset 0 → "class:Name"
  kStructure,  // a known structure recognised by its fields → "zlib:inflate_state", …
  kModulePtr,  // pointers into a module → "ptr:libfoo.so"
  kText,       // "text:normalised-prefix"
  kZeros,      // "zeros"
  kBytes,      // "entropy:high" / "size:N" / "absent"
};
const char* signature_source_name(SignatureSource s);

struct Signature {
  std::string name;
  SignatureSource source = SignatureSource::kBytes;
  int module = -1;     // index into Process::modules the content is evidence for, or -1
  std::string owner;   // owner named by a rule ("jdwp"), else empty
};

// Classifies chunks of one session. Construction builds the caches it needs (module
// ranges, vtable → class names, rules); classify() is const and safe to call from several
// threads at once.
class Signer {
 public:
  explicit Signer(const HeapModel& s);
  ~Signer();
  Signature classify(const Chunk& c) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Content-only helpers (no module knowledge).
// The leading text of a chunk (within its first 32 bytes, skipping pointer words), or "".
std::string chunk_text(const AddressSpace& mem, const Chunk& c);
// Folds digit runs and long hex runs to '#', keeps at most 32 characters.
std::string normalise_text(const std::string& s);

}  // namespace coresift
