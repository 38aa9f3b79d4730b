#include "support/cli.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

extern char** environ;

namespace coresift::test {
namespace {

std::string slurp_fd(int fd) {
  std::string s;
  char buf[65536];
  ssize_t n;
  lseek(fd, 0, SEEK_SET);
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  return s;
}

int temp_fd() {
  char name[] = "/tmp/coresift-test-XXXXXX";
  int fd = mkstemp(name);
  unlink(name);
  return fd;
}

}  // namespace

CliResult run_cli(const std::vector<std::string>& args) {
  // Output goes to unlinked temp files rather than pipes: no deadlock on large outputs.
  int out = temp_fd(), err = temp_fd();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  posix_spawn_file_actions_adddup2(&fa, err, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> full{CORESIFT_BINARY};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  CliResult r;
  if (posix_spawn(&pid, CORESIFT_BINARY, &fa, nullptr, argv.data(), environ) == 0) {
    int st = 0;
    waitpid(pid, &st, 0);
    r.signaled = WIFSIGNALED(st);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  posix_spawn_file_actions_destroy(&fa);
  r.out = slurp_fd(out);
  r.err = slurp_fd(err);
  close(out);
  close(err);
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

nlohmann::json corpus_truth(const std::string& stem) {
  std::ifstream f(corpus_core(stem + ".truth.json"));
  REQUIRE(f.good());
  return nlohmann::json::parse(f);
}

std::vector<std::string> corpus_module_args() { return {"--module-dir", corpus_core("bin")}; }

}  // namespace coresift::test
