// Helpers for the glibc walker tests: corpus paths, truth files, sessions, sysroots built
// from the corpus's copies of foreign libcs, and temp files for rewritten cores.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "coresift/allocators/chunk_table.hpp"
#include "cli/session.hpp"

namespace glibc_test {

// corpus/cores/<suite>/ ("" for the host files), with a trailing slash.
std::string cores_dir(const std::string& suite = "");
bool file_exists(const std::string& path);
nlohmann::json load_json(const std::string& path);

struct OpenOptions {
  bool no_debuginfo = false;
  std::string sysroot;
  std::vector<std::string> debug_dirs;
};
inline OpenOptions opts(bool no_debuginfo, std::string sysroot = "") {
  OpenOptions o;
  o.no_debuginfo = no_debuginfo;
  o.sysroot = std::move(sysroot);
  return o;
}
std::unique_ptr<coresift::Session> open(const std::vector<std::string>& inputs, const OpenOptions& o = {});

// A sysroot holding the suite's libc/ld.so (decompressed from corpus/cores/SUITE/lib), made
// once per test run; "" when the suite has no lib/ directory.
std::string sysroot_for(const std::string& suite);

// The decompressed bytes of a (possibly compressed) file.
std::vector<uint8_t> read_all(const std::string& path);
// A new file in a per-run temp directory.
std::string temp_file(const std::string& name, const std::vector<uint8_t>& bytes);

// Compares a chunk table with a census truth: every tracked live allocation must be a live
// row with the exact usable size; every freed one a free row in its observed bin (or the
// model's bin); munmapped ones must not be live rows. `raw` relaxes what a raw dump cannot
// know (see raw_dump_test.cpp).
struct CensusResult {
  int checked = 0, ok = 0;
  std::vector<std::string> problems;
};
CensusResult compare_census(const coresift::ChunkTable& t, const nlohmann::json& truth);

uint64_t hex(const nlohmann::json& j);  // "0x…" → value, null → 0
const coresift::Chunk* row_at(const coresift::ChunkTable& t, uint64_t user_ptr);
bool has_finding(const coresift::ChunkTable& t, const std::string& kind);

}  // namespace glibc_test
