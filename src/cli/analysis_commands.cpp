// groups, leaks, owners.
#include "command.hpp"
#include "coresift/analysis/census.hpp"
#include "coresift/report/csv.hpp"
#include "coresift/report/folded.hpp"
#include "coresift/report/group_report.hpp"
#include "coresift/report/leak_report.hpp"
#include "coresift/report/owner_report.hpp"

namespace coresift::cli {

void register_analysis_commands(CLI::App& app, Runner& run) {
  static CommonArgs groups_args;
  static std::string group_by = "signature";
  static size_t top = 30;
  auto* groups = app.add_subcommand("groups", "live chunks grouped by size or signature, biggest first");
  add_common_options(groups, groups_args);
  groups->add_option("--by", group_by, "size, signature (default) or owner")->check(CLI::IsMember({"size", "signature", "owner"}));
  add_csv_option(groups, groups_args);
  add_folded_option(groups, groups_args);
  groups->add_option("--top", top, "show the N biggest groups (0 = all; default 30)");
  groups->callback([&] {
    run = [] {
      GroupBy by = group_by == "size" ? GroupBy::kSize : group_by == "owner" ? GroupBy::kOwner : GroupBy::kSignature;
      return run_report(groups_args,
                        [by](Session& s) {
                          if (groups_args.folded) return census_stacks_json(take_census(s.heap_model()));
                          return groups_json(s.heap_model(), by, top);
                        }, 
                        {groups_text, [](const nlohmann::json& d) { return csv_table(d, kGroupsCsv); }, stacks_folded});
    };
  });

  static CommonArgs leaks_args;
  static bool summary = false;
  auto* leaks = app.add_subcommand("leaks", "chunks nothing references (valgrind's definite/indirect/possible), by signature");
  add_common_options(leaks, leaks_args);
  leaks->add_flag("--summary", summary, "only the totals and groups, no per-chunk list (--csv: one row per group)");
  add_csv_option(leaks, leaks_args);
  leaks->callback([&] {
    run = [] {
      return run_report(leaks_args, [](Session& s) { return leaks_json(s.heap_model(), summary); }, 
                        {leaks_text, [](const nlohmann::json& d) { return csv_table(d, summary ? kLeakGroupsCsv : kLeaksCsv); }});
    };
  });

  static CommonArgs owners_args;
  static size_t owners_top = 0;
  auto* owners = app.add_subcommand("owners", "live bytes per owner (module, JVM agent, unknown), retained bytes from the dominator tree");
  add_common_options(owners, owners_args);
  add_csv_option(owners, owners_args);
  add_folded_option(owners, owners_args);
  owners->add_option("--top", owners_top, "show the N biggest owners (0 = all, the default)");
  owners->callback([&] {
    run = [] {
      return run_report(owners_args,
                        [](Session& s) {
                          if (owners_args.folded) return census_stacks_json(take_census(s.heap_model()));
                          return owners_json(s.heap_model(), owners_top);
                        }, 
                        {owners_text, [](const nlohmann::json& d) { return csv_table(d, kOwnersCsv); }, stacks_folded});
    };
  });
}

}  // namespace coresift::cli
