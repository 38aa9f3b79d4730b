// Thread caches without the library file and without arena->tcache_ql (a build without
// stats): the TLS offset is found by scanning below each thread's fs_base for a tsd whose
// tcache points into itself.
#include <catch2/catch.hpp>

#include "allocators/jemalloc/je_context.hpp"
#include "allocators/jemalloc/je_generated_core.hpp"
#include "cli/session.hpp"

using namespace coresift;

TEST_CASE("jemalloc tcaches: TLS scan when neither the library nor tcache_ql helps", "[jemalloc][je-cores]") {
  const coresift::test::JeCore* core = coresift::test::je_core_or_skip("gcore");
  if (!core) return;
  Options o;
  o.inputs = {core->core};
  auto s = Session::open(o);
  ChunkTable scratch;
  je::Context c;
  REQUIRE(coresift::test::prepare_je_context(c, *s, scratch));
  bool ok = false;
  for (const je::Layout& l : je::layouts_for("")) {
    c.layout = l;
    if (je::locate_arenas(c)) {
      ok = true;
      break;
    }
  }
  REQUIRE(ok);
  c.layout.arena_tcache_ql = je::kNoField;  // as if jemalloc kept no tcache lists
  je::locate_tcaches(c);
  REQUIRE(c.tpoff);
  CHECK(c.tpoff_source.rfind("TLS scan", 0) == 0);
  CHECK(c.tcaches.size() == core->truth.threads.size());
  for (const auto& th : core->truth.threads) {
    bool found = false;
    for (const je::TcacheInfo& t : c.tcaches)
      if (t.tid == th["tid"].get<int>()) {
        found = true;
        CHECK(t.arena == th["arena"].get<uint32_t>());
      }
    CHECK(found);
  }
  CHECK(c.cached.size() > 1000);
}
