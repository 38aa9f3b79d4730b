// The OpenJDK 17 cores of corpus/jvm/make-jvm-cores.sh, shared by every JVM test: ctest makes
// them once per run (fixture jvm_cores, directory in CORESIFT_JVM_CORES); a test binary run by
// hand makes them once per process. JVM cores are too big to commit.
#pragma once
#include <string>

namespace coresift::test {

// The same N classes, D deflaters and I inflaters for every JVM core.
constexpr int kJvmClasses = 3000;
constexpr int kJvmDeflaters = 200;
constexpr int kJvmInflaters = 300;

struct JvmCores {
  std::string dir;   // jdwp.core, plain.core, nmt.core and their *.truth.json, …
  std::string skip;  // why they cannot be made here (for skip_test); empty when they can
  std::string log;   // the maker's output
  int status = 0;    // the maker's exit status (0, 77 = cannot here, else failed)
};

const JvmCores& jvm_cores();

}  // namespace coresift::test
