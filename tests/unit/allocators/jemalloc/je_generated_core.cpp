#include "allocators/jemalloc/je_generated_core.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "support/cli.hpp"

namespace coresift::test {

uint64_t hex(const nlohmann::json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }

namespace {

JeTruth read_truth(const std::string& path) {
  JeTruth t;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    if (j.contains("version")) t.version = j["version"];
    else if (j.contains("thread") && j.contains("tid")) t.threads.push_back(j);
    else if (j.contains("arena_stats")) t.bin_stats.push_back(j);
    else if (j.contains("p")) t.allocations.push_back(j);
    else if (j.contains("double_free")) t.double_frees.push_back(j);
    else if (j.contains("glibc_p")) t.glibc_allocations.push_back(j);
  }
  return t;
}

struct Made {
  std::unique_ptr<JeCore> core;
  std::string why_not;
  std::string dir;
  Made() = default;
  Made(Made&&) = default;
  ~Made() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);  // cores are 100+ MB
  }
};

}  // namespace

const JeCore* generated_je_core(const std::string& mode, const std::string& variant, std::string* why_not) {
  static std::map<std::string, Made> made;
  std::string key = mode + "-" + variant;
  auto it = made.find(key);
  if (it == made.end()) {
    Made m;
    char tmpl[] = "/tmp/coresift-je-XXXXXX";
    if (!mkdtemp(tmpl)) {
      m.why_not = "mkdtemp failed";
    } else {
      std::string dir = tmpl;
      m.dir = dir;
      std::string script = source_dir() + "/tests/unit/allocators/jemalloc/make_je_core.sh";
      std::string cmd = "bash '" + script + "' '" + dir + "' " + mode + " " + variant + " > '" + dir + "/make.log' 2>&1";
      int st = std::system(cmd.c_str());
      int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      if (rc == 0) {
        m.core = std::make_unique<JeCore>();
        m.core->dir = dir;
        m.core->core = dir + "/je.core";
        m.core->truth = read_truth(dir + "/truth.jsonl");
      } else {
        std::ifstream log(dir + "/make.log");
        std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
        m.why_not = (rc == 77 ? "cannot make a jemalloc core here: " : "making the jemalloc core failed: ") + text;
        if (rc != 77) m.why_not = "FAIL " + m.why_not;
      }
    }
    it = made.emplace(key, std::move(m)).first;
  }
  if (why_not) *why_not = it->second.why_not;
  return it->second.core.get();
}

bool prepare_je_context(je::Context& c, Session& s, ChunkTable& scratch) {
  c.process = &s.process();
  c.mem = &s.memory();
  c.out = &scratch;
  c.module = je::find_jemalloc_module(s.process());
  if (!c.module) return false;
  c.rw = je::writable_ranges(s.process(), s.memory(), *c.module);
  je::load_size_classes(c);
  return true;
}

}  // namespace coresift::test
