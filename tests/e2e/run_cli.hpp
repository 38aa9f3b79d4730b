// Runs the real coresift binary with a time limit, so a hang on hostile input fails a test
// instead of stalling the suite.
#pragma once
#include <string>
#include <vector>

namespace coresift::e2e {

struct Run {
  int status = -1;         // exit status, when the process exited
  bool signaled = false;   // killed by a signal (a crash, or our time limit)
  bool timed_out = false;  // still running after the limit, then killed
  std::string out, err;
  int err_lines() const;
};

// CORESIFT_BINARY with `args`, stdin from /dev/null, killed after `seconds`.
Run run_cli(const std::vector<std::string>& args, double seconds = 60);

}  // namespace coresift::e2e
