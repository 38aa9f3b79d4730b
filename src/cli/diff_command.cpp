// diff OLD NEW: what grew between two cores of one program. Both sides are opened, walked
// and censused at once, one thread each.
#include <unistd.h>

#include <future>
#include <iostream>

#include "command.hpp"
#include "coresift/report/byte_strings.hpp"
#include "coresift/report/diff_report.hpp"

namespace coresift::cli {
void register_diff_command(CLI::App& app, Runner& run) {
  static CommonArgs args;
  static size_t top = 30;
  auto* cmd = app.add_subcommand("diff", "what grew between two cores of one program: by signature, owner, size, arena, mapping; new leaks");
  add_common_options(cmd, args);
  cmd->get_option("inputs")->expected(2)->description("OLD NEW: two cores (or raw ranges FILE@0xSTART) of one program");
  add_csv_option(cmd, args);
  add_folded_option(cmd, args);
  cmd->add_option("--top", top, "show the N biggest group changes (0 = all; default 30)");
  cmd->callback([&] {
    run = [] {
      if (!rule_files_ok(args)) return 2;
      const bool tty = isatty(STDERR_FILENO);
      if (tty) std::cerr << "\rdiff: reading and walking both cores…" << std::flush;
      auto old_side = std::async(std::launch::async, open_censused, std::cref(args), std::vector<std::string>{args.inputs[0]});
      CensusedCore new_side = open_censused(args, {args.inputs[1]});
      CensusedCore old_s = old_side.get();
      if (tty) std::cerr << "\r" << std::string(40, ' ') << "\r" << std::flush;
      for (const CensusedCore* s : {&old_s, &new_side})
        if (!s->error.empty()) {
          std::cerr << "coresift: " << printable(bytes_as_utf8(s->error)) << "\n";
          return 3;
        }
      nlohmann::json doc = diff_json(old_s.session->heap_model(), old_s.census, new_side.session->heap_model(),
                                     new_side.census, top);
      print_warnings(*old_s.session);
      print_warnings(*new_side.session);
      print_document(args, doc, {diff_text, diff_csv, diff_folded});
      return 0;
    };
  });
}

}  // namespace coresift::cli
