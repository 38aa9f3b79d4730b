#include "coresift/input/address_space.hpp"

#include <algorithm>
#include <cstring>

#include "coresift/input/range_layers.hpp"

namespace coresift {

std::string perms_string(uint8_t p) {
  std::string s = "---";
  if (p & kPermRead) s[0] = 'r';
  if (p & kPermWrite) s[1] = 'w';
  if (p & kPermExec) s[2] = 'x';
  return s;
}

uint32_t AddressSpace::add_source(std::string name) {
  sources_.push_back(std::move(name));
  return static_cast<uint32_t>(sources_.size() - 1);
}

void AddressSpace::add(const Segment& s) {
  if (s.end <= s.start) return;
  Segment c = s;
  c.present = std::min(c.present, c.size());
  segments_.push_back(c);
}

uint64_t AddressSpace::finalize() {
  // Earlier inputs win byte by byte, whatever the order of start addresses: a later range
  // keeps only the parts no earlier range covers.
  std::vector<Range> ranges;
  ranges.reserve(segments_.size());
  uint64_t total = 0;
  for (const Segment& s : segments_) {
    ranges.push_back({s.start, s.end});
    total += s.size();
  }
  std::vector<Segment> visible;
  visible.reserve(segments_.size());
  uint64_t kept = 0;
  for (const RangePiece& p : layer_first_wins(ranges)) {
    Segment s = segments_[p.index];
    uint64_t skip = p.start - s.start;
    s.data = skip < s.present ? s.data + skip : nullptr;
    s.present = skip < s.present ? std::min(s.present - skip, p.end - p.start) : 0;
    s.file_offset += skip;
    s.start = p.start;
    s.end = p.end;
    kept += s.size();
    visible.push_back(s);
  }
  segments_ = std::move(visible);
  return total - kept;
}

const Segment* AddressSpace::find(uint64_t addr) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), addr,
                             [](uint64_t a, const Segment& s) { return a < s.start; });
  if (it == segments_.begin()) return nullptr;
  --it;
  return it->contains(addr) ? &*it : nullptr;
}

std::vector<std::pair<uint64_t, uint64_t>> AddressSpace::present_parts(uint64_t lo, uint64_t hi) const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  auto it = std::upper_bound(segments_.begin(), segments_.end(), lo,
                             [](uint64_t a, const Segment& s) { return a < s.start; });
  if (it != segments_.begin()) --it;
  for (; it != segments_.end() && it->start < hi; ++it) {
    uint64_t a = std::max(lo, it->start), b = std::min(hi, it->start + it->present);
    if (a >= b) continue;
    if (!out.empty() && out.back().second == a) out.back().second = b;
    else out.push_back({a, b});
  }
  return out;
}

std::span<const uint8_t> AddressSpace::view(uint64_t addr, uint64_t n) const {
  const Segment* s = find(addr);
  if (!s || !s->has_bytes(addr, n)) return {};
  return {s->data + (addr - s->start), n};
}

size_t AddressSpace::read(uint64_t addr, void* out, size_t n) const {
  auto* dst = static_cast<uint8_t*>(out);
  size_t done = 0;
  while (done < n) {
    const Segment* s = find(addr + done);
    if (!s) break;
    uint64_t off = addr + done - s->start;
    if (off >= s->present) break;
    size_t take = static_cast<size_t>(std::min<uint64_t>(n - done, s->present - off));
    std::memcpy(dst + done, s->data + off, take);
    done += take;
    if (addr + done < addr) break;  // wrapped around the address space
  }
  return done;
}

std::optional<uint64_t> AddressSpace::read_u64(uint64_t addr) const {
  uint64_t v;
  if (read(addr, &v, sizeof v) != sizeof v) return std::nullopt;
  return v;
}

std::optional<uint32_t> AddressSpace::read_u32(uint64_t addr) const {
  uint32_t v;
  if (read(addr, &v, sizeof v) != sizeof v) return std::nullopt;
  return v;
}

std::optional<std::string> AddressSpace::read_cstring(uint64_t addr, size_t max_len) const {
  std::string out;
  while (out.size() < max_len) {
    const Segment* s = find(addr + out.size());
    if (!s) return std::nullopt;
    uint64_t off = addr + out.size() - s->start;
    if (off >= s->present) return std::nullopt;
    size_t avail = static_cast<size_t>(std::min<uint64_t>(s->present - off, max_len - out.size()));
    const auto* p = s->data + off;
    const void* nul = std::memchr(p, 0, avail);
    if (nul) {
      out.append(reinterpret_cast<const char*>(p), static_cast<const uint8_t*>(nul) - p);
      return out;
    }
    out.append(reinterpret_cast<const char*>(p), avail);
  }
  return std::nullopt;
}

bool AddressSpace::is_present(uint64_t addr, uint64_t n) const {
  uint64_t done = 0;
  while (done < n) {
    const Segment* s = find(addr + done);
    if (!s) return false;
    uint64_t off = addr + done - s->start;
    if (off >= s->present) return false;
    done += s->present - off;
  }
  return true;
}

uint64_t AddressSpace::total_mapped() const {
  uint64_t t = 0;
  for (const auto& s : segments_) t += s.size();
  return t;
}

uint64_t AddressSpace::total_present() const {
  uint64_t t = 0;
  for (const auto& s : segments_) t += s.present;
  return t;
}

}  // namespace coresift
