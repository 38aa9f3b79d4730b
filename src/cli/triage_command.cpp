// triage: a batch of cores (files, directories searched recursively) → one row per input, the
// groups of cores with the same crash signature. Each core is its own Session on a worker
// thread; one bad input is an error row, never the end of the batch.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "command.hpp"
#include "coresift/report/byte_strings.hpp"
#include "coresift/report/triage_report.hpp"
#include "coresift/store/triage_index.hpp"

namespace coresift::cli {
namespace {

namespace fs = std::filesystem;

// Regular files named on the command line or found under the directories, sorted, each once.
std::vector<std::string> expand_inputs(const std::vector<std::string>& paths, std::vector<std::string>& errors) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec)) out.push_back(it->path().string());
      if (ec) errors.push_back(p + ": " + ec.message());
    } else {
      out.push_back(p);  // a missing or odd file gets its error row from the reader
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> read_lines(const std::string& file) {
  std::vector<std::string> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') out.push_back(line);
  return out;
}

// "[12/50] 3.1 cores/s, ETA 12 s" on stderr, rewritten in place; only on a terminal.
class Progress {
 public:
  explicit Progress(size_t total) : total_(total), on_(isatty(STDERR_FILENO)), start_(clock::now()) {}
  void step() {
    size_t done = ++done_;
    if (!on_) return;
    std::lock_guard<std::mutex> lock(mu_);
    double s = std::chrono::duration<double>(clock::now() - start_).count();
    double rate = s > 0 ? done / s : 0;
    double eta = rate > 0 ? (total_ - done) / rate : 0;
    std::cerr << fmt::format("\r[{}/{}] {:.1f} cores/s, ETA {:.0f} s   ", done, total_, rate, eta) << std::flush;
    if (done == total_) std::cerr << "\r" << std::string(48, ' ') << "\r" << std::flush;
  }

 private:
  using clock = std::chrono::steady_clock;
  size_t total_;
  std::atomic<size_t> done_{0};
  bool on_;
  clock::time_point start_;
  std::mutex mu_;
};

TriageRow triage_one(const CommonArgs& args, const std::string& path, const TriageOptions& topts) {
  TriageRow row;
  row.path = path;
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) {
    row.time = st.st_mtime;
    row.time_source = "file-mtime";
  }
  // systemd-coredump records when the process crashed (microseconds) in an xattr of the file.
  char buf[32] = {};
  ssize_t n = ::getxattr(path.c_str(), "user.coredump.timestamp", buf, sizeof buf - 1);
  if (n > 0) {
    char* end = nullptr;
    long long usec = std::strtoll(buf, &end, 10);
    if (end != buf && usec > 0) {
      row.time = usec / 1000000;
      row.time_source = "systemd-coredump";
    }
  }
  CommonArgs one = args;
  one.inputs = {path};
  try {
    std::unique_ptr<Session> s = Session::open(to_options(one));
    row.result = triage_core(s->heap_model(), topts);
    for (const Warning& w : s->diag().warnings()) row.warnings.push_back(w.to_string());
  } catch (const std::exception& e) {  // InputError, or anything a broken core provokes
    row.result.reset();
    row.error = e.what();
  }
  return row;
}

// --shard I/N: which of N shards a core belongs to, by its content hash (so every machine
// of a job array agrees without talking to the others).
bool in_shard(const std::string& hash, unsigned index, unsigned count) {
  if (count <= 1) return true;
  if (hash.size() < 16) return index == 0;  // unreadable: its error row goes to shard 0
  return std::stoull(hash.substr(hash.size() - 16), nullptr, 16) % count == index;
}

// "2026-12-01", "2026-12-01T10:00:00Z" or seconds since the epoch → the ISO 8601 UTC form the
// documents use (compared as strings); "" when it is none of those.
std::string iso_since(const std::string& v) {
  if (!v.empty() && std::all_of(v.begin(), v.end(), ::isdigit)) return iso_time(std::stoll(v));
  std::tm tm{};
  const char* end = strptime(v.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end || (*end && std::string(end) != "Z")) {
    tm = {};
    end = strptime(v.c_str(), "%Y-%m-%d", &tm);
    if (!end || *end) return "";
  }
  return iso_time(timegm(&tm));
}

// The command's arguments (CLI11 writes them; the run reads them).
struct TriageArgs {
  CommonArgs common;
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  size_t frames = 5;
  std::string skip_file, db_file, shard, since;
  std::vector<std::string> merge_files;
  bool only_new = false;
  // Derived by check_arguments():
  unsigned shard_index = 0, shard_count = 1;
  std::string since_iso;
};

// Usage errors (exit 2) found before any work; 0 when the arguments are fine.
int check_arguments(TriageArgs& a) {
  auto usage = [](const std::string& what) {
    std::cerr << "coresift: triage: " << what << "\n";
    return 2;
  };
  if (!a.shard.empty()) {
    unsigned i = 0, n = 0;
    char slash = 0;
    std::istringstream in(a.shard);
    if (!(in >> i >> slash >> n) || slash != '/' || n == 0 || i >= n || !in.eof())
      return usage("--shard wants I/N with 0 <= I < N, got '" + a.shard + "'");
    a.shard_index = i, a.shard_count = n;
  }
  if (!a.since.empty() && (a.since_iso = iso_since(a.since)).empty())
    return usage("--since wants YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or epoch seconds, got '" + a.since + "'");
  if ((!a.merge_files.empty() || a.only_new) && a.db_file.empty()) return usage("--merge and --new need --db");
  if (a.common.inputs.empty() && a.merge_files.empty())
    return usage("no inputs (give cores or directories, or --merge with --db)");
  return 0;
}

// The inputs: files named and found under directories, never the index or its side files.
std::vector<std::string> input_files(const TriageArgs& a) {
  std::vector<std::string> errors;
  std::vector<std::string> files = expand_inputs(a.common.inputs, errors);
  if (!a.db_file.empty()) {
    std::error_code ec;
    const std::string db = fs::weakly_canonical(a.db_file, ec).string();
    std::erase_if(files, [&](const std::string& f) {
      std::string c = fs::weakly_canonical(f, ec).string();
      return c == db || c == db + "-wal" || c == db + "-shm" || c == db + "-journal";
    });
  }
  for (const std::string& e : errors) std::cerr << "coresift: warning: " << printable(bytes_as_utf8(e)) << "\n";
  return files;
}

// One run over the inputs: per input its content hash (when an index or shards need it),
// whether it is in this run's shard, and its row when this run analysed it (not yet indexed).
struct Batch {
  std::vector<std::string> files, hashes;
  std::vector<TriageRow> rows;
  std::vector<char> analysed, in_run;
};

Batch run_batch(const TriageArgs& a, std::vector<std::string> files, TriageIndex* index) {
  Batch b;
  const size_t n = files.size();
  b.files = std::move(files);
  b.hashes.resize(n);
  b.rows.resize(n);
  b.analysed.assign(n, 0);
  b.in_run.assign(n, 0);
  TriageOptions topts;
  topts.signature_frames = a.frames;
  if (!a.skip_file.empty()) topts.skip_functions = read_lines(a.skip_file);
  const bool need_hash = index || a.shard_count > 1;
  std::atomic<size_t> next{0};
  Progress progress(n);
  std::mutex index_mu;
  auto worker = [&] {
    for (size_t i; (i = next++) < n;) {
      if (need_hash) b.hashes[i] = content_hash(b.files[i]);
      b.in_run[i] = in_shard(b.hashes[i], a.shard_index, a.shard_count);
      bool known = false;
      if (b.in_run[i] && index && !b.hashes[i].empty()) {
        std::lock_guard<std::mutex> lock(index_mu);
        known = index->has(b.hashes[i]);
      }
      if (b.in_run[i] && !known) {
        b.rows[i] = triage_one(a.common, b.files[i], topts);
        b.analysed[i] = 1;
      }
      progress.step();
    }
  };
  std::vector<std::jthread> pool;
  for (unsigned j = 1; j < std::min<size_t>(a.jobs, n); ++j) pool.emplace_back(worker);
  worker();
  return b;  // the pool joins first
}

// With an index: this run's new cores stored, then the report over every core in it, each
// group marked new when its first core came in this run. Throws IndexError.
nlohmann::json indexed_document(Batch& b, TriageIndex& index, int64_t run_id) {
  for (size_t i = 0; i < b.files.size(); ++i)
    if (b.analysed[i] && !b.hashes[i].empty()) index.add(b.hashes[i], json_of_core(b.rows[i]), run_id);
  std::vector<nlohmann::json> cores;
  for (StoredCore& c : index.cores()) cores.push_back(std::move(c.core));
  for (size_t i = 0; i < b.files.size(); ++i)  // unreadable files have no hash: reported, not stored
    if (b.analysed[i] && b.hashes[i].empty()) cores.push_back(json_of_core(b.rows[i]));
  nlohmann::json doc = triage_document(std::move(cores));
  const auto runs = index.group_first_runs();
  const std::map<std::string, int64_t> first_run(runs.begin(), runs.end());
  for (auto& g : doc["groups"]) {
    auto it = first_run.find(g["group"].get<std::string>());
    g["new"] = run_id && it != first_run.end() && it->second == run_id;
  }
  return doc;
}

// --new / --since: only the groups first seen in this run / at or after TIME.
void filter_groups(nlohmann::json& doc, const TriageArgs& a) {
  if (!a.only_new && a.since_iso.empty()) return;
  nlohmann::json listed = nlohmann::json::array();
  for (auto& g : doc["groups"]) {
    if (a.only_new && !g.value("new", false)) continue;
    if (!a.since_iso.empty() && g["first_seen"].get<std::string>() < a.since_iso) continue;
    listed.push_back(g);
  }
  doc["groups"] = listed;
}

int run_triage(TriageArgs& a) {
  if (int rc = check_arguments(a)) return rc;
  std::unique_ptr<TriageIndex> index;
  int64_t run_id = 0;
  try {
    if (!a.db_file.empty()) {
      index = TriageIndex::open(a.db_file);
      for (const std::string& m : a.merge_files) index->merge_from(m);
      if (!a.common.inputs.empty()) run_id = index->begin_run(fmt::format("{}", fmt::join(a.common.inputs, " ")));
    }
    Batch b = run_batch(a, input_files(a), index.get());
    nlohmann::json doc;
    if (index) {
      doc = indexed_document(b, *index, run_id);
    } else {
      std::vector<TriageRow> kept;
      for (size_t i = 0; i < b.files.size(); ++i)
        if (b.in_run[i]) kept.push_back(std::move(b.rows[i]));
      doc = triage_json(kept);
    }
    filter_groups(doc, a);
    const size_t triaged = doc["totals"]["triaged"].get<size_t>();
    print_document(a.common, doc, {triage_text, triage_csv});
    // 0 when at least one core was triaged; 3 when none could be (every input an error).
    return triaged > 0 ? 0 : 3;
  } catch (const IndexError& e) {
    std::cerr << "coresift: " << printable(bytes_as_utf8(e.what())) << "\n";
    return 3;
  }
}

}  // namespace

void register_triage_command(CLI::App& app, Runner& run) {
  static TriageArgs a;
  auto* cmd = app.add_subcommand("triage", "crash reason, crashing stack and heap verdict of many cores, grouped by bug");
  add_common_options(cmd, a.common);
  cmd->get_option("inputs")->required(false);
  add_csv_option(cmd, a.common);
  cmd->add_option("-j,--jobs", a.jobs, "cores analysed at once (default: the number of CPUs)")->check(CLI::Range(1u, 256u));
  cmd->add_option("--frames", a.frames, "application frames in a crash signature (default 5)")->check(CLI::Range(1, 64));
  cmd->add_option("--skip-frames", a.skip_file, "file of function names (one per line) never part of a signature")
      ->check(CLI::ExistingFile);
  cmd->add_option("--db", a.db_file, "SQLite index: cores already in it (same content) are not analysed again; the report covers every core in it");
  cmd->add_option("--shard", a.shard, "I/N: analyse only the cores whose content hash falls in shard I of N (0-based)");
  cmd->add_option("--merge", a.merge_files, "merge these indexes (from --shard runs) into --db and report (takes every file after it)")
      ->expected(1, -1)->check(CLI::ExistingFile);
  cmd->add_flag("--new", a.only_new, "list only the groups first seen in this run (with --db)");
  cmd->add_option("--since", a.since, "list only the groups first seen at or after TIME (YYYY-MM-DD, ISO 8601 UTC, or epoch seconds)");
  cmd->callback([&] { run = [] { return run_triage(a); }; });
}

}  // namespace coresift::cli
