// Internal pieces of the Signer: module address ranges, the vtable table, known structures
// found by a pass over the chunk table, and content tests. All are built once and then only
// read, so classify() can run on several threads without locks.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "coresift/allocators/chunk_table.hpp"
#include "coresift/input/address_space.hpp"
#include "coresift/process/process.hpp"

namespace coresift::sig {

// Reads static data (vtables, typeinfo, type names) from memory, or, where the core left
// a read-only file page out (kernel cores do), from the module's file on disk when its
// build-id matched. Used only while the Signer is built (single-threaded).
class StaticReader {
 public:
  StaticReader(const AddressSpace& mem, const Process& p);
  ~StaticReader();
  std::optional<uint64_t> u64(uint64_t addr);
  std::optional<std::string> cstring(uint64_t addr, size_t max_len);

  size_t read(uint64_t addr, void* out, size_t n);

 private:
  const AddressSpace& mem_;
  const Process& p_;
  struct Files;
  std::unique_ptr<Files> files_;
};

// One PT_LOAD segment of a module (its memory size, so .bss included).
struct ModuleRange {
  uint64_t start = 0, end = 0;
  int module = -1;
  bool code = false;      // executable mapping
  bool evidence = true;   // counts for "ptr:" (false for glibc's own data: see ModuleMap)
};

class ModuleMap {
 public:
  // Segments come from each module's program headers (read from the core's first page of
  // the module, or its file), since cores may leave code mappings out entirely (gcore).
  ModuleMap(const Process& p, StaticReader& rd);
  const ModuleRange* find(uint64_t a) const {
    if (a < lo_ || a >= hi_) return nullptr;
    return find_slow(a);
  }
  const std::string& basename(int m) const { return basenames_[static_cast<size_t>(m)]; }
  size_t module_count() const { return basenames_.size(); }
  int libc() const { return libc_; }

 private:
  const ModuleRange* find_slow(uint64_t a) const;
  std::vector<ModuleRange> ranges_;
  std::vector<std::string> basenames_;
  uint64_t lo_ = UINT64_MAX, hi_ = 0;
  int libc_ = -1;
};

// A chunk's identity found before classification (structures recognised through pointers
// between chunks): chunk address → signature.
struct Known {
  std::string name;
  int module = -1;
};
using KnownMap = std::unordered_map<uint64_t, Known>;

// vtable address point → class, validated through the typeinfo (see vtables.cpp).
class VtableTable {
 public:
  void build(StaticReader& rd, const ModuleMap& mods, std::vector<uint64_t> candidates);
  struct Entry {
    uint64_t vtable;
    int module;
    std::string name;  // "class:app::Order"
  };
  const Entry* find(uint64_t v) const;

 private:
  std::vector<Entry> entries_;  // sorted by vtable
};

// JVM NMT malloc headers (nmt.cpp): category names read from libjvm, then a per-chunk test.
class NmtTable {
 public:
  void build(const AddressSpace& mem, const Process& p, const ModuleMap& mods, StaticReader& rd);
  // The category of a chunk that starts with a valid NMT header and footer, else null.
  const std::string* category(std::span<const uint8_t> v) const;
  int module() const { return module_; }
  bool empty() const { return names_.empty(); }

 private:
  std::vector<std::string> names_;
  int module_ = -1;
};

// Structures (structures.cpp). Each looks at one live chunk whose first word is w0.
void find_zlib(const AddressSpace& mem, const ModuleMap& mods, const ChunkTable& t, const Chunk& c, uint64_t w0,
               KnownMap& out);
void find_stdio_file(const AddressSpace& mem, const ModuleMap& mods, const ChunkTable& t, const Chunk& c,
                     KnownMap& out);
void find_dtvs(const AddressSpace& mem, const ModuleMap& mods, const Process& p, const ChunkTable& t, KnownMap& out);

// Content (content.cpp).
std::string leading_text(const AddressSpace& mem, std::span<const uint8_t> v);
std::string leading_utf16(const AddressSpace& mem, std::span<const uint8_t> v);  // decoded to ASCII
bool is_jvm_signature(const std::string& s);
double entropy_bits(std::span<const uint8_t> v);
bool may_be_random(std::span<const uint8_t> v);  // cheap test before entropy_bits

}  // namespace coresift::sig
