// Test support: run the real coresift binary and read corpus files and their truth.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace coresift::test {

struct CliResult {
  int status = -1;         // exit status when the process exited
  bool signaled = false;   // killed by a signal (always a failure)
  std::string out;
  std::string err;
};

// Runs CORESIFT_BINARY with `args` (no shell involved) and captures stdout and stderr.
CliResult run_cli(const std::vector<std::string>& args);
// Runs with --json and parses stdout (fails the test when it is not JSON).
nlohmann::json run_json(std::vector<std::string> args);

std::string source_dir();
std::string corpus_core(const std::string& name);  // path of corpus/cores/NAME
// Whether corpus_core(name) exists, called before the test case checks anything. A missing
// file of the committed corpus fails the test case; a regenerated corpus (CORESIFT_CORPUS_DIR,
// tests/e2e_regenerated.sh) holds only the cores this machine could make (no foreign suites, no
// census_je without libjemalloc), so there a missing one skips it (skip_test).
bool corpus_core_present(const std::string& name);
nlohmann::json corpus_truth(const std::string& stem);  // corpus/cores/STEM.truth.json
// Options that make corpus cores symbolize from a fresh clone at any path.
std::vector<std::string> corpus_module_args();

}  // namespace coresift::test
