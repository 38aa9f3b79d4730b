// report INPUT… [--baseline OLD…] -o report.html: one self-contained HTML page of everything
// the other commands compute (docs/report.md). With --baseline both sides are opened, walked
// and censused at once, one thread each, and the page adds the growth from OLD to INPUT.
#include <unistd.h>

#include <fstream>
#include <future>
#include <iostream>

#include "command.hpp"
#include "coresift/analysis/census.hpp"
#include "coresift/report/byte_strings.hpp"
#include "coresift/report/diff_report.hpp"
#include "coresift/report/html_report.hpp"

namespace coresift::cli {
namespace {

std::string report_text(const nlohmann::json&) { return "coresift: report: use -o FILE for the page or --json for its document\n"; }

}  // namespace

void register_report_command(CLI::App& app, Runner& run) {
  static CommonArgs args;
  static std::vector<std::string> baseline;
  static std::string output;
  static size_t top = 100;
  auto* cmd = app.add_subcommand("report", "one self-contained HTML page: summary, mappings, arenas, owners flame graph, "
                                           "groups, leaks, threads, findings; growth with --baseline");
  add_common_options(cmd, args);
  cmd->add_option("--baseline", baseline, "OLD: the old side (one core, v1); the page adds what grew from OLD to INPUT")
      ->expected(1)->allow_extra_args(false)->take_all();
  cmd->add_option("-o,--output", output, "write the HTML page to FILE");
  cmd->add_option("--top", top, "rows of the groups tables (0 = all; default 100)");
  cmd->callback([&] {
    run = [] {
      if (!rule_files_ok(args)) return 2;
      if (output.empty() && !args.json) {
        std::cerr << "coresift: report: -o FILE (the HTML page) or --json (its document) is required\n";
        return 2;
      }
      if (!baseline.empty() && (baseline.size() != 1 || args.inputs.size() != 1)) {
        std::cerr << "coresift: report: with --baseline, give exactly one OLD core and one INPUT core\n";
        return 2;
      }
      const bool tty = isatty(STDERR_FILENO);
      if (tty) std::cerr << "\rreport: reading and walking " << (baseline.empty() ? "the core…" : "both cores…") << std::flush;
      std::future<CensusedCore> old_side;
      if (!baseline.empty()) old_side = std::async(std::launch::async, open_censused, std::cref(args), baseline);
      CensusedCore new_side = open_censused(args, args.inputs);
      CensusedCore old_s;
      if (old_side.valid()) old_s = old_side.get();
      for (const CensusedCore* s : {&old_s, &new_side})
        if (!s->error.empty()) {
          if (tty) std::cerr << "\r" << std::string(50, ' ') << "\r";
          std::cerr << "coresift: " << printable(bytes_as_utf8(s->error)) << "\n";
          return 3;
        }
      if (tty) std::cerr << "\r" << std::string(50, ' ') << "\rreport: analysing…" << std::flush;
      nlohmann::json doc;
      try {
        doc = report_json(new_side.session->heap_model(), new_side.census, top);
        if (old_s.session)
          doc["diff"] = diff_json(old_s.session->heap_model(), old_s.census, new_side.session->heap_model(),
                                  new_side.census, top);
      } catch (const InputError& e) {
        if (tty) std::cerr << "\r" << std::string(50, ' ') << "\r";
        std::cerr << "coresift: " << printable(bytes_as_utf8(e.what())) << "\n";
        return 3;
      }
      if (tty) std::cerr << "\r" << std::string(50, ' ') << "\r" << std::flush;
      if (old_s.session) print_warnings(*old_s.session);
      print_warnings(*new_side.session);
      make_json_safe(doc);
      if (!output.empty()) {
        std::ofstream out(output, std::ios::binary | std::ios::trunc);
        out << report_html(doc);
        out.close();
        if (!out) {
          std::cerr << "coresift: report: cannot write " << printable(bytes_as_utf8(output)) << "\n";
          return 3;
        }
      }
      if (args.json) print_document(args, doc, {report_text});
      return 0;
    };
  });
}

}  // namespace coresift::cli
