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
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "command.hpp"
#include "coresift/report/byte_strings.hpp"
#include "coresift/report/triage_report.hpp"

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

}  // namespace

void register_triage_command(CLI::App& app, Runner& run) {
  static CommonArgs args;
  static unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  static size_t frames = 5;
  static std::string skip_file;
  auto* cmd = app.add_subcommand("triage", "crash reason, crashing stack and heap verdict of many cores, grouped by bug");
  add_common_options(cmd, args);
  add_csv_option(cmd, args);
  cmd->add_option("-j,--jobs", jobs, "cores analysed at once (default: the number of CPUs)")->check(CLI::Range(1u, 256u));
  cmd->add_option("--frames", frames, "application frames in a crash signature (default 5)")->check(CLI::Range(1, 64));
  cmd->add_option("--skip-frames", skip_file, "file of function names (one per line) never part of a signature")
      ->check(CLI::ExistingFile);
  cmd->callback([&] {
    run = [] {
      TriageOptions topts;
      topts.signature_frames = frames;
      if (!skip_file.empty()) topts.skip_functions = read_lines(skip_file);
      std::vector<std::string> errors;
      std::vector<std::string> files = expand_inputs(args.inputs, errors);
      for (const std::string& e : errors) std::cerr << "coresift: warning: " << printable(bytes_as_utf8(e)) << "\n";
      std::vector<TriageRow> rows(files.size());
      std::atomic<size_t> next{0};
      Progress progress(files.size());
      auto worker = [&] {
        for (size_t i; (i = next++) < files.size();) {
          rows[i] = triage_one(args, files[i], topts);
          progress.step();
        }
      };
      std::vector<std::jthread> pool;
      for (unsigned j = 1; j < std::min<size_t>(jobs, files.size()); ++j) pool.emplace_back(worker);
      worker();
      pool.clear();  // joins
      nlohmann::json doc = triage_json(rows);
      print_document(args, doc, {triage_text, triage_csv});
      // 0 when at least one core was triaged; 3 when none could be (every input an error).
      return doc["totals"]["triaged"].get<size_t>() > 0 ? 0 : 3;
    };
  });
}

}  // namespace coresift::cli
