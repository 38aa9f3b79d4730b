// info, maps, threads, show.

#include "command.hpp"
#include "coresift/report/csv.hpp"
#include "coresift/report/process_report.hpp"
#include "input/parse_number.hpp"

namespace coresift::cli {

void register_process_commands(CLI::App& app, Runner& run) {
  static CommonArgs info_args, maps_args, threads_args, show_args;
  static std::vector<std::string> show_positional;
  static uint64_t show_length = 64;

  auto* info = app.add_subcommand("info", "process, signal, threads, modules and memory totals");
  add_common_options(info, info_args);
  info->callback([&] { run = [] { return run_report(info_args, [](Session& s) { return info_json(s.core()); }, {info_text}); }; });

  auto* maps = app.add_subcommand("maps", "pmap -X-like table of every mapping");
  add_common_options(maps, maps_args);
  add_csv_option(maps, maps_args);
  maps->callback([&] {
    run = [] { return run_report(maps_args, [](Session& s) { return maps_json(s.core()); }, {maps_text, [](const nlohmann::json& d) { return csv_table(d, kMapsCsv); }}); };
  });

  auto* threads = app.add_subcommand("threads", "every thread with registers and backtrace");
  add_common_options(threads, threads_args);
  add_csv_option(threads, threads_args);
  threads->callback([&] { run = [] { return run_report(threads_args, [](Session& s) { return threads_json(s.core()); }, {threads_text, threads_csv}); }; });

  auto* show = app.add_subcommand("show", "what holds ADDR (mapping, module, symbol) and a hexdump");
  show->add_option("inputs_and_address", show_positional, "INPUT… ADDR")->required()->expected(2, -1);
  add_common_options(show, show_args, false);
  show->add_option("--length,-n", show_length, "bytes to dump (default 64, at most 1 MiB)");
  show->callback([&] {
    run = [] {
      std::string a = show_positional.back();
      uint64_t addr = 0;
      if (!parse_hex(a, addr)) {
        std::cerr << "coresift: show: '" << a << "' is not a hex address\n";
        return 2;
      }
      show_args.inputs.assign(show_positional.begin(), show_positional.end() - 1);
      return run_report(show_args, [addr](Session& s) { return show_json(s.core(), addr, show_length); }, {show_text});
    };
  });
}

}  // namespace coresift::cli
