#include "support/cli.hpp"

#include "e2e/run_cli.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/skip.hpp"

namespace coresift::test {

CliResult run_cli(const std::vector<std::string>& args) {
  // No practical time limit here (ctest's own applies); the hostile-input tests set tight ones.
  e2e::Run run = e2e::run_cli(args, 3600);
  CliResult r;
  r.status = run.status;
  r.signaled = run.signaled;
  r.out = std::move(run.out);
  r.err = std::move(run.err);
  return r;
}

nlohmann::json run_json(std::vector<std::string> args) {
  args.push_back("--json");
  CliResult r = run_cli(args);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.signaled);
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(r.out);
}

std::string source_dir() { return CORESIFT_SOURCE_DIR; }

// CORESIFT_CORPUS_DIR points the end-to-end tests at freshly regenerated cores.
std::string corpus_core(const std::string& name) {
  const char* dir = std::getenv("CORESIFT_CORPUS_DIR");
  return (dir && *dir ? std::string(dir) : source_dir() + "/corpus/cores") + "/" + name;
}

bool corpus_core_present(const std::string& name) {
  std::string path = corpus_core(name);
  if (std::filesystem::exists(path)) return true;
  const char* dir = std::getenv("CORESIFT_CORPUS_DIR");
  if (dir && *dir) {
    skip_test("the regenerated corpus in " + std::string(dir) + " has no " + name);
    return false;
  }
  FAIL("the committed corpus file " << path << " is missing");
  return false;
}

nlohmann::json corpus_truth(const std::string& stem) {
  std::ifstream f(corpus_core(stem + ".truth.json"));
  REQUIRE(f.good());
  return nlohmann::json::parse(f);
}

std::vector<std::string> corpus_module_args() { return {"--module-dir", corpus_core("bin")}; }

}  // namespace coresift::test
