// How CLI commands plug in: each command file registers itself with the CLI11 app. The CLI
// only parses arguments, opens the session and picks a renderer; the library computes.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "coresift/analysis/census.hpp"
#include "coresift/report/renderer.hpp"
#include "session.hpp"

namespace coresift::cli {

struct CommonArgs {
  std::vector<std::string> inputs;
  std::vector<std::string> maps_files;
  std::string sysroot;
  std::vector<std::string> module_dirs;
  std::vector<std::string> debug_dirs;
  std::vector<std::string> rule_files;
  bool no_debuginfo = false;
  bool debuginfod = false;
  bool json = false;
  bool csv = false;     // only where add_csv_option was called
  bool folded = false;  // only where add_folded_option was called
  OutputFormat format() const {
    return json ? OutputFormat::kJson : csv ? OutputFormat::kCsv : folded ? OutputFormat::kFolded : OutputFormat::kText;
  }
};

// Adds INPUT… and the options every command shares.
void add_common_options(CLI::App* cmd, CommonArgs& args, bool inputs_positional = true);
Options to_options(const CommonArgs& args);
// Adds --csv (excludes --json) to a table-shaped command.
void add_csv_option(CLI::App* cmd, CommonArgs& args);
// Adds --folded (collapsed stacks for flame graphs; excludes --json and --csv).
void add_folded_option(CLI::App* cmd, CommonArgs& args);

// Opens the session, runs `build` for the JSON document and prints it in the format the
// arguments ask for, through the command's renderers, with warnings on stderr. Returns the
// process exit status.
int run_report(const CommonArgs& args, const std::function<nlohmann::json(Session&)>& build, const Renderers& renderers);

// Prints a command's document in the format the arguments ask for, with the strings from the
// core made safe for it.
void print_document(const CommonArgs& args, nlohmann::json& doc, const Renderers& renderers);

// Like run_report for commands that stream their own output (too big for one document).
int run_streamed(const CommonArgs& args, const std::function<void(Session&)>& write);

// One core opened, walked and censused (diff and report hold two, each made on its own
// thread); `error` is an InputError's message (exit 3), and then `session` is null.
struct CensusedCore {
  std::unique_ptr<Session> session;
  Census census;
  std::string error;
};
CensusedCore open_censused(const CommonArgs& args, const std::vector<std::string>& inputs);
// The session's warnings on stderr, and how many more were suppressed.
void print_warnings(const Session& s);

// Registration: every command file defines one of these; main.cpp calls them all.
using Runner = std::function<int()>;
void register_process_commands(CLI::App& app, Runner& run);
void register_heap_commands(CLI::App& app, Runner& run);
void register_analysis_commands(CLI::App& app, Runner& run);
void register_triage_command(CLI::App& app, Runner& run);
void register_diff_command(CLI::App& app, Runner& run);
void register_report_command(CLI::App& app, Runner& run);

// A bad rule file is a usage error (exit 2), found before any work is done.
bool rule_files_ok(const CommonArgs& args);

}  // namespace coresift::cli
