// End-to-end: owners on the census cores. Census records how each allocation is reachable
// (a global array in the executable, a live frame of worker_main in the executable, another
// chunk, or nothing), which fixes its owner; retained bytes are recomputed here from the
// per-chunk owners and dominators of `chunks --json`.
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "support/cli.hpp"

using coresift::test::corpus_core;
using coresift::test::corpus_truth;
using coresift::test::run_json;
using nlohmann::json;

namespace {

std::string basename_of(const std::string& p) { return p.substr(p.rfind('/') + 1); }

const char* kStems[] = {"census.kcore", "census.gcore"};

}  // namespace

TEST_CASE("owners: census chunks belong to the executable, leaked ones to nobody", "[e2e][owners]") {
  for (std::string stem : kStems) {
    DYNAMIC_SECTION(stem) {
      json truth = corpus_truth(stem);
      std::string exe = basename_of(truth["generator"]["binary"]);
      REQUIRE(exe == truth["program"]);
      json doc = run_json({"chunks", "--state", "live", corpus_core(stem + ".core.zst")});
      std::map<std::string, json> by_addr;
      for (const auto& c : doc["chunks"]) by_addr[c["address"]] = c;
      size_t checked = 0;
      for (const auto& a : truth["allocations"]) {
        if (a["state"] != "live") continue;
        std::string reach = a["reach"];
        INFO(stem << " " << a["class"].get<std::string>() << " " << a["addr"].get<std::string>() << " reach " << reach);
        REQUIRE(by_addr.count(a["addr"]));
        const json& c = by_addr[a["addr"]];
        if (reach == "static" || reach == "stack") {
          // Held only by the executable's globals or worker_main's frame: the pseudo-node of
          // the executable dominates it.
          CHECK(c["owner"] == exe);
          CHECK(c["owner_evidence"] == "dominator");
          CHECK(c["dominator"] == "root:" + exe);
        } else if (reach == "heap") {
          // Held only by its parent chunk: inherits the parent's owner.
          CHECK(c["dominator"] == a["parent"]);
          CHECK(c["owner"] == by_addr[a["parent"]]["owner"]);
          CHECK(c["owner"] == exe);
        } else {  // definite, indirect: no root reaches it
          CHECK(c["owner"] == "unknown");
          CHECK(c["owner_evidence"] == "none");
          CHECK(c["dominator"].is_null());
        }
        ++checked;
      }
      CHECK(checked > 200);
    }
  }
}

TEST_CASE("owners: retained bytes equal the owned dominator subtrees of chunks --json", "[e2e][owners]") {
  for (std::string stem : kStems) {
    DYNAMIC_SECTION(stem) {
      std::string core = corpus_core(stem + ".core.zst");
      json owners = run_json({"owners", core});
      json chunks = run_json({"chunks", "--state", "live", core});
      std::map<std::string, json> by_addr;
      for (const auto& c : chunks["chunks"])
        if (c["owner"].is_string()) by_addr[c["address"]] = c;
      // Independently: a chunk's bytes count for every owner that owns a node on its path
      // to the virtual root (itself included); pseudo-nodes "root:X" are X's ("root:anon:…"
      // are unknown's).
      std::map<std::string, uint64_t> retained, bytes, count;
      for (const auto& [addr, c] : by_addr) {
        uint64_t size = c["size"];
        bytes[c["owner"]] += size;
        count[c["owner"]]++;
        std::set<std::string> on_path{c["owner"].get<std::string>()};
        json d = c["dominator"];
        for (size_t steps = 0; d.is_string(); ++steps) {
          REQUIRE(steps < by_addr.size());  // the dominator chain ends
          std::string ds = d;
          if (ds.starts_with("root:")) {
            on_path.insert(ds.starts_with("root:anon:") ? "unknown" : ds.substr(5));
            break;
          }
          REQUIRE(by_addr.count(ds));
          on_path.insert(by_addr[ds]["owner"].get<std::string>());
          d = by_addr[ds]["dominator"];
        }
        for (const auto& o : on_path) retained[o] += size;
      }
      uint64_t total_bytes = 0, total_chunks = 0;
      bool saw_unknown = false;
      for (const auto& o : owners["owners"]) {
        std::string name = o["name"];
        INFO(stem << " owner " << name);
        saw_unknown |= name == "unknown";
        CHECK(o["bytes"] == bytes[name]);
        CHECK(o["chunks"] == count[name]);
        CHECK(o["retained_bytes"] == retained[name]);
        CHECK(o["retained_bytes"].get<uint64_t>() >= o["bytes"].get<uint64_t>());
        const json& e = o["evidence"];
        CHECK(e["content"].get<uint64_t>() + e["dominator"].get<uint64_t>() + e["rule"].get<uint64_t>() +
                  e["none"].get<uint64_t>() == o["chunks"].get<uint64_t>());
        total_bytes += o["bytes"].get<uint64_t>();
        total_chunks += o["chunks"].get<uint64_t>();
      }
      CHECK(saw_unknown);
      CHECK(total_bytes == owners["total_bytes"]);
      CHECK(total_chunks == owners["total_chunks"]);
      CHECK(total_chunks == by_addr.size());
      // Sorted by bytes, biggest first; the executable holds most of census's heap.
      for (size_t i = 1; i < owners["owners"].size(); ++i)
        CHECK(owners["owners"][i - 1]["bytes"].get<uint64_t>() >= owners["owners"][i]["bytes"].get<uint64_t>());
      json truth = corpus_truth(stem);
      CHECK(owners["owners"][0]["name"] == truth["program"]);
      CHECK(owners["owners"][0]["kind"] == "module");
    }
  }
}

TEST_CASE("groups --by owner agrees with owners", "[e2e][owners]") {
  std::string core = corpus_core("census.kcore.core.zst");
  json owners = run_json({"owners", core});
  json groups = run_json({"groups", "--by", "owner", "--top", "0", core});
  CHECK(groups["by"] == "owner");
  std::map<std::string, uint64_t> owner_bytes, group_bytes;
  for (const auto& o : owners["owners"]) owner_bytes[o["name"]] = o["bytes"];
  for (const auto& g : groups["groups"]) group_bytes[g["key"]] = g["bytes"];
  CHECK(owner_bytes == group_bytes);
}
