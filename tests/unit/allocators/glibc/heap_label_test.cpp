// The `[heap]` label: the process model guesses it from the executable's .bss; walking glibc's
// main arena corrects it from where the sbrk heap really is (the census program recorded its
// /proc/PID/maps `[heap]` range as the main_heap dump).
#include <catch2/catch.hpp>

#include "corpus.hpp"

using namespace glibc_test;

namespace {

std::vector<const coresift::Mapping*> labelled_heap(const coresift::Process& p) {
  std::vector<const coresift::Mapping*> out;
  for (const auto& m : p.mappings)
    if (m.label == "[heap]") out.push_back(&m);
  return out;
}

}  // namespace

TEST_CASE("the [heap] label follows glibc's sbrk heap, even when the guess was wrong", "[glibc][corpus][labels]") {
  auto truth = load_json(cores_dir() + "census.gcore.truth.json");
  uint64_t start = 0, end = 0;
  for (const auto& d : truth["dumps"])
    if (d["kind"] == "main_heap") start = hex(d["start"]), end = hex(d["end"]);
  REQUIRE(start != 0);

  SECTION("kept when the guess was right") {
    auto s = open({cores_dir() + "census.gcore.core.zst"});
    s->heap();
    auto heaps = labelled_heap(s->process());
    REQUIRE(heaps.size() == 1);
    CHECK(heaps[0]->start == start);
    CHECK(heaps[0]->end == end);
  }
  SECTION("moved when the guess was wrong") {
    auto s = open({cores_dir() + "census.gcore.core.zst"});
    // Pretend the guess picked another anonymous writable mapping.
    coresift::Mapping* wrong = nullptr;
    for (auto& m : s->mutable_process().mappings) {
      if (m.label == "[heap]") m.label.clear();
      else if (!wrong && m.path.empty() && m.label.empty() && (m.perms & coresift::kPermWrite) && m.start != start) wrong = &m;
    }
    REQUIRE(wrong);
    wrong->label = "[heap]";
    s->heap();
    auto heaps = labelled_heap(s->process());
    REQUIRE(heaps.size() == 1);
    CHECK(heaps[0]->start == start);
    CHECK(heaps[0]->end == end);
  }
}
