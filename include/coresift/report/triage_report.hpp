// The triage document of a batch of cores: one row per input (triaged, or the error that
// stopped it), the groups of cores that share a crash signature, and its text and CSV forms.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "coresift/analysis/triage.hpp"
#include "coresift/report/csv.hpp"

namespace coresift {

struct TriageRow {
  std::string path;
  std::optional<CoreTriage> result;  // nullopt: `error` says why
  std::string error;
  std::vector<std::string> warnings;
  int64_t time = 0;  // when the process dumped core (seconds since the epoch)
  std::string time_source;  // "systemd-coredump" (its user.coredump.timestamp xattr) or "file-mtime"
};

// Seconds since the epoch as "2026-12-05T23:09:57Z" (the documents' times).
std::string iso_time(int64_t t);

// docs/json-schema.md, "triage".
nlohmann::json json_of_core(const TriageRow& row);
nlohmann::json triage_json(const std::vector<TriageRow>& rows);
// The same document from the cores' documents (json_of_core, or read back from an index), in
// the order given.
nlohmann::json triage_document(std::vector<nlohmann::json> cores);
std::string triage_text(const nlohmann::json& doc);
// One row per input (docs/commands.md, CSV).
std::string triage_csv(const nlohmann::json& doc);

}  // namespace coresift
