#include "allocators/jemalloc/je_generated_core.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "support/cli.hpp"
#include "support/skip.hpp"

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

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A core made by make_je_core.sh (exit status rc) in dir, or why not ("FAIL …" when making it
// failed, as opposed to this machine not being able to).
void take(Made& m, const std::string& dir, int rc, const std::string& log, const std::string& made_by) {
  if (rc == 0) {
    m.core = std::make_unique<JeCore>();
    m.core->dir = dir;
    m.core->core = dir + "/je.core";
    m.core->truth = read_truth(dir + "/truth.jsonl");
  } else if (rc == 77) {
    m.why_not = "cannot make a jemalloc core here (" + made_by + "): " + log;
  } else {
    m.why_not = "FAIL making the jemalloc core failed (" + made_by + ", status " + std::to_string(rc) + "): " + log;
  }
}

// The fixture's directory for this core (make_je_cores.sh, once per ctest run).
Made from_fixture(const std::string& root, const std::string& key) {
  Made m;  // dir stays empty: the fixture's cleanup removes the cores
  std::string dir = root + "/" + key, status = read_file(dir + "/status");
  if (status.empty()) {
    m.why_not = "FAIL the fixture je_cores_make left no " + dir + "/status";
    return m;
  }
  take(m, dir, std::stoi(status), read_file(dir + "/make.log"), "fixture je_cores_make, " + dir);
  return m;
}

// Run by hand, without the fixture: made once per test process, removed at exit.
Made make_here(const std::string& mode, const std::string& variant) {
  Made m;
  char tmpl[] = "/tmp/coresift-je-XXXXXX";
  if (!mkdtemp(tmpl)) {
    m.why_not = "FAIL mkdtemp failed";
    return m;
  }
  std::string dir = tmpl;
  m.dir = dir;
  std::string script = source_dir() + "/tests/unit/allocators/jemalloc/make_je_core.sh";
  std::string cmd = "bash '" + script + "' '" + dir + "' " + mode + " " + variant + " > '" + dir + "/make.log' 2>&1";
  int st = std::system(cmd.c_str());
  take(m, dir, WIFEXITED(st) ? WEXITSTATUS(st) : -1, read_file(dir + "/make.log"),
       "make_je_core.sh " + mode + " " + variant);
  return m;
}

}  // namespace

const JeCore* generated_je_core(const std::string& mode, const std::string& variant, std::string* why_not) {
  static std::map<std::string, Made> made;
  std::string key = mode + "-" + (variant.empty() ? "plain" : variant);
  auto it = made.find(key);
  if (it == made.end()) {
    const char* root = std::getenv("CORESIFT_JE_CORES");
    Made m = root && *root ? from_fixture(root, key) : make_here(mode, variant);
    it = made.emplace(key, std::move(m)).first;
  }
  if (why_not) *why_not = it->second.why_not;
  return it->second.core.get();
}

const JeCore* je_core_or_skip(const std::string& mode, const std::string& variant) {
  std::string why;
  const JeCore* c = generated_je_core(mode, variant, &why);
  if (!c) {
    if (why.rfind("FAIL", 0) == 0) FAIL(why);
    skip_test(why);
  }
  return c;
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
