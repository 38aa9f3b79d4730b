// The triage index: an SQLite file (docs/triage.md, "Index") with one row per core, keyed by
// the hash of the core file's content, so a rerun over a growing directory analyses only the
// new cores; its groups; the frames of each crash; and the runs that added them. Shards
// written by separate runs (--shard I/N) merge into one index that reports as one run would.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace coresift {

class IndexError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// 128-bit XXH3 of the file's bytes as 32 hex digits, read through mmap; "" when the file
// cannot be read.
std::string content_hash(const std::string& path);

struct StoredCore {
  std::string hash;
  int64_t run = 0;        // the run that added it
  nlohmann::json core;    // the core's document, as in triage --json's cores[]
};

class TriageIndex {
 public:
  // Opens or creates the index; throws IndexError naming the file when it is not one.
  static std::unique_ptr<TriageIndex> open(const std::string& path);
  ~TriageIndex();

  // A new run (its arguments, for the record); returns its id.
  int64_t begin_run(const std::string& args);
  bool has(const std::string& hash) const;
  // Adds a core's document (with its group and frames); a hash already there is left alone.
  void add(const std::string& hash, const nlohmann::json& core, int64_t run);
  // Every core, ordered by path then hash (the order a report lists them in).
  std::vector<StoredCore> cores() const;
  // Copies every run, core, group and frame of another index in; returns the cores added.
  size_t merge_from(const std::string& other_path);
  // Group id → the first run that had a core of it.
  std::vector<std::pair<std::string, int64_t>> group_first_runs() const;

 private:
  TriageIndex() = default;
  struct Db;
  std::unique_ptr<Db> db_;
  std::string path_;
};

}  // namespace coresift
