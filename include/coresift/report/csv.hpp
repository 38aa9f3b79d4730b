// CSV renderer for table-shaped documents: one row per element of one JSON array, chosen
// columns, RFC 4180 quoting. Every command that prints a table offers it as --csv.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace coresift {

struct CsvTable {
  std::string rows;                  // the document's array holding the table's rows
  std::vector<std::string> columns;  // keys of each row, in order; a missing key is empty
};

// Header line plus one line per row. Cells: strings quoted when needed, numbers as JSON
// writes them, null empty, arrays of scalars joined by spaces, other values as compact JSON.
std::string csv_table(const nlohmann::json& doc, const CsvTable& table);

// The tables of the analysis and process commands (docs/commands.md, "CSV").
extern const CsvTable kMapsCsv, kGroupsCsv, kLeaksCsv, kLeakGroupsCsv, kOwnersCsv;

// Documents whose table rows are nested: `heap` (one row per arena of every allocator) and
// `threads` (one row per frame of every thread, as eu-stack lists them).
std::string heap_csv(const nlohmann::json& doc);
std::string threads_csv(const nlohmann::json& doc);

}  // namespace coresift
