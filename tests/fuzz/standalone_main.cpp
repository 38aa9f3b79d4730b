// Drives LLVMFuzzerTestOneInput without libFuzzer (g++ builds): runs every seed, then a
// deterministic mutation loop over them. Mutations aim at what breaks binary readers:
// bit flips, cuts, and overwrites of length/offset-sized fields with boundary values.
//
//   fuzz_readers [-runs=N] [-max_total_time=SECONDS] [-seed=N] FILE_OR_DIR...
//
// On a crash or an escaping exception the current input is saved as
// standalone-crash-<seed>-<run> in the working directory.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Provided by the sanitizer runtimes when linked; lets us save the input before they exit.
extern "C" void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));

namespace {

using Bytes = std::vector<uint8_t>;

// The input being run, for the crash handlers (which may only use async-signal-safe calls).
const Bytes* g_current = nullptr;
char g_crash_name[64] = "standalone-crash";

void save_current() {
  if (!g_current) return;
  int fd = ::open(g_crash_name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  ssize_t ignored = ::write(fd, g_current->data(), g_current->size());
  (void)ignored;
  ::close(fd);
  const char msg[] = "standalone: input saved for reproduction\n";
  ignored = ::write(2, msg, sizeof msg - 1);
}

void on_signal(int sig) {
  save_current();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

class Rng {  // xorshift64*: fixed sequence for a given seed on every platform
 public:
  explicit Rng(uint64_t seed) : s_(seed ? seed : 1) {}
  uint64_t next() {
    s_ ^= s_ >> 12, s_ ^= s_ << 25, s_ ^= s_ >> 27;
    return s_ * 2685821657736338717ull;
  }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }

 private:
  uint64_t s_;
};

uint64_t boundary_value(Rng& r, uint64_t size) {
  const uint64_t v[] = {0,           1,           size,        size - 1,           size + 1,      0x7f,
                        0xff,        0xffff,      0x7fffffff,  0x80000000,         0xffffffff,    1ull << 32,
                        1ull << 47,  ~0ull,       ~0ull >> 1,  0x8000000000000000, ~0ull - 0xfff, r.next()};
  return v[r.below(std::size(v))];
}

void mutate(Bytes& b, Rng& r) {
  // Most header and note fields of a small core lie in its first KiB.
  auto offset = [&](uint64_t width) -> uint64_t {
    uint64_t span = b.size() < width ? 0 : b.size() - width + 1;
    if (span == 0) return 0;
    uint64_t o = r.below(2) ? r.below(std::min<uint64_t>(span, 1024)) : r.below(span);
    return r.below(4) ? o & ~(width - 1) : o;  // fields are usually aligned
  };
  switch (r.below(6)) {
    case 0:
      if (!b.empty()) b[r.below(b.size())] ^= static_cast<uint8_t>(1u << r.below(8));
      break;
    case 1:
      if (!b.empty()) b.resize(r.below(b.size()));
      break;
    case 2:
    case 3: {
      const uint64_t widths[] = {2, 4, 8};
      uint64_t w = widths[r.below(3)];
      if (b.size() < w) break;
      uint64_t v = boundary_value(r, b.size()), o = offset(w);
      std::memcpy(b.data() + o, &v, w);  // little-endian host: low bytes first
      break;
    }
    case 4:
      if (!b.empty()) b[offset(1)] = static_cast<uint8_t>(boundary_value(r, b.size()));
      break;
    case 5: {  // copy a slice elsewhere: duplicates headers and notes
      if (b.size() < 2) break;
      uint64_t from = r.below(b.size()), len = 1 + r.below(std::min<uint64_t>(b.size() - from, 256));
      uint64_t to = r.below(b.size() - len + 1);
      std::memmove(b.data() + to, b.data() + from, len);
      break;
    }
  }
}

Bytes read_all(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void run(const Bytes& b) {
  g_current = &b;
  LLVMFuzzerTestOneInput(b.data(), b.size());
  g_current = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t runs = 100000, seed = 1;
  double max_seconds = 20;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("-runs=", 0) == 0) {
      runs = std::strtoull(a.c_str() + 6, nullptr, 10);
    } else if (a.rfind("-max_total_time=", 0) == 0) {
      max_seconds = std::strtod(a.c_str() + 16, nullptr);
    } else if (a.rfind("-seed=", 0) == 0) {
      seed = std::strtoull(a.c_str() + 6, nullptr, 10);
    } else if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::directory_iterator(a))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      files.push_back(a);
    }
  }
  std::sort(files.begin(), files.end());  // directory order is not deterministic
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s [-runs=N] [-max_total_time=S] [-seed=N] FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  std::vector<Bytes> seeds;
  for (const auto& f : files) seeds.push_back(read_all(f));

  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(save_current);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, on_signal);
  std::set_terminate([] {
    try {
      if (std::current_exception()) std::rethrow_exception(std::current_exception());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "standalone: uncaught exception: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "standalone: uncaught exception of unknown type\n");
    }
    save_current();
    ::signal(SIGABRT, SIG_DFL);
    std::abort();
  });

  std::snprintf(g_crash_name, sizeof g_crash_name, "standalone-crash-seedfile");
  for (const Bytes& s : seeds) run(s);

  Rng rng(seed);
  auto start = std::chrono::steady_clock::now();
  uint64_t done = 0;
  for (; done < runs; ++done) {
    if ((done & 63) == 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > max_seconds)
      break;
    Bytes b = seeds[rng.below(seeds.size())];
    for (uint64_t n = 1 + rng.below(4); n > 0; --n) mutate(b, rng);
    std::snprintf(g_crash_name, sizeof g_crash_name, "standalone-crash-%llu-%llu",
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(done));
    run(b);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("standalone: %zu seeds, %llu mutants in %.1f s, no crash\n", seeds.size(),
              static_cast<unsigned long long>(done), secs);
  return 0;
}
