#include "coresift/store/triage_index.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <ctime>
#include <fmt/format.h>

namespace coresift {
namespace {

// Schema version 1 (docs/triage.md). Every table is keyed so that inserting a row twice, or
// merging an index into itself, changes nothing.
constexpr const char* kSchema = R"sql(
PRAGMA user_version = 1;
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,      -- in the order the runs happened (merged runs are renumbered)
  started INTEGER NOT NULL,    -- seconds since the epoch
  args TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cores (
  hash TEXT PRIMARY KEY,       -- XXH3-128 of the core file's bytes
  path TEXT NOT NULL,
  run INTEGER NOT NULL REFERENCES runs(id),
  time TEXT,                   -- when the process dumped core (ISO 8601 UTC)
  grp TEXT,                    -- group id, NULL for an error row
  signature TEXT,
  reason_kind TEXT,
  error TEXT,
  doc TEXT NOT NULL            -- the core's JSON document (triage --json cores[])
);
CREATE TABLE IF NOT EXISTS groups (
  grp TEXT PRIMARY KEY,
  signature TEXT NOT NULL,
  reason_kind TEXT NOT NULL,
  first_run INTEGER NOT NULL REFERENCES runs(id)
);
CREATE TABLE IF NOT EXISTS frames (
  hash TEXT NOT NULL REFERENCES cores(hash),
  idx INTEGER NOT NULL,        -- 0 = innermost
  module TEXT, build_id TEXT, module_offset TEXT, function_start TEXT, function TEXT, source TEXT,
  in_signature INTEGER NOT NULL,
  PRIMARY KEY (hash, idx)
);
CREATE INDEX IF NOT EXISTS cores_grp ON cores(grp);
)sql";

std::string text_or_empty(sqlite3_stmt* st, int col) {
  const unsigned char* t = sqlite3_column_text(st, col);
  return t ? reinterpret_cast<const char*>(t) : "";
}

}  // namespace

struct TriageIndex::Db {
  sqlite3* h = nullptr;
  ~Db() {
    if (h) sqlite3_close(h);
  }
};

namespace {

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql, const std::string& file) : file_(file) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK)
      throw IndexError(fmt::format("{}: {}", file, sqlite3_errmsg(db)));
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_null_or(int i, const nlohmann::json& v) {
    if (v.is_string()) return bind(i, v.get<std::string>());
    sqlite3_bind_null(st_, i);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw IndexError(fmt::format("{}: {}", file_, sqlite3_errmsg(sqlite3_db_handle(st_))));
  }
  sqlite3_stmt* get() { return st_; }

 private:
  sqlite3_stmt* st_ = nullptr;
  std::string file_;
};

void exec(sqlite3* db, const std::string& sql, const std::string& file) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "error";
    sqlite3_free(err);
    throw IndexError(fmt::format("{}: {}", file, msg));
  }
}

}  // namespace

std::string content_hash(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return "";
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return "";
  }
  XXH128_hash_t h = XXH3_128bits(nullptr, 0);
  if (st.st_size > 0) {
    void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      return "";
    }
    ::madvise(p, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
    h = XXH3_128bits(p, static_cast<size_t>(st.st_size));
    ::munmap(p, static_cast<size_t>(st.st_size));
  }
  ::close(fd);
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

std::unique_ptr<TriageIndex> TriageIndex::open(const std::string& path) {
  std::unique_ptr<TriageIndex> ix(new TriageIndex);
  ix->path_ = path;
  ix->db_ = std::make_unique<Db>();
  if (sqlite3_open_v2(path.c_str(), &ix->db_->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
    throw IndexError(fmt::format("{}: cannot open the index: {}", path, ix->db_->h ? sqlite3_errmsg(ix->db_->h) : "out of memory"));
  sqlite3_busy_timeout(ix->db_->h, 10000);
  exec(ix->db_->h, "PRAGMA journal_mode=WAL;", path);  // also fails here when the file is not SQLite
  Stmt v(ix->db_->h, "PRAGMA user_version", path);
  int64_t version = v.step() ? sqlite3_column_int64(v.get(), 0) : 0;
  if (version > 1) throw IndexError(fmt::format("{}: index schema version {} is newer than this coresift's (1)", path, version));
  exec(ix->db_->h, kSchema, path);
  return ix;
}

TriageIndex::~TriageIndex() = default;

int64_t TriageIndex::begin_run(const std::string& args) {
  Stmt s(db_->h, "INSERT INTO runs(started, args) VALUES (?, ?)", path_);
  s.bind(1, static_cast<int64_t>(std::time(nullptr))).bind(2, args).step();
  return sqlite3_last_insert_rowid(db_->h);
}

bool TriageIndex::has(const std::string& hash) const {
  Stmt s(db_->h, "SELECT 1 FROM cores WHERE hash = ?", path_);
  return s.bind(1, hash).step();
}

void TriageIndex::add(const std::string& hash, const nlohmann::json& core, int64_t run) {
  exec(db_->h, "BEGIN", path_);
  try {
    Stmt c(db_->h,
           "INSERT OR IGNORE INTO cores(hash, path, run, time, grp, signature, reason_kind, error, doc) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
           path_);
    const nlohmann::json null;
    auto field = [&](const char* k) -> const nlohmann::json& { return core.contains(k) ? core[k] : null; };
    nlohmann::json reason_kind = core.contains("reason") ? core["reason"]["kind"] : null;
    c.bind(1, hash).bind(2, core["path"].get<std::string>()).bind(3, run);
    c.bind_null_or(4, field("time")).bind_null_or(5, field("group")).bind_null_or(6, field("signature"));
    c.bind_null_or(7, reason_kind).bind_null_or(8, field("error")).bind(9, core.dump());
    c.step();
    if (sqlite3_changes(db_->h) && core.contains("group") && core["group"].is_string()) {
      Stmt g(db_->h, "INSERT OR IGNORE INTO groups(grp, signature, reason_kind, first_run) VALUES (?, ?, ?, ?)", path_);
      g.bind(1, core["group"].get<std::string>()).bind(2, core["signature"].get<std::string>());
      g.bind(3, reason_kind.get<std::string>()).bind(4, run).step();
      int64_t i = 0;
      for (const auto& f : core["frames"]) {
        Stmt fr(db_->h,
                "INSERT OR IGNORE INTO frames(hash, idx, module, build_id, module_offset, function_start, function, "
                "source, in_signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                path_);
        fr.bind(1, hash).bind(2, i++).bind_null_or(3, f["module"]).bind_null_or(4, f["build_id"]);
        fr.bind_null_or(5, f["module_offset"]).bind_null_or(6, f["function_start"]).bind_null_or(7, f["function"]);
        fr.bind_null_or(8, f["source"]).bind(9, static_cast<int64_t>(f["in_signature"].get<bool>())).step();
      }
    }
    exec(db_->h, "COMMIT", path_);
  } catch (...) {
    sqlite3_exec(db_->h, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<StoredCore> TriageIndex::cores() const {
  std::vector<StoredCore> out;
  Stmt s(db_->h, "SELECT hash, run, doc FROM cores ORDER BY path, hash", path_);
  while (s.step()) {
    StoredCore c;
    c.hash = text_or_empty(s.get(), 0);
    c.run = sqlite3_column_int64(s.get(), 1);
    c.core = nlohmann::json::parse(text_or_empty(s.get(), 2), nullptr, false);
    if (!c.core.is_discarded()) out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::pair<std::string, int64_t>> TriageIndex::group_first_runs() const {
  std::vector<std::pair<std::string, int64_t>> out;
  Stmt s(db_->h, "SELECT grp, first_run FROM groups ORDER BY grp", path_);
  while (s.step()) out.emplace_back(text_or_empty(s.get(), 0), sqlite3_column_int64(s.get(), 1));
  return out;
}

size_t TriageIndex::merge_from(const std::string& other) {
  // Validate the other file as an index first: a clear error instead of an SQL one.
  { auto probe = TriageIndex::open(other); }
  int64_t before = 0;
  {
    Stmt n(db_->h, "SELECT count(*) FROM cores", path_);
    if (n.step()) before = sqlite3_column_int64(n.get(), 0);
  }
  Stmt a(db_->h, "ATTACH DATABASE ? AS other", path_);
  a.bind(1, other).step();
  try {
    // Runs are renumbered after this index's own, in the order they happened there.
    exec(db_->h,
         "BEGIN;"
         "CREATE TEMP TABLE run_map AS SELECT o.id AS old_id, (SELECT coalesce(max(id), 0) FROM main.runs) + "
         "  row_number() OVER (ORDER BY o.started, o.id) AS new_id FROM other.runs o;"
         "INSERT INTO main.runs(id, started, args) SELECT m.new_id, o.started, o.args FROM other.runs o "
         "  JOIN run_map m ON m.old_id = o.id;"
         "INSERT OR IGNORE INTO main.cores SELECT c.hash, c.path, m.new_id, c.time, c.grp, c.signature, c.reason_kind, "
         "  c.error, c.doc FROM other.cores c JOIN run_map m ON m.old_id = c.run;"
         "INSERT OR IGNORE INTO main.frames SELECT * FROM other.frames;"
         "INSERT INTO main.groups(grp, signature, reason_kind, first_run) SELECT g.grp, g.signature, g.reason_kind, "
         "  m.new_id FROM other.groups g JOIN run_map m ON m.old_id = g.first_run WHERE true "
         "  ON CONFLICT(grp) DO UPDATE SET first_run = min(first_run, excluded.first_run);"
         "DROP TABLE run_map;"
         "COMMIT;",
         path_);
  } catch (...) {
    sqlite3_exec(db_->h, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_exec(db_->h, "DETACH DATABASE other", nullptr, nullptr, nullptr);
    throw;
  }
  exec(db_->h, "DETACH DATABASE other", path_);
  Stmt n(db_->h, "SELECT count(*) FROM cores", path_);
  int64_t after = n.step() ? sqlite3_column_int64(n.get(), 0) : before;
  return static_cast<size_t>(after - before);
}

}  // namespace coresift
