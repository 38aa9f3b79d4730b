// The memory of the dead process: virtual ranges backed by bytes of an input file, or
// known to exist but absent from it (p_filesz < p_memsz, truncated cores). Every read is
// bounds-checked; absent bytes are never reported as zeros.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace coresift {

enum Perm : uint8_t { kPermExec = 1, kPermWrite = 2, kPermRead = 4 };
std::string perms_string(uint8_t perms);  // "rwx"-style, '-' for missing

struct Segment {
  uint64_t start = 0;        // first virtual address
  uint64_t end = 0;          // one past the last virtual address
  const uint8_t* data = nullptr;  // bytes of [start, start + present)
  uint64_t present = 0;      // bytes available from the input (≤ end - start)
  uint8_t perms = 0;         // Perm bits
  uint32_t source = 0;       // index into AddressSpace::sources()
  uint64_t file_offset = 0;  // offset of `data` in that source (for messages)

  uint64_t size() const { return end - start; }
  bool contains(uint64_t a) const { return a >= start && a < end; }
  bool has_bytes(uint64_t a, uint64_t n) const {
    return a >= start && n <= present && a - start <= present - n;
  }
};

class AddressSpace {
 public:
  // Registers an input name; segments refer to it by index.
  uint32_t add_source(std::string name);
  // Adds a range. Call finalize() once all are added.
  void add(const Segment& s);
  // Sorts segments and trims overlaps: the earlier-added range wins every byte it covers,
  // whatever the order of start addresses. Returns the number of bytes of later ranges
  // that were shadowed, so the caller can warn.
  uint64_t finalize();

  const std::vector<Segment>& segments() const { return segments_; }
  const std::vector<std::string>& sources() const { return sources_; }

  // The segment holding `addr`, or null.
  const Segment* find(uint64_t addr) const;
  // Zero-copy view of [addr, addr+n) when those bytes are all present in one segment.
  std::span<const uint8_t> view(uint64_t addr, uint64_t n) const;
  // Copies up to n bytes starting at addr, crossing adjacent segments; stops at the first
  // absent or unmapped byte and returns how many bytes were copied.
  size_t read(uint64_t addr, void* out, size_t n) const;
  std::optional<uint64_t> read_u64(uint64_t addr) const;
  std::optional<uint32_t> read_u32(uint64_t addr) const;
  // NUL-terminated string of at most max_len bytes (no terminator found → nullopt).
  std::optional<std::string> read_cstring(uint64_t addr, size_t max_len = 4096) const;

  // The parts of [lo, hi) whose bytes are present, in address order, touching parts merged.
  // Scans that visit every word go over these: a damaged core can claim terabytes of mapping
  // with a few KiB present.
  std::vector<std::pair<uint64_t, uint64_t>> present_parts(uint64_t lo, uint64_t hi) const;

  bool is_mapped(uint64_t addr) const { return find(addr) != nullptr; }
  bool is_present(uint64_t addr, uint64_t n = 1) const;

  uint64_t total_mapped() const;
  uint64_t total_present() const;

 private:
  std::vector<Segment> segments_;
  std::vector<std::string> sources_;
};

}  // namespace coresift
