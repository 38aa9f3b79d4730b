#include "command.hpp"

#include "coresift/analysis/rules.hpp"
#include "coresift/report/byte_strings.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

namespace coresift::cli {

void add_common_options(CLI::App* cmd, CommonArgs& a, bool inputs_positional) {
  if (inputs_positional)
    cmd->add_option("inputs", a.inputs, "core files (.zst/.xz/.gz ok) and raw ranges FILE@0xSTART")->required();
  cmd->add_flag("--json", a.json, "print the JSON document (schema: docs/json-schema.md)");
  cmd->add_option("--maps", a.maps_files, "/proc/PID/maps or pmap -x text naming raw ranges")->expected(1)->allow_extra_args(false)->take_all();
  cmd->add_option("--sysroot", a.sysroot, "look for the process's files under DIR (cores from another machine)");
  cmd->add_option("--module-dir", a.module_dirs, "also look for executables and libraries by file name in DIR")->expected(1)->allow_extra_args(false)->take_all();
  cmd->add_option("--debug-dir", a.debug_dirs, "extra debug-info root, searched like /usr/lib/debug")->expected(1)->allow_extra_args(false)->take_all();
  cmd->add_flag("--no-debuginfo", a.no_debuginfo, "ignore separate debug info (use only what the binaries carry)");
  cmd->add_flag("--debuginfod", a.debuginfod, "allow downloading debug info from DEBUGINFOD_URLS");
  cmd->add_option("--rules", a.rule_files, "signature rule file (docs/commands.md, Rule files); may be repeated")->expected(1)->allow_extra_args(false)->take_all();
}

Options to_options(const CommonArgs& a) {
  Options o;
  o.inputs = a.inputs;
  o.maps_files = a.maps_files;
  o.module_dirs = a.module_dirs;
  o.rule_files = a.rule_files;
  o.symbols.sysroot = a.sysroot;
  o.symbols.debug_dirs = a.debug_dirs;
  o.symbols.no_debuginfo = a.no_debuginfo;
  o.symbols.debuginfod = a.debuginfod;
  return o;
}

// A bad rule file is a usage error (exit 2), found before any work is done.
bool rule_files_ok(const CommonArgs& args) {
  try {
    for (const std::string& f : args.rule_files) load_rule_file(f);
  } catch (const RuleError& e) {
    std::cerr << "coresift: " << e.what() << "\n";
    return false;
  }
  return true;
}

void print_warnings(const Session& s) {
  for (const Warning& w : s.diag().warnings())
    std::cerr << "coresift: warning: " << printable(bytes_as_utf8(w.to_string())) << "\n";
  if (s.diag().suppressed()) std::cerr << fmt::format("coresift: {} more warnings not shown\n", s.diag().suppressed());
}

CensusedCore open_censused(const CommonArgs& args, const std::vector<std::string>& inputs) {
  CensusedCore c;
  CommonArgs one = args;
  one.inputs = inputs;
  try {
    c.session = Session::open(to_options(one));
    c.census = take_census(c.session->heap_model());
  } catch (const InputError& e) {
    c.session.reset();
    c.error = e.what();
  }
  return c;
}

namespace {

std::string safe(const char* message) { return printable(bytes_as_utf8(message)); }

}  // namespace

void add_csv_option(CLI::App* cmd, CommonArgs& a) {
  cmd->add_flag("--csv", a.csv, "comma-separated values of the table (docs/commands.md, CSV)")->excludes("--json");
}

void add_folded_option(CLI::App* cmd, CommonArgs& a) {
  auto* opt = cmd->add_flag("--folded", a.folded, "collapsed stacks (owner;signature;size bytes) for flamegraph.pl, inferno, speedscope");
  opt->excludes("--json");
  if (cmd->get_option_no_throw("--csv")) opt->excludes("--csv");
}

int run_report(const CommonArgs& args, const std::function<nlohmann::json(Session&)>& build, const Renderers& renderers) {
  if (!rule_files_ok(args)) return 2;
  std::unique_ptr<Session> s;
  try {
    s = Session::open(to_options(args));
  } catch (const InputError& e) {
    std::cerr << "coresift: " << safe(e.what()) << "\n";
    return 3;
  }
  nlohmann::json doc;
  try {
    doc = build(*s);
  } catch (const InputError& e) {
    std::cerr << "coresift: " << safe(e.what()) << "\n";
    return 3;
  }
  print_warnings(*s);
  print_document(args, doc, renderers);
  return 0;
}

void print_document(const CommonArgs& args, nlohmann::json& doc, const Renderers& renderers) {
  // Strings from the core are bytes: made valid UTF-8 for JSON, and free of control
  // characters for the terminal (docs/json-schema.md, "Strings from the core").
  make_json_safe(doc);
  if (args.format() != OutputFormat::kJson) make_text_safe(doc);
  std::cout << render(doc, args.format(), renderers);
  std::cout.flush();
}

int run_streamed(const CommonArgs& args, const std::function<void(Session&)>& write) {
  if (!rule_files_ok(args)) return 2;
  std::unique_ptr<Session> s;
  try {
    s = Session::open(to_options(args));
    s->heap();  // walk first, so warnings come before the rows
  } catch (const InputError& e) {
    std::cerr << "coresift: " << safe(e.what()) << "\n";
    return 3;
  }
  print_warnings(*s);
  write(*s);
  std::cout.flush();
  return 0;
}

}  // namespace coresift::cli
