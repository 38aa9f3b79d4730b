// The `[heap]` label: the process model guesses it from the executable's .bss; walking glibc's
// main arena corrects it from where the sbrk heap really is (the census program recorded its
// /proc/PID/maps `[heap]` range as the main_heap dump).
#include <catch2/catch.hpp>

#include "corpus.hpp"

using namespace glibc_test;

namespace {

// The mappings a heap model calls [heap].
std::vector<const coresift::Mapping*> labelled_heap(const coresift::HeapModel& h) {
  std::vector<const coresift::Mapping*> out;
  for (const auto& m : h.process().mappings)
    if (h.kind(m) == coresift::MappingKind::kHeap) {
      CHECK(h.label(m) == "[heap]");
      out.push_back(&m);
    }
  return out;
}

}  // namespace

TEST_CASE("the [heap] label follows glibc's sbrk heap, even when the guess was wrong", "[glibc][corpus][labels]") {
  auto truth = load_json(cores_dir() + "census.gcore.truth.json");
  uint64_t start = 0, end = 0;
  for (const auto& d : truth["dumps"])
    if (d["kind"] == "main_heap") start = hex(d["start"]), end = hex(d["end"]);
  REQUIRE(start != 0);

  auto s = open({cores_dir() + "census.gcore.core.zst"});
  const coresift::HeapModel& h = s->heap_model();
  SECTION("kept when the guess was right") {
    auto heaps = labelled_heap(h);
    REQUIRE(heaps.size() == 1);
    CHECK(heaps[0]->start == start);
    CHECK(heaps[0]->end == end);
    CHECK(heaps[0]->kind == coresift::MappingKind::kHeap);  // the process model's guess, unchanged
  }
  SECTION("moved when the guess was wrong") {
    // Pretend the guess picked another anonymous writable mapping and missed the real one.
    const coresift::Mapping* wrong = nullptr;
    coresift::Mapping real;
    for (const auto& m : h.process().mappings) {
      if (m.kind == coresift::MappingKind::kHeap) real = m;
      else if (!wrong && m.kind == coresift::MappingKind::kAnonymous && (m.perms & coresift::kPermWrite)) wrong = &m;
    }
    REQUIRE(wrong);
    REQUIRE(real.start == start);
    coresift::Mapping guessed = *wrong;
    guessed.mark(coresift::MappingKind::kHeap);
    real.kind = coresift::MappingKind::kAnonymous;
    real.label.clear();
    CHECK(h.kind(guessed) == coresift::MappingKind::kAnonymous);
    CHECK(h.label(guessed).empty());
    CHECK(h.kind(real) == coresift::MappingKind::kHeap);
    CHECK(h.label(real) == "[heap]");
  }
}
