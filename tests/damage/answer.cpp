#include "answer.hpp"

#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "e2e/run_cli.hpp"

namespace coresift::damage {

namespace {

using nlohmann::json;

// A hang counts as a crash: the limit is far above the ~0.2 s a corpus core takes.
constexpr double kLimitSeconds = 30;

e2e::Run run(const std::string& cmd, const std::string& core, const std::vector<std::string>& extra) {
  std::vector<std::string> args{cmd, core, "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  return e2e::run_cli(args, kLimitSeconds);
}

void add_lines(const std::string& text, std::set<std::string>& out) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.insert(line);
}

uint64_t hex(const json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }

void read_heap(const json& doc, Answer& a) {
  for (const json& al : doc.at("allocators")) {
    const json& t = al.at("totals");
    uint64_t n = t.at("live_chunks").get<uint64_t>() + t.at("free_chunks").get<uint64_t>();
    a.allocator_chunks[al.at("name").get<std::string>()] += n;
    a.chunks += n;
    for (const json& f : al.value("findings", json::array())) a.findings.insert("finding: " + f.dump());
  }
}

}  // namespace

Answer ask(const std::string& core, const std::vector<std::string>& extra) {
  Answer a;
  // Both at once: the sweep is a few hundred runs and must stay well under a minute.
  auto pending_info = std::async(std::launch::async, [&] { return run("info", core, extra); });
  e2e::Run heap = run("heap", core, extra), info = pending_info.get();
  a.crashed = info.signaled || info.timed_out || heap.signaled || heap.timed_out;
  a.info_status = info.status;
  a.heap_status = heap.status;
  add_lines(info.err, a.warnings);
  add_lines(heap.err, a.warnings);
  if (info.status == 0) {
    json doc = json::parse(info.out);
    a.modules = doc.at("modules").size();
    a.threads = doc.at("threads").size();
  }
  if (heap.status == 0) read_heap(json::parse(heap.out), a);
  return a;
}

HeapTargets heap_targets(const std::string& core, const std::vector<std::string>& extra) {
  HeapTargets t;
  e2e::Run chunks = run("chunks", core, extra), heap = run("heap", core, extra);
  if (chunks.status != 0 || heap.status != 0) throw std::runtime_error("pristine core " + core + " fails");
  json chunk_doc = json::parse(chunks.out), heap_doc = json::parse(heap.out);  // named: loops below borrow them
  for (const json& c : chunk_doc.at("chunks"))
    if (c.at("allocator") == "glibc") t.glibc_chunks.push_back(hex(c.at("address")));
  for (const json& al : heap_doc.at("allocators"))
    if (!al.at("arenas").empty()) t.arenas.emplace_back(al.at("name"), hex(al.at("arenas")[0].at("address")));
  return t;
}

}  // namespace coresift::damage
