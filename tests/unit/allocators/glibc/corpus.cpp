#include "corpus.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "coresift/input/mapped_file.hpp"

namespace glibc_test {
namespace fs = std::filesystem;
using nlohmann::json;

std::string cores_dir(const std::string& suite) {
  std::string d = std::string(CORESIFT_SOURCE_DIR) + "/corpus/cores/";
  return suite.empty() ? d : d + suite + "/";
}

bool file_exists(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

json load_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::unique_ptr<coresift::Session> open(const std::vector<std::string>& inputs, const OpenOptions& o) {
  coresift::Options opts;
  opts.inputs = inputs;
  opts.symbols.no_debuginfo = o.no_debuginfo;
  opts.symbols.sysroot = o.sysroot;
  opts.symbols.debug_dirs = o.debug_dirs;
  return coresift::Session::open(opts);
}

namespace {
// The per-run temp directory, removed when the test program exits.
struct RunDir {
  std::string path;
  RunDir() {
    path = (fs::temp_directory_path() / fmt::format("coresift-glibc-test-{}", ::getpid())).string();
    fs::create_directories(path);
  }
  ~RunDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};
}  // namespace

static std::string run_dir() {
  static RunDir dir;
  return dir.path;
}

std::vector<uint8_t> read_all(const std::string& path) {
  coresift::Diagnostics diag;
  auto f = coresift::MappedFile::open(path, diag);
  auto b = f->bytes();
  return {b.begin(), b.end()};
}

std::string temp_file(const std::string& name, const std::vector<uint8_t>& bytes) {
  std::string p = run_dir() + "/" + name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return p;
}

std::string sysroot_for(const std::string& suite) {
  static std::map<std::string, std::string> made;
  if (auto it = made.find(suite); it != made.end()) return it->second;
  std::string manifest = cores_dir(suite) + "lib/manifest.json";
  if (!file_exists(manifest)) return made[suite] = "";
  std::string root = run_dir() + "/sysroot-" + suite;
  json m = load_json(manifest);
  for (const json& lib : m["libraries"]) {
    std::string path = lib["path"].get<std::string>();
    std::vector<uint8_t> bytes = read_all(cores_dir(suite) + "lib/" + lib["file"].get<std::string>());
    fs::create_directories(fs::path(root + path).parent_path());
    {
      std::ofstream out(root + path, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    for (const json& alias : lib.value("aliases", json::array())) {
      std::string a = root + alias.get<std::string>();
      fs::create_directories(fs::path(a).parent_path());
      std::error_code ec;
      fs::remove(a, ec);
      fs::create_symlink(root + path, a, ec);
    }
  }
  return made[suite] = root;
}

uint64_t hex(const json& j) { return j.is_string() ? std::stoull(j.get<std::string>(), nullptr, 16) : 0; }

const coresift::Chunk* row_at(const coresift::ChunkTable& t, uint64_t user_ptr) {
  auto it = std::lower_bound(t.chunks.begin(), t.chunks.end(), user_ptr,
                             [](const coresift::Chunk& c, uint64_t a) { return c.address < a; });
  return it != t.chunks.end() && it->address == user_ptr ? &*it : nullptr;
}

bool has_finding(const coresift::ChunkTable& t, const std::string& kind) {
  return std::any_of(t.findings.begin(), t.findings.end(), [&](const coresift::Finding& f) { return f.kind == kind; });
}

CensusResult compare_census(const coresift::ChunkTable& t, const json& truth) {
  CensusResult r;
  for (const json& a : truth["allocations"]) {
    r.checked++;
    uint64_t addr = hex(a["addr"]);
    std::string bin = a.contains("observed_bin") && a["observed_bin"].is_string() ? a["observed_bin"].get<std::string>()
                      : a["bin"].is_string()                                          ? a["bin"].get<std::string>()
                                                                                      : "";
    const coresift::Chunk* c = row_at(t, addr);
    std::string what = fmt::format("id {} ({} of thread {}) at {:#x}", a["id"].get<int>(), a["class"].get<std::string>(),
                                   a["thread"].get<int>(), addr);
    if (bin == "unmapped") {
      if (c && c->state == coresift::ChunkState::kLive) r.problems.push_back(what + ": munmapped but reported live");
      else r.ok++;
      continue;
    }
    if (!c) {
      r.problems.push_back(what + ": no row");
      continue;
    }
    if (a["state"] == "live") {
      if (c->state == coresift::ChunkState::kLive && c->size == a["usable"].get<uint64_t>()) r.ok++;
      else
        r.problems.push_back(fmt::format("{}: expected live, usable {}; found {} size {}", what, a["usable"].get<uint64_t>(),
                                         coresift::state_name(c->state), static_cast<uint64_t>(c->size)));
    } else {
      const char* got = coresift::bin_name(c->bin);
      if (c->state == coresift::ChunkState::kFree && got && bin == got) r.ok++;
      else
        r.problems.push_back(fmt::format("{}: expected free in {}; found {} in {}", what, bin,
                                         coresift::state_name(c->state), got ? got : "-"));
    }
  }
  return r;
}

}  // namespace glibc_test
