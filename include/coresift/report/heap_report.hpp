// Reports over the chunk table: `heap` (allocators, arenas, findings) and `chunks`.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "coresift/model/heap_model.hpp"

namespace coresift {

struct ChunkFilter {
  std::optional<ChunkState> state;  // nullopt = all
  uint64_t min_size = 0;
  uint64_t max_size = UINT64_MAX;
  std::optional<uint64_t> arena;    // arena address
};

nlohmann::json heap_json(const HeapModel& s);

std::string heap_text(const nlohmann::json& doc);
// Streams the chunk rows (JSON, a table or CSV) without
// building a document: a 10 M-chunk heap would otherwise need gigabytes.
enum class ChunkFormat { kJson, kText, kCsv };
void write_chunks(const HeapModel& s, const ChunkFilter& f, ChunkFormat fmt, std::ostream& out);

}  // namespace coresift
