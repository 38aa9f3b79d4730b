// Symbolizer end to end on the corpus cores (corpus/cores, made by corpus/make-cores.sh):
// backtraces against the truth each program wrote about itself, symbol lookups, debug-info
// selection, and unwinding from damaged registers.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/session.hpp"
#include "support/skip.hpp"

using namespace coresift;
using nlohmann::json;

namespace {

std::string cores_dir() { return std::string(CORESIFT_SOURCE_DIR) + "/corpus/cores/"; }

struct Corpus {
  std::unique_ptr<Session> session;
  json truth;
};

// Opens corpus/cores/NAME.core.zst with its truth; both are committed, so a missing one fails.
std::optional<Corpus> open_core(const std::string& name, bool no_debuginfo = false) {
  std::string core = cores_dir() + name + ".core.zst", truth = cores_dir() + name + ".truth.json";
  if (!std::filesystem::exists(core) || !std::filesystem::exists(truth))
    FAIL("committed corpus core " << core << " or its truth is missing");
  Options o;
  o.inputs = {core};
  o.module_dirs = {cores_dir() + "bin"};  // the binaries, wherever the checkout is
  o.symbols.no_debuginfo = no_debuginfo;
  Corpus c{Session::open(o), json::parse(std::ifstream(truth))};
  return c;
}

uint64_t hex(const json& j) { return std::stoull(j.get<std::string>(), nullptr, 16); }

const Thread* thread_by_tid(const Process& p, int tid) {
  for (const Thread& t : p.threads)
    if (t.tid == tid) return &t;
  return nullptr;
}

// The program's own functions on a backtrace, innermost first, named the way the truth
// names them (its "functions" map), from the symbolizer's names.
std::vector<std::string> program_chain(const std::vector<Frame>& frames, const json& functions) {
  std::vector<std::string> chain;
  for (const Frame& f : frames)
    if (!f.is_inline && f.function && functions.contains(*f.function)) chain.push_back(*f.function);
  return chain;
}

// Same, for a stripped binary: the truth's function entries place each return address.
std::vector<std::string> program_chain_by_address(const std::vector<Frame>& frames, const json& functions) {
  std::vector<std::string> chain;
  for (const Frame& f : frames) {
    uint64_t lookup = chain.empty() && &f == &frames.front() ? f.pc : f.pc - 1;
    std::string best;
    uint64_t best_addr = 0;
    for (const auto& [name, addr] : functions.items())
      if (hex(addr) <= lookup && hex(addr) >= best_addr) best = name, best_addr = hex(addr);
    // "main" is the last function of the program text; a pc past the program's functions
    // (libc, _start) must not be taken for it.
    if (!best.empty() && lookup - best_addr < 0x1000 && !f.module.empty() && f.module.find("libc") == std::string::npos)
      chain.push_back(best);
  }
  return chain;
}

std::vector<std::string> to_strings(const json& j) { return j.get<std::vector<std::string>>(); }

const Module* module_named(const Process& p, const std::string& part) {
  for (const Module& m : p.modules)
    if (m.path.find(part) != std::string::npos) return &m;
  return nullptr;
}

// libc frames can be named only when the libc on disk is the one the core was made with.
bool same_libc(const Process& p, const json& truth) {
  const Module* libc = module_named(p, "libc.so");
  return libc && !libc->disk_path.empty() && libc->build_id == truth["generator"]["libc_build_id"].get<std::string>();
}

std::string libc_debug_file(const json& truth) {
  std::string id = truth["generator"]["libc_build_id"];
  return "/usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
}

const char* const kCrashCores[] = {"crash_segv.kcore", "crash_abort.kcore", "census.kcore", "double_free.kcore",
                                   "corrupt_top.kcore"};

// Why libc's frames cannot be checked on this machine ("" when they can): they can be found
// only with the libc the cores were made with (all corpus cores were made with one libc), and
// named only with its debug info (libc6-dbg) as well.
std::string why_no_libc_frames(bool named) {
  auto c = open_core("crash_segv.kcore");
  if (!same_libc(c->session->process(), c->truth))
    return "the libc on this machine is not the one the corpus cores were made with";
  if (named && ::access(libc_debug_file(c->truth).c_str(), R_OK) != 0)
    return "libc6-dbg is not installed (no " + libc_debug_file(c->truth) + ")";
  return "";
}

// The frame after main on the crashed thread's backtrace.
void check_frame_past_main(const char* name, bool no_debuginfo, bool named) {
  auto c = open_core(name, no_debuginfo);
  INFO(name << (no_debuginfo ? " --no-debuginfo" : ""));
  const Process& p = c->session->process();
  REQUIRE(same_libc(p, c->truth));
  const Thread* t = p.crashed_thread();
  REQUIRE(t);
  auto frames = c->session->symbols().backtrace(*t);
  // Past main: libc's start-up code, found through libc's .eh_frame.
  auto main_at = std::find_if(frames.begin(), frames.end(), [](const Frame& f) { return f.function == "main"; });
  REQUIRE(main_at != frames.end());
  REQUIRE(main_at + 1 != frames.end());
  CHECK((main_at + 1)->module.find("libc.so") != std::string::npos);
  if (named) CHECK((main_at + 1)->function == "__libc_start_call_main");
}

}  // namespace

TEST_CASE("backtrace of the crashed thread follows the truth's chain down to main", "[symbols][corpus]") {
  for (const char* name : kCrashCores) {
    for (bool no_debuginfo : {false, true}) {
      auto c = open_core(name, no_debuginfo);
      INFO(name << (no_debuginfo ? " --no-debuginfo" : ""));
      const Process& p = c->session->process();
      const Thread* t = p.crashed_thread();
      REQUIRE(t);
      CHECK(t->tid == c->truth["crash"]["tid"].get<int>());
      auto frames = c->session->symbols().backtrace(*t);
      REQUIRE(!frames.empty());
      CHECK(frames.front().pc == t->pc());
      auto expected = to_strings(c->truth["crash"]["chain"]);
      CHECK(program_chain(frames, c->truth["functions"]) == expected);
      CHECK(expected.back() == "main");

      // Every frame in a module carries the file offset of its pc.
      for (const Frame& f : frames) {
        const Module* m = p.module_at(f.pc);
        if (!m) continue;
        CHECK(f.module == m->path);
        if (const Mapping* mp = p.mapping_at(f.pc)) CHECK(f.module_offset == mp->offset + (f.pc - mp->start));
      }
    }
  }
}

TEST_CASE("backtraces of the crashed thread continue past main into libc's start-up code", "[symbols][corpus]") {
  if (std::string why = why_no_libc_frames(false); !why.empty()) return coresift::test::skip_test(why);
  for (const char* name : kCrashCores)
    for (bool no_debuginfo : {false, true}) check_frame_past_main(name, no_debuginfo, false);
}

TEST_CASE("the frame past main is named __libc_start_call_main from libc's debug info", "[symbols][corpus]") {
  if (std::string why = why_no_libc_frames(true); !why.empty()) return coresift::test::skip_test(why);
  for (const char* name : kCrashCores) check_frame_past_main(name, false, true);
}

TEST_CASE("innermost frame of crash_segv has its source line", "[symbols][corpus]") {
  auto c = open_core("crash_segv.kcore");
  auto frames = c->session->symbols().backtrace(*c->session->process().crashed_thread());
  REQUIRE(!frames.empty());
  CHECK(frames[0].function == "crash_here");
  CHECK(frames[0].source_file.ends_with("crash_segv.c"));
  CHECK(frames[0].line > 0);
  CHECK(frames[0].function_offset == frames[0].pc - hex(c->truth["functions"]["crash_here"]));
}

TEST_CASE("every thread's backtrace matches the truth (kernel core and gcore)", "[symbols][corpus]") {
  for (const char* name : {"crash_segv.kcore", "crash_segv.gcore", "census.gcore"}) {
    auto c = open_core(name);
    INFO(name);
    const Process& p = c->session->process();
    for (const auto& tt : c->truth["threads"]) {
      const Thread* t = thread_by_tid(p, tt["tid"].get<int>());
      REQUIRE(t);
      INFO("thread " << t->tid);
      auto frames = c->session->symbols().backtrace(*t);
      CHECK(program_chain(frames, c->truth["functions"]) == to_strings(tt["chain"]));
    }
  }
}

TEST_CASE("a stripped binary still unwinds, with module offsets", "[symbols][corpus]") {
  auto c = open_core("crash_segv-stripped.kcore");
  const Process& p = c->session->process();
  const Thread* t = p.crashed_thread();
  REQUIRE(t);
  auto frames = c->session->symbols().backtrace(*t);
  CHECK(program_chain_by_address(frames, c->truth["functions"]) == to_strings(c->truth["crash"]["chain"]));
  size_t in_program = 0;
  for (const Frame& f : frames) {
    if (f.module.find("crash_segv-stripped") == std::string::npos) continue;
    ++in_program;
    const Module* m = p.module_at(f.pc);
    REQUIRE(m);
    // PIE text sits at the same offset in the file as in the image.
    CHECK(f.module_offset == f.pc - m->base);
  }
  CHECK(in_program >= 5);
}

TEST_CASE("symbol_at and find_symbol agree with the program's own addresses", "[symbols][corpus]") {
  auto c = open_core("crash_segv.kcore");
  Symbolizer& s = c->session->symbols();
  for (const auto& [name, addr] : c->truth["functions"].items()) {
    INFO(name);
    auto sym = s.symbol_at(hex(addr) + 1);
    REQUIRE(sym);
    CHECK(sym->name == name);
    CHECK(sym->address == hex(addr));
    CHECK(sym->offset == 1);
    CHECK(s.find_symbol("crash_segv", name) == hex(addr));
    CHECK(s.find_symbol("", name) == hex(addr));
  }
  CHECK_FALSE(s.find_symbol("crash_segv", "no_such_symbol_anywhere"));
  CHECK_FALSE(s.find_symbol("no-such-module", "main"));
  CHECK_FALSE(s.symbol_at(0));
}

TEST_CASE("main_arena is invisible without libc's debug info", "[symbols][corpus]") {
  auto with = open_core("census.kcore");
  if (!same_libc(with->session->process(), with->truth))
    return coresift::test::skip_test("the libc on this machine is not the one the corpus cores were made with");
  auto without = open_core("census.kcore", true);
  REQUIRE(without);
  // Not in libc's .dynsym: invisible without debug info, whatever is installed.
  CHECK_FALSE(without->session->symbols().find_symbol("libc.so", "main_arena"));
  const Module* libc = module_named(without->session->process(), "libc.so");
  CHECK(without->session->symbols().symbol_source(*libc) == "file:" + libc->disk_path);
  // Exported symbols are still there.
  CHECK(without->session->symbols().find_symbol("libc.so", "malloc"));
}

TEST_CASE("main_arena comes from libc's debug info", "[symbols][corpus]") {
  auto with = open_core("census.kcore");
  if (!same_libc(with->session->process(), with->truth))
    return coresift::test::skip_test("the libc on this machine is not the one the corpus cores were made with");
  if (::access(libc_debug_file(with->truth).c_str(), R_OK) != 0)
    return coresift::test::skip_test("libc6-dbg is not installed (no " + libc_debug_file(with->truth) + ")");
  auto addr = with->session->symbols().find_symbol("libc.so", "main_arena");
  REQUIRE(addr);
  if (with->truth["main_arena"].is_string()) CHECK(*addr == hex(with->truth["main_arena"]));
  const Module* wlibc = module_named(with->session->process(), "libc.so");
  CHECK(with->session->symbols().symbol_source(*wlibc) == "debuginfo:" + libc_debug_file(with->truth));
  auto sym = with->session->symbols().symbol_at(*addr);
  REQUIRE(sym);
  CHECK(sym->name == "main_arena");
}

TEST_CASE("symbol_source of a binary with its own .symtab is the file", "[symbols][corpus]") {
  auto c = open_core("crash_segv.kcore");
  const Module* exe = module_named(c->session->process(), "crash_segv");
  REQUIRE(exe);
  CHECK(c->session->symbols().symbol_source(*exe) == "file:" + exe->disk_path);
}

TEST_CASE("a call through a bad pointer unwinds from the return address on the stack", "[symbols][corpus]") {
  auto c = open_core("crash_segv.kcore");
  const Process& p = c->session->process();
  Symbolizer& s = c->session->symbols();
  Thread t = *p.crashed_thread();
  auto good = s.backtrace(t);
  REQUIRE(good.size() >= 3);
  // Pretend level_three had called address 0 instead of crash_here: the stack then holds
  // the return address into level_three (frame 1's pc) on top, and rbp is level_three's
  // (the one crash_here saved at [rbp]).
  std::optional<uint64_t> slot;
  for (uint64_t a = t.sp(); a < t.sp() + 4096; a += 8)
    if (c->session->memory().read_u64(a) == good[1].pc) {
      slot = a;
      break;
    }
  REQUIRE(slot);
  auto caller_rbp = c->session->memory().read_u64(t.regs[kRbp]);
  REQUIRE(caller_rbp);
  t.regs[kRip] = 0;
  t.regs[kRsp] = *slot;
  t.regs[kRbp] = *caller_rbp;
  auto frames = s.backtrace(t);
  REQUIRE(frames.size() >= 3);
  CHECK(frames[0].pc == 0);
  CHECK_FALSE(frames[0].function);
  CHECK(frames[1].pc == good[1].pc);
  CHECK(frames[1].function == "level_three");
  CHECK(program_chain(frames, c->truth["functions"]) ==
        std::vector<std::string>{"level_three", "level_two", "level_one", "main"});
}

TEST_CASE("garbage registers end the backtrace without crashing or looping", "[symbols][corpus]") {
  auto c = open_core("crash_segv.kcore");
  const Process& p = c->session->process();
  Symbolizer& s = c->session->symbols();
  const Thread& crashed = *p.crashed_thread();
  uint64_t stack = crashed.sp();
  const uint64_t patterns[][3] = {
      // rip, rsp, rbp
      {0, 0, 0},
      {0x4141414141414141, 0x4141414141414141, 0x4141414141414141},
      {crashed.pc(), stack, stack},          // rbp pointing at itself
      {crashed.pc(), stack, stack - 0x100},  // rbp below rsp
      {crashed.pc(), 0xfffffffffffffff8, 0},
      {crashed.pc(), stack + 3, stack + 5},  // misaligned
      {0xffffffffffffffff, stack, stack},
  };
  for (const auto& pat : patterns) {
    Thread t = crashed;
    t.regs[kRip] = pat[0];
    t.regs[kRsp] = pat[1];
    t.regs[kRbp] = pat[2];
    auto frames = s.backtrace(t);
    CHECK(!frames.empty());
    CHECK(frames.size() <= 256 * 4);
  }
  // Every register garbage, including the ones CFI expressions may read.
  Thread t = crashed;
  for (auto& r : t.regs) r = 0xdeadbeefdeadbeef;
  CHECK(s.backtrace(t).size() <= 256 * 4);
}
