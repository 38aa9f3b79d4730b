// Test support for the jemalloc walker: cores of je_truth_prog.c made at test time (gcore or
// kernel core) and its truth, one JSON object per line.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "allocators/jemalloc/je_context.hpp"
#include "cli/session.hpp"

namespace coresift::test {

struct JeTruth {
  std::string version;
  std::vector<nlohmann::json> threads;      // {"thread", "tid", "arena"}
  std::vector<nlohmann::json> allocations;  // {"p", "req", "usable", "live", "thread", "arena"}
  std::vector<nlohmann::json> bin_stats;    // {"arena_stats", "bin", "curregs", "curslabs"}
  std::vector<nlohmann::json> double_frees; // {"double_free", "kind"}
  std::vector<nlohmann::json> glibc_allocations;  // {"glibc_p", "req", "usable", "live"} (variant "mixed")
};

struct JeCore {
  std::string dir;
  std::string core;  // path of the core
  JeTruth truth;
};

// A core of je_truth_prog under the installed libjemalloc. Under ctest the fixture
// je_cores_make (make_je_cores.sh) makes every one once per run into CORESIFT_JE_CORES; run by
// hand the test process makes each once and removes it at exit.
// mode: "gcore" or "kcore"; nullptr with a reason when there is none: "FAIL …" when making it
// failed, else why this machine cannot make it.
// variant: "" (LD_PRELOAD), "corrupt" (two double frees), "static" (linked statically) or
// "mixed" (also chunks from glibc's own malloc).
const JeCore* generated_je_core(const std::string& mode, const std::string& variant, std::string* why_not);

// The same core for a test case, called before it checks anything: fails the test case when
// making the core failed; nullptr after skip_test() when this machine cannot make it (the test
// case then returns).
const JeCore* je_core_or_skip(const std::string& mode, const std::string& variant = "");

uint64_t hex(const nlohmann::json& v);

// A walker context over session `s` set up the way the walker sets it up (module, its
// writable ranges, size classes), rows going to `scratch`; false when no jemalloc is mapped.
bool prepare_je_context(je::Context& c, Session& s, ChunkTable& scratch);

}  // namespace coresift::test
