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
  if (!v.empty() && std::all_of(v.begin(), v.end(), ::isdigit)) {
    std::time_t t = static_cast<std::time_t>(std::stoll(v));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }
  std::tm tm{};
  const char* end = strptime(v.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end || (*end && std::string(end) != "Z")) {
    tm = {};
    end = strptime(v.c_str(), "%Y-%m-%d", &tm);
    if (!end || *end) return "";
  }
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void register_triage_command(CLI::App& app, Runner& run) {
  static CommonArgs args;
  static unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  static size_t frames = 5;
  static std::string skip_file, db_file, shard, since;
  static std::vector<std::string> merge_files;
  static bool only_new = false;
  auto* cmd = app.add_subcommand("triage", "crash reason, crashing stack and heap verdict of many cores, grouped by bug");
  add_common_options(cmd, args);
  cmd->get_option("inputs")->required(false);
  add_csv_option(cmd, args);
  cmd->add_option("-j,--jobs", jobs, "cores analysed at once (default: the number of CPUs)")->check(CLI::Range(1u, 256u));
  cmd->add_option("--frames", frames, "application frames in a crash signature (default 5)")->check(CLI::Range(1, 64));
  cmd->add_option("--skip-frames", skip_file, "file of function names (one per line) never part of a signature")
      ->check(CLI::ExistingFile);
  cmd->add_option("--db", db_file, "SQLite index: cores already in it (same content) are not analysed again; the report covers every core in it");
  cmd->add_option("--shard", shard, "I/N: analyse only the cores whose content hash falls in shard I of N (0-based)");
  cmd->add_option("--merge", merge_files, "merge these indexes (from --shard runs) into --db and report (takes every file after it)")
      ->expected(1, -1)->check(CLI::ExistingFile);
  cmd->add_flag("--new", only_new, "list only the groups first seen in this run (with --db)");
  cmd->add_option("--since", since, "list only the groups first seen at or after TIME (YYYY-MM-DD, ISO 8601 UTC, or epoch seconds)");
  cmd->callback([&] {
    run = []() -> int {
      unsigned shard_index = 0, shard_count = 1;
      if (!shard.empty()) {
        unsigned i = 0, n = 0;
        char slash = 0;
        std::istringstream in(shard);
        if (!(in >> i >> slash >> n) || slash != '/' || n == 0 || i >= n || !in.eof()) {
          std::cerr << "coresift: triage: --shard wants I/N with 0 <= I < N, got '" << shard << "'\n";
          return 2;
        }
        shard_index = i, shard_count = n;
      }
      std::string since_iso;
      if (!since.empty() && (since_iso = iso_since(since)).empty()) {
        std::cerr << "coresift: triage: --since wants YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or epoch seconds, got '" << since << "'\n";
        return 2;
      }
      if ((!merge_files.empty() || only_new) && db_file.empty()) {
        std::cerr << "coresift: triage: --merge and --new need --db\n";
        return 2;
      }
      if (args.inputs.empty() && merge_files.empty()) {
        std::cerr << "coresift: triage: no inputs (give cores or directories, or --merge with --db)\n";
        return 2;
      }
      std::unique_ptr<TriageIndex> index;
      int64_t run_id = 0;
      try {
        if (!db_file.empty()) {
          index = TriageIndex::open(db_file);
          for (const std::string& m : merge_files) index->merge_from(m);
          if (!args.inputs.empty()) run_id = index->begin_run(fmt::format("{}", fmt::join(args.inputs, " ")));
        }
      } catch (const IndexError& e) {
        std::cerr << "coresift: " << printable(bytes_as_utf8(e.what())) << "\n";
        return 3;
      }
      TriageOptions topts;
      topts.signature_frames = frames;
      if (!skip_file.empty()) topts.skip_functions = read_lines(skip_file);
      std::vector<std::string> errors;
      std::vector<std::string> files = expand_inputs(args.inputs, errors);
      if (!db_file.empty()) {  // the index itself (and SQLite's side files) is no input
        std::error_code ec;
        fs::path db = fs::weakly_canonical(db_file, ec);
        std::erase_if(files, [&](const std::string& f) {
          std::string c = fs::weakly_canonical(f, ec).string();
          return c == db.string() || c == db.string() + "-wal" || c == db.string() + "-shm" || c == db.string() + "-journal";
        });
      }
      for (const std::string& e : errors) std::cerr << "coresift: warning: " << printable(bytes_as_utf8(e)) << "\n";
      // Per input: its content hash, and whether this run analyses it (in its shard, not in
      // the index yet). Hashing happens on the workers too.
      std::vector<TriageRow> rows(files.size());
      std::vector<std::string> hashes(files.size());
      std::vector<char> analysed(files.size(), 0), in_run(files.size(), 0);
      const bool need_hash = index || shard_count > 1;
      std::atomic<size_t> next{0};
      Progress progress(files.size());
      std::mutex index_mu;
      auto worker = [&] {
        for (size_t i; (i = next++) < files.size();) {
          if (need_hash) hashes[i] = content_hash(files[i]);
          in_run[i] = in_shard(hashes[i], shard_index, shard_count);
          bool known = false;
          if (in_run[i] && index && !hashes[i].empty()) {
            std::lock_guard<std::mutex> lock(index_mu);
            known = index->has(hashes[i]);
          }
          if (in_run[i] && !known) {
            rows[i] = triage_one(args, files[i], topts);
            analysed[i] = 1;
          }
          progress.step();
        }
      };
      std::vector<std::jthread> pool;
      for (unsigned j = 1; j < std::min<size_t>(jobs, files.size()); ++j) pool.emplace_back(worker);
      worker();
      pool.clear();  // joins
      nlohmann::json doc;
      std::map<std::string, int64_t> first_run;
      if (index) {
        try {
          for (size_t i = 0; i < files.size(); ++i)
            if (analysed[i] && !hashes[i].empty()) index->add(hashes[i], json_of_core(rows[i]), run_id);
          std::vector<nlohmann::json> cores;
          for (StoredCore& c : index->cores()) cores.push_back(std::move(c.core));
          for (size_t i = 0; i < files.size(); ++i)  // unreadable files have no hash: reported, not stored
            if (analysed[i] && hashes[i].empty()) cores.push_back(json_of_core(rows[i]));
          doc = triage_document(std::move(cores));
          for (const auto& [g, r] : index->group_first_runs()) first_run[g] = r;
        } catch (const IndexError& e) {
          std::cerr << "coresift: " << printable(bytes_as_utf8(e.what())) << "\n";
          return 3;
        }
      } else {
        std::vector<TriageRow> kept;
        for (size_t i = 0; i < files.size(); ++i)
          if (in_run[i]) kept.push_back(std::move(rows[i]));
        doc = triage_json(kept);
      }
      // --new / --since: only the groups first seen in this run / since TIME.
      if (index || !since_iso.empty()) {
        nlohmann::json listed = nlohmann::json::array();
        for (auto& g : doc["groups"]) {
          if (index) g["new"] = run_id && first_run.count(g["group"].get<std::string>()) && first_run[g["group"].get<std::string>()] == run_id;
          if (only_new && !g["new"].get<bool>()) continue;
          if (!since_iso.empty() && g["first_seen"].get<std::string>() < since_iso) continue;
          listed.push_back(g);
        }
        doc["groups"] = listed;
      }
      size_t triaged = doc["totals"]["triaged"].get<size_t>();
      print_document(args, doc, {triage_text, triage_csv});
      // 0 when at least one core was triaged; 3 when none could be (every input an error).
      return triaged > 0 ? 0 : 3;
    };
  });
}

}  // namespace coresift::cli
