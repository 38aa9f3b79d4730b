#include "jvm_cores.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "support/cli.hpp"
#include "unit/input/temp_dir.hpp"

namespace coresift::test {
namespace {

bool complete(const std::string& dir) {
  for (const char* f : {"jdwp.core", "plain.core", "nmt.core", "jdwp.truth.json", "plain.truth.json", "nmt.truth.json",
                        "nmt.refs.json", "nmt.summary.txt"})
    if (!std::filesystem::exists(dir + "/" + f)) return false;
  return true;
}

std::string tail(const std::string& text, size_t n = 600) { return text.size() > n ? text.substr(text.size() - n) : text; }

JvmCores from_fixture(const std::string& dir) {
  JvmCores c{dir, "", read_text(dir + "/make.log"), 0};
  if (!complete(dir)) c.skip = "no JVM cores in " + dir + " (fixture jvm_cores_make: " + tail(c.log) + ")";
  return c;
}

JvmCores make_here() {
  static std::unique_ptr<TempDir> dir = std::make_unique<TempDir>();
  std::string script = source_dir() + "/corpus/jvm/make-jvm-cores.sh";
  std::string cmd = "bash " + shell_quote(script) + " " + shell_quote(dir->path()) + " " + std::to_string(kJvmClasses) + " " +
                    std::to_string(kJvmDeflaters) + " " + std::to_string(kJvmInflaters) + " > " +
                    shell_quote(dir->path() + "/make-here.log") + " 2>&1";  // complete when system() returns
  int st = std::system(cmd.c_str());
  JvmCores c{dir->path(), "", read_text(dir->path() + "/make-here.log"), WIFEXITED(st) ? WEXITSTATUS(st) : -1};
  if (c.status == 77) c.skip = "JVM cores cannot be made here: " + tail(c.log);
  return c;
}

}  // namespace

const JvmCores& jvm_cores() {
  static const JvmCores cores = [] {
    const char* dir = std::getenv("CORESIFT_JVM_CORES");
    return dir && *dir ? from_fixture(dir) : make_here();
  }();
  return cores;
}

}  // namespace coresift::test
