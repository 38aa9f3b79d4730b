// A synthetic main heap of 2 M chunks, loaded as a raw range: every chunk must come back,
// and (hidden [.perf] case) the walk must stay within a few times one pass over the words.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <random>

#include "corpus.hpp"
#include "coresift/input/mapped_file.hpp"

using namespace glibc_test;

namespace {

struct Synthetic {
  std::vector<uint8_t> bytes;
  size_t chunks = 0, free_chunks = 0;
};

// tcache struct (0x290), then chunks of 0x20..0x400 (1 in 5 free with its neighbour's
// PREV_INUSE cleared, never two free in a row), then top.
Synthetic make_heap(size_t n) {
  Synthetic s;
  std::mt19937_64 rng(7);
  s.bytes.resize(n * 0x400 + 0x2000);
  auto put = [&](uint64_t off, uint64_t v) { std::memcpy(s.bytes.data() + off, &v, 8); };
  put(8, 0x291);  // an empty tcache_perthread_struct
  uint64_t off = 0x290;
  s.chunks = 1;
  bool prev_free = false;
  for (size_t i = 0; i < n; ++i) {
    uint64_t sz = 0x20 + 0x10 * (rng() % 0x3f);
    bool is_free = !prev_free && i + 1 < n && rng() % 5 == 0;  // never two in a row, never next to top
    put(off + 8, sz | (prev_free ? 0 : 1));
    if (is_free) {
      put(off + sz, sz);  // the next chunk's prev_size
      s.free_chunks++;
    }
    s.chunks++;
    prev_free = is_free;
    off += sz;
  }
  uint64_t end = (off + 0x1000 + 0xfff) & ~uint64_t{0xfff};
  put(off + 8, (end - off) | 1);  // top
  s.chunks++;
  s.bytes.resize(end);
  return s;
}

}  // namespace

TEST_CASE("synthetic 2M-chunk raw heap", "[glibc][raw]") {
  Synthetic h = make_heap(2'000'000);
  std::string f = temp_file("synthetic-heap.bin", h.bytes);
  auto s = open({f + "@0x555555600000"}, opts(true));
  const auto& t = s->heap();
  REQUIRE(t.allocators.size() == 1);
  CHECK(t.chunks.size() == h.chunks);
  size_t free_rows = 0, cached = 0;
  for (const auto& c : t.chunks) {
    free_rows += c.state == coresift::ChunkState::kFree && c.bin == coresift::ChunkBin::kUnbinned;
    cached += c.state == coresift::ChunkState::kLiveOrCached;
  }
  CHECK(free_rows == h.free_chunks);
  CHECK(cached > 0);
  CHECK(t.findings.empty());
}

TEST_CASE("walk speed against one pass over the words", "[.perf][glibc]") {
  Synthetic h = make_heap(4'000'000);
  std::string f = temp_file("synthetic-heap-perf.bin", h.bytes);
  auto t0 = std::chrono::steady_clock::now();
  uint64_t sum = 0;
  {
    coresift::Diagnostics diag;
    auto m = coresift::MappedFile::open(f, diag);  // mmapped, as a session maps it
    auto bytes = m->bytes();
    for (size_t i = 0; i + 8 <= bytes.size(); i += 8) {
      uint64_t v;
      std::memcpy(&v, bytes.data() + i, 8);
      sum += v;
    }
  }
  auto t1 = std::chrono::steady_clock::now();
  auto s = open({f + "@0x555555600000"}, opts(true));
  const auto& t = s->heap();
  auto t2 = std::chrono::steady_clock::now();
  double words = std::chrono::duration<double>(t1 - t0).count(), walk = std::chrono::duration<double>(t2 - t1).count();
  WARN("words " << words << " s (sum " << sum << "), walk " << walk << " s for " << t.chunks.size() << " chunks");
  CHECK(t.chunks.size() == h.chunks);
  CHECK(walk < 6 * words);
}
