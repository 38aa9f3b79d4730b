// leaks (groups and owners follow).
#include "command.hpp"
#include "coresift/report/leak_report.hpp"

namespace coresift::cli {

void register_analysis_commands(CLI::App& app, Runner& run) {
  static CommonArgs leaks_args;
  static bool summary = false;
  auto* leaks = app.add_subcommand("leaks", "chunks nothing references (valgrind's definite/indirect/possible), by signature");
  add_common_options(leaks, leaks_args);
  leaks->add_flag("--summary", summary, "only the totals and groups, no per-chunk list");
  leaks->callback([&] { run = [] { return run_report(leaks_args, [](Session& s) { return leaks_json(s, summary); }, leaks_text); }; });
}

}  // namespace coresift::cli
