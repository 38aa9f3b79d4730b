// End-to-end: leak classification on the census cores against the reachability each
// census chunk was given (globals, a live stack frame, other chunks, nothing).
#include <catch2/catch.hpp>
#include <set>

#include "support/cli.hpp"

using coresift::test::corpus_core;
using coresift::test::corpus_truth;
using coresift::test::run_json;
using nlohmann::json;

TEST_CASE("leaks: definite and indirect sets equal the census truth", "[e2e][leaks]") {
  for (std::string stem : {"census.kcore", "census.gcore"}) {
    DYNAMIC_SECTION(stem) {
      json truth = corpus_truth(stem);
      json doc = run_json({"leaks", corpus_core(stem + ".core.zst")});
      std::set<std::string> want_definite, want_indirect, reachable;
      for (const auto& a : truth["allocations"]) {
        if (a["state"] != "live") continue;
        std::string reach = a["reach"];
        if (reach == "definite") want_definite.insert(a["addr"]);
        else if (reach == "indirect") want_indirect.insert(a["addr"]);
        else reachable.insert(a["addr"]);
      }
      REQUIRE(!want_definite.empty());
      REQUIRE(!want_indirect.empty());
      std::set<std::string> got_definite, got_indirect, got_leaked;
      for (const auto& l : doc["leaks"]) {
        got_leaked.insert(l["address"]);
        if (l["kind"] == "definite") got_definite.insert(l["address"]);
        if (l["kind"] == "indirect") got_indirect.insert(l["address"]);
      }
      CHECK(got_definite == want_definite);
      CHECK(got_indirect == want_indirect);
      for (const auto& r : reachable) {
        INFO("reachable chunk reported leaked: " << r);
        CHECK(got_leaked.count(r) == 0);
      }
      CHECK(doc["summary"]["definite_chunks"] == want_definite.size());
      CHECK(doc["summary"]["indirect_chunks"] == want_indirect.size());
    }
  }
}
