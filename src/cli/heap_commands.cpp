// heap, chunks.
#include <iostream>

#include "command.hpp"
#include "coresift/report/csv.hpp"
#include "coresift/report/heap_report.hpp"
#include "input/parse_number.hpp"

namespace coresift::cli {

void register_heap_commands(CLI::App& app, Runner& run) {
  static CommonArgs heap_args, chunks_args;
  static std::string state = "all";
  static uint64_t min_size = 0, max_size = UINT64_MAX;
  static std::string arena;
  static bool csv = false;

  auto* heap = app.add_subcommand("heap", "allocators, arenas, free bins, mmapped chunks and heap findings");
  add_common_options(heap, heap_args);
  add_csv_option(heap, heap_args);
  heap->callback([&] { run = [] { return run_report(heap_args, [](Session& s) { return heap_json(s.heap_model()); }, {heap_text, heap_csv}); }; });

  auto* chunks = app.add_subcommand("chunks", "one row per heap chunk");
  add_common_options(chunks, chunks_args);
  chunks->add_option("--state", state, "live, free, live-or-cached or all")
      ->check(CLI::IsMember({"live", "free", "live-or-cached", "all"}));
  chunks->add_option("--min-size", min_size, "smallest usable size to list");
  chunks->add_option("--max-size", max_size, "largest usable size to list");
  chunks->add_option("--arena", arena, "only chunks of the arena at this address");
  chunks->add_flag("--csv", csv, "comma-separated values instead of a table");
  chunks->callback([&] {
    run = [] {
      ChunkFilter f;
      if (state == "live") f.state = ChunkState::kLive;
      if (state == "free") f.state = ChunkState::kFree;
      if (state == "live-or-cached") f.state = ChunkState::kLiveOrCached;
      f.min_size = min_size;
      f.max_size = max_size;
      if (!arena.empty()) {
        // Not stoull: a typo is a usage error, not an escaping exception.
        uint64_t a = 0;
        if (!parse_hex(arena, a)) {
          std::cerr << "coresift: chunks: --arena '" << arena << "' is not a hex address\n";
          return 2;
        }
        f.arena = a;
      }
      ChunkFormat format = chunks_args.json ? ChunkFormat::kJson : csv ? ChunkFormat::kCsv : ChunkFormat::kText;
      return run_streamed(chunks_args, [f, format](Session& s) { write_chunks(s.heap_model(), f, format, std::cout); });
    };
  });
}

}  // namespace coresift::cli
