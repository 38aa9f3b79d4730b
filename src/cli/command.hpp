// How CLI commands plug in: each command file registers itself with the CLI11 app. The CLI
// only parses arguments, opens the session and picks a renderer; the library computes.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "coresift/session.hpp"

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
  bool csv = false;  // only where add_csv_option was called
};

// Adds INPUT… and the options every command shares.
void add_common_options(CLI::App* cmd, CommonArgs& args, bool inputs_positional = true);
Options to_options(const CommonArgs& args);
// Adds --csv (excludes --json) to a table-shaped command.
void add_csv_option(CLI::App* cmd, CommonArgs& args);

// Opens the session, runs `build` for the JSON document and prints it (JSON, CSV via `csv`
// when --csv was given, or text via `render`), with warnings on stderr. Returns the process
// exit status.
int run_report(const CommonArgs& args, const std::function<nlohmann::json(Session&)>& build,
               const std::function<std::string(const nlohmann::json&)>& render,
               const std::function<std::string(const nlohmann::json&)>& csv = {});

// Prints a command's document as --json, --csv (through `csv`) or text (through `render`),
// with the strings from the core made safe for each.
void print_document(const CommonArgs& args, nlohmann::json& doc,
                    const std::function<std::string(const nlohmann::json&)>& render,
                    const std::function<std::string(const nlohmann::json&)>& csv = {});

// Like run_report for commands that stream their own output (too big for one document).
int run_streamed(const CommonArgs& args, const std::function<void(Session&)>& write);

// Registration: every command file defines one of these; main.cpp calls them all.
using Runner = std::function<int()>;
void register_process_commands(CLI::App& app, Runner& run);
void register_heap_commands(CLI::App& app, Runner& run);
void register_analysis_commands(CLI::App& app, Runner& run);
void register_triage_command(CLI::App& app, Runner& run);

}  // namespace coresift::cli
