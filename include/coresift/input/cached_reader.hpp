// Reads of process memory that remember the last segment used: the allocator walkers read
// millions of small words, mostly from the segment of the read before, and a segment lookup
// per read (a binary search) would be most of their time. Bounds-checked like every read.
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>

#include "coresift/input/address_space.hpp"

namespace coresift {

class CachedReader {
 public:
  explicit CachedReader(const AddressSpace& as) : as_(&as) {}
  const AddressSpace& space() const { return *as_; }
  std::optional<uint64_t> u64(uint64_t a) const {
    uint64_t v;
    if (!read(a, &v, 8)) return std::nullopt;
    return v;
  }
  std::optional<uint32_t> u32(uint64_t a) const {
    uint32_t v;
    if (!read(a, &v, 4)) return std::nullopt;
    return v;
  }
  uint64_t u64_or(uint64_t a, uint64_t dflt) const { return u64(a).value_or(dflt); }
  bool read(uint64_t a, void* out, size_t n) const {
    const Segment* s = last_;
    if (!s || !s->has_bytes(a, n)) {
      s = as_->find(a);
      if (!s) return false;
      last_ = s;
      if (!s->has_bytes(a, n)) return as_->read(a, out, n) == n;
    }
    std::memcpy(out, s->data + (a - s->start), n);
    return true;
  }
  // Where the byte at `a` is in our memory when it is in the last segment used; else null.
  const uint8_t* host_address(uint64_t a) const {
    const Segment* s = last_;
    return s && a >= s->start && a - s->start < s->present ? s->data + (a - s->start) : nullptr;
  }
  bool present(uint64_t a, uint64_t n = 8) const {
    const Segment* s = as_->find(a);
    return s && s->has_bytes(a, n);
  }

 private:
  const AddressSpace* as_;
  mutable const Segment* last_ = nullptr;
};

}  // namespace coresift
