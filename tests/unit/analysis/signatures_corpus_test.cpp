// Signer on the objects corpus cores (corpus/src/objects.cpp): every allocation the program
// recorded gets the signature and evidence module its truth names, and the class and
// structure groups have exactly the recorded counts — with symbols, without separate debug
// info, and with the program's binary stripped (class names come from typeinfo alone).
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <thread>

#include "coresift/analysis/signatures.hpp"
#include "cli/session.hpp"
#include "input/temp_dir.hpp"
#include "support/cli.hpp"

using namespace coresift;
using coresift::test::corpus_core;
using coresift::test::corpus_truth;
using nlohmann::json;

namespace {

std::string basename_of(const std::string& p) { return p.substr(p.rfind('/') + 1); }

// The truth's module names ("exe", "libz", "libc") against a module's file name.
bool module_matches(const Session& s, int module, const json& want, const json& truth) {
  if (want.is_null()) return module == -1;
  if (module < 0) return false;
  std::string base = basename_of(s.process().modules[static_cast<size_t>(module)].path);
  std::string w = want;
  if (w == "exe") return base == basename_of(truth["generator"]["binary"].get<std::string>());
  if (w == "libz") return base.starts_with("libz.so");
  if (w == "libc") return base.starts_with("libc.so");
  return false;
}

void check_objects_core(const std::string& stem, Options o) {
  json truth = corpus_truth(stem);
  o.inputs = {corpus_core(stem + ".core.zst")};
  auto s = Session::open(o);
  const ChunkTable& t = s->heap();
  Signer signer(s->heap_model());

  for (const auto& a : truth["allocations"]) {
    uint64_t addr = std::stoull(a["address"].get<std::string>(), nullptr, 16);
    INFO(stem << " " << a["what"].get<std::string>() << " at " << a["address"].get<std::string>());
    auto i = t.find(addr);
    REQUIRE(i);
    const Chunk& c = t.chunks[*i];
    REQUIRE(c.address == addr);
    Signature sig = signer.classify(c);
    CHECK(sig.name == a["signature"].get<std::string>());
    INFO("module index " << sig.module);
    CHECK(module_matches(*s, sig.module, a["module"], truth));
  }

  // Group counts over every live chunk: exactly what the program made.
  std::map<std::string, uint64_t> groups;
  for (const Chunk& c : t.chunks)
    if (c.state != ChunkState::kFree) groups[signer.classify(c).name]++;
  for (const auto& [cls, n] : truth["class_counts"].items()) {
    INFO("class " << cls);
    CHECK(groups["class:" + cls] == n.get<uint64_t>());
  }
  uint64_t classes = 0;
  for (const auto& [name, n] : groups)
    if (name.starts_with("class:")) classes += n;
  uint64_t want_classes = 0;
  for (const auto& [cls, n] : truth["class_counts"].items()) want_classes += n.get<uint64_t>();
  CHECK(classes == want_classes);  // no other chunk is taken for an object
  for (const auto& [name, n] : truth["structure_counts"].items()) {
    INFO("structure " << name);
    CHECK(groups[name] == n.get<uint64_t>());
  }
  // zlib buffers: one window/prev/head/pending per deflate stream, one window per inflate
  // stream (each one produced output).
  uint64_t deflates = truth["structure_counts"]["zlib:deflate_state"], inflates = truth["structure_counts"]["zlib:inflate_state"];
  for (const char* b : {"zlib:deflate_window", "zlib:deflate_prev", "zlib:deflate_head", "zlib:deflate_pending"}) {
    INFO(b);
    CHECK(groups[b] == deflates);
  }
  CHECK(groups["zlib:inflate_window"] == inflates);
}

}  // namespace

TEST_CASE("signatures: every objects allocation gets its recorded signature and module", "[e2e][signatures]") {
  for (std::string stem : {"objects.gcore", "objects.kcore"}) {
    DYNAMIC_SECTION(stem << " with debug info") {
      Options o;
      o.module_dirs = {corpus_core("bin")};
      check_objects_core(stem, o);
    }
    DYNAMIC_SECTION(stem << " --no-debuginfo") {
      Options o;
      o.module_dirs = {corpus_core("bin")};
      o.symbols.no_debuginfo = true;
      check_objects_core(stem, o);
    }
    DYNAMIC_SECTION(stem << " stripped binary") {
      // The stripped file has the same build-id; under the program's name in its own
      // directory, the session uses it instead of the one with symbols.
      test::TempDir dir;
      std::filesystem::copy_file(corpus_core("bin/objects-stripped"), dir.path() + "/objects");
      Options o;
      o.module_dirs = {dir.path()};
      o.symbols.no_debuginfo = true;
      check_objects_core(stem, o);
    }
  }
}

TEST_CASE("signatures: classify gives the same answers from several threads", "[e2e][signatures]") {
  Options o;
  o.inputs = {corpus_core("objects.kcore.core.zst")};
  o.module_dirs = {corpus_core("bin")};
  auto s = Session::open(o);
  const ChunkTable& t = s->heap();
  Signer signer(s->heap_model());
  std::vector<std::string> serial;
  for (const Chunk& c : t.chunks) serial.push_back(signer.classify(c).name);
  std::vector<std::vector<std::string>> parallel(4);
  std::vector<std::thread> threads;
  for (auto& out : parallel)
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        out.clear();
        for (const Chunk& c : t.chunks) out.push_back(signer.classify(c).name);
      }
    });
  for (auto& th : threads) th.join();
  for (const auto& out : parallel) CHECK(out == serial);
}

TEST_CASE("signatures: census chunks keep their text signatures and glibc internals are named", "[e2e][signatures]") {
  for (std::string stem : {"census.kcore", "census.gcore"}) {
    DYNAMIC_SECTION(stem) {
      json truth = corpus_truth(stem);
      Options o;
      o.inputs = {corpus_core(stem + ".core.zst")};
      o.module_dirs = {corpus_core("bin")};
      auto s = Session::open(o);
      const ChunkTable& t = s->heap();
      Signer signer(s->heap_model());
      std::map<std::string, std::string> prefix_of;
      for (const auto& c : truth["classes"]) prefix_of[c["name"]] = c["tag_prefix"];
      for (const auto& a : truth["allocations"]) {
        if (a["state"] != "live") continue;
        uint64_t addr = std::stoull(a["addr"].get<std::string>(), nullptr, 16);
        auto i = t.find(addr);
        REQUIRE(i);
        INFO(a["class"].get<std::string>() << " at " << a["addr"].get<std::string>());
        CHECK(signer.classify(t.chunks[*i]).name == "text:" + prefix_of[a["class"]] + "#");
      }
      // Each thread that malloc'd has one tcache; each worker's DTV was calloc'd.
      std::map<std::string, uint64_t> groups;
      for (const Chunk& c : t.chunks)
        if (c.state != ChunkState::kFree) groups[signer.classify(c).name]++;
      CHECK(groups["glibc:tcache"] == truth["threads"].size());
      CHECK(groups["glibc:dtv"] == truth["threads"].size() - 1);
    }
  }
}
