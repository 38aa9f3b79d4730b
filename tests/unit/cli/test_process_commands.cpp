// End-to-end: the real binary on corpus cores, compared with the truth each corpus program
// recorded about itself.
#include <catch2/catch.hpp>
#include <set>

#include "support/cli.hpp"
#include "unit/input/temp_dir.hpp"

using coresift::test::corpus_core;
using coresift::test::corpus_module_args;
using coresift::test::corpus_truth;
using coresift::test::run_cli;
using coresift::test::run_json;
using nlohmann::json;

namespace {

std::vector<std::string> args_for(const std::string& command, const std::string& stem) {
  std::vector<std::string> a{command, corpus_core(stem + ".core.zst")};
  for (auto& m : corpus_module_args()) a.push_back(m);
  return a;
}

std::set<int> truth_tids(const json& truth) {
  std::set<int> tids;
  for (const auto& t : truth["threads"]) tids.insert(t["tid"].get<int>());
  return tids;
}

const json* find_label(const json& mappings, const std::string& label) {
  for (const auto& m : mappings)
    if (m["label"].is_string() && m["label"] == label) return &m;
  return nullptr;
}

uint64_t hex(const json& j) { return std::stoull(j.get<std::string>(), nullptr, 16); }

}  // namespace

TEST_CASE("info matches the recorded process, threads and signal", "[e2e][info]") {
  for (std::string stem : {"census.kcore", "census.gcore", "crash_segv.kcore", "crash_segv.gcore",
                           "crash_segv-stripped.kcore", "crash_abort.kcore", "corrupt_top.kcore", "double_free.kcore"}) {
    DYNAMIC_SECTION(stem) {
      json truth = corpus_truth(stem);
      json info = run_json(args_for("info", stem));
      CHECK(info["process"]["pid"] == truth["pid"]);
      std::string program = truth["program"];
      if (truth["generator"]["binary_stripped"].get<bool>()) program += "-stripped";
      std::string exe = info["process"]["executable"];
      CHECK(exe.size() > program.size());
      CHECK(exe.substr(exe.size() - program.size() - 1) == "/" + program);
      REQUIRE(!info["process"]["argv"].empty());
      CHECK(info["process"]["argv"][0] == exe);

      std::set<int> tids;
      for (const auto& t : info["threads"]) tids.insert(t["tid"].get<int>());
      CHECK(tids == truth_tids(truth));

      const json& crash = truth["crash"];
      if (crash.is_null() || stem.find(".gcore") != std::string::npos) {
        CHECK(info["signal"].is_null());
        for (const auto& t : info["threads"]) CHECK_FALSE(t["crashed"].get<bool>());
      } else {
        REQUIRE(info["signal"].is_object());
        CHECK(info["signal"]["number"] == crash["signal"]);
        CHECK(info["signal"]["name"] == crash["signal_name"]);
        CHECK(info["signal"]["tid"] == crash["tid"]);
        if (crash.contains("si_code") && !crash["si_code"].is_null()) CHECK(info["signal"]["code"] == crash["si_code"]);
        if (crash.contains("fault_addr") && !crash["fault_addr"].is_null())
          CHECK(hex(info["signal"]["address"]) == hex(crash["fault_addr"]));
        for (const auto& t : info["threads"]) CHECK(t["crashed"].get<bool>() == (t["tid"] == crash["tid"]));
      }

      bool saw_libc = false;
      for (const auto& m : info["modules"])
        if (m["path"].get<std::string>().find("libc.so.6") != std::string::npos) {
          saw_libc = true;
          CHECK(m["build_id"] == truth["generator"]["libc_build_id"]);
        }
      CHECK(saw_libc);
      for (const auto& t : info["threads"]) {
        CHECK(t["registers"]["rip"].is_string());
        CHECK(hex(t["registers"]["fs_base"]) != 0);
      }
      CHECK(info["warnings"].empty());
    }
  }
}

TEST_CASE("maps labels the heap, every thread stack and arena heaps", "[e2e][maps]") {
  for (std::string stem : {"census.kcore", "census.gcore"}) {
    DYNAMIC_SECTION(stem) {
      json truth = corpus_truth(stem);
      json maps = run_json(args_for("maps", stem))["mappings"];
      const json* heap = find_label(maps, "[heap]");
      REQUIRE(heap);
      // Every main-arena allocation of the census lies in [heap]; worker ones in arena heaps.
      for (const auto& a : truth["allocations"]) {
        if (a["class"] == "mmapped") continue;
        uint64_t addr = hex(a["addr"]);
        int thread = a["thread"];
        if (thread == 0) {
          CHECK((addr >= hex((*heap)["start"]) && addr < hex((*heap)["end"])));
        } else {
          bool in_arena = false;
          for (const auto& m : maps)
            if (m["label"] == "[arena-heap]" && addr >= hex(m["start"]) && addr < hex(m["end"])) in_arena = true;
          CHECK(in_arena);
        }
      }
      for (const auto& t : truth["threads"]) {
        std::string label = t["main_thread"].get<bool>() ? "[stack]" : "[stack:" + std::to_string(t["tid"].get<int>()) + "]";
        CHECK(find_label(maps, label));
        if (!t["main_thread"].get<bool>()) CHECK(find_label(maps, "[guard:" + std::to_string(t["tid"].get<int>()) + "]"));
      }
    }
  }
}

TEST_CASE("show finds the mapping and dumps the bytes of a known allocation", "[e2e][show]") {
  json truth = corpus_truth("census.kcore");
  const json* alloc = nullptr;
  for (const auto& a : truth["allocations"])
    if (a["class"] == "small24" && a["state"] == "live") {
      alloc = &a;
      break;
    }
  REQUIRE(alloc);
  std::vector<std::string> args{"show", corpus_core("census.kcore.core.zst"), (*alloc)["addr"].get<std::string>(), "-n", "32"};
  json doc = run_json(args);
  CHECK(doc["mapping"]["label"] == "[heap]");
  CHECK(doc["present_bytes"] == 32);
  std::string text;
  for (const auto& b : doc["bytes"]) text += static_cast<char>(b.get<int>());
  CHECK(text.rfind("census-small-", 0) == 0);

  // The text form names the mapping and shows the ASCII column.
  auto r = run_cli(args_for("show", "census.kcore"));  // missing ADDR: usage error
  CHECK(r.status == 2);
  args.pop_back();
  args.pop_back();
  r = run_cli(args);
  CHECK(r.status == 0);
  CHECK(r.out.find("[heap]") != std::string::npos);
  CHECK(r.out.find("|census-small-") != std::string::npos);
}

TEST_CASE("show marks bytes absent from a kernel core instead of printing zeros", "[e2e][show]") {
  // Kernel cores leave out file-backed text: the executable's code is mapped but absent.
  json truth = corpus_truth("crash_segv.kcore");
  std::string main_addr = truth["functions"]["main"];
  // An empty --sysroot: the module file is not found, so nothing can stand in for the bytes
  // (with the file, show reads them from it: damaged_corpus_test.cpp).
  coresift::test::TempDir empty;
  json doc = run_json({"show", corpus_core("crash_segv.kcore.core.zst"), main_addr, "-n", "16", "--sysroot", empty.path()});
  CHECK(doc["mapping"]["perms"] == "r-x");
  CHECK(doc["present_bytes"] == 0);
  CHECK(doc["file_bytes"] == 0);
  for (const auto& b : doc["bytes"]) CHECK(b.is_null());
  CHECK(doc["module"]["path"].get<std::string>().find("crash_segv") != std::string::npos);
}

TEST_CASE("raw dumped ranges load at their address, named by --maps", "[e2e][raw]") {
  json truth = corpus_truth("census.gcore");
  REQUIRE(truth["dumps"].size() >= 2);
  std::vector<std::string> args{"maps"};
  for (const auto& d : truth["dumps"])
    args.push_back(corpus_core(d["file"].get<std::string>()) + "@" + d["start"].get<std::string>());
  json plain = run_json(args);
  REQUIRE(plain["mappings"].size() == truth["dumps"].size());
  for (size_t i = 0; i < truth["dumps"].size(); ++i) {
    CHECK(plain["mappings"][i]["start"] == truth["dumps"][i]["start"]);
    CHECK(plain["mappings"][i]["present_bytes"] == truth["dumps"][i]["size"]);
  }
  args.push_back("--maps");
  args.push_back(corpus_core("census.maps"));
  json named = run_json(args);
  CHECK(find_label(named["mappings"], "[heap]"));

  // A tracked main-heap allocation reads back from the dump.
  for (const auto& a : truth["allocations"])
    if (a["class"] == "small24" && a["thread"] == 0 && a["state"] == "live") {
      json doc = run_json({"show", corpus_core("census.heap.bin.zst") + "@" + truth["dumps"][0]["start"].get<std::string>(),
                           a["addr"].get<std::string>(), "-n", "13"});
      std::string text;
      for (const auto& b : doc["bytes"]) text += static_cast<char>(b.get<int>());
      CHECK(text == "census-small-");
      break;
    }
}

TEST_CASE("threads: the crashing stack names every function down to main", "[e2e][threads]") {
  for (std::string stem : {"crash_segv.kcore", "crash_segv.gcore", "crash_abort.kcore"}) {
    DYNAMIC_SECTION(stem) {
      json truth = corpus_truth(stem);
      json doc = run_json(args_for("threads", stem));
      for (const auto& tt : truth["threads"]) {
        const json* thread = nullptr;
        for (const auto& t : doc["threads"])
          if (t["tid"] == tt["tid"]) thread = &t;
        REQUIRE(thread);
        // The program's own functions, in order, as a subsequence of the unwound frames
        // (libc frames such as raise/abort sit above them).
        std::vector<std::string> names;
        for (const auto& f : (*thread)["frames"])
          if (f["function"].is_string()) names.push_back(f["function"]);
        size_t at = 0;
        for (const auto& want : tt["chain"]) {
          while (at < names.size() && names[at] != want.get<std::string>()) ++at;
          INFO("thread " << tt["tid"] << " missing " << want);
          CHECK(at < names.size());
        }
        for (const auto& f : (*thread)["frames"]) CHECK(f["module"].is_string());
      }
    }
  }
}

TEST_CASE("threads: a stripped binary still gives module + file offset per frame", "[e2e][threads]") {
  auto crashed_frames = [](const json& doc) {
    for (const auto& t : doc["threads"])
      if (t["crashed"].get<bool>()) return t["frames"];
    return json::array();
  };
  json full = crashed_frames(run_json(args_for("threads", "crash_segv.kcore")));
  auto stripped_args = args_for("threads", "crash_segv-stripped.kcore");
  stripped_args.push_back("--no-debuginfo");
  json stripped = crashed_frames(run_json(stripped_args));
  REQUIRE(full.size() >= 6);
  REQUIRE(stripped.size() == full.size());
  // Same code, same layout: every frame lands at the same module offset.
  for (size_t i = 0; i < full.size(); ++i) {
    CHECK(stripped[i]["module_offset"] == full[i]["module_offset"]);
    REQUIRE(stripped[i]["module"].is_string());
    std::string m = stripped[i]["module"];
    CHECK((m.find("crash_segv-stripped") != std::string::npos || m.find("libc.so.6") != std::string::npos));
  }
}
