// The synthetic cores drive the process builder the way real ones do, so the fuzz seeds
// built from them reach the module, stack and command-line decoders.
#include <elf.h>

#include <catch2/catch.hpp>
#include <csignal>

#include "coresift/input/inputs.hpp"
#include "coresift/process/process.hpp"
#include "unit/input/synthetic_core.hpp"
#include "unit/input/temp_dir.hpp"

using namespace coresift;
using namespace coresift::test;

namespace {

struct Built {
  LoadedInputs in;
  Process p;
};

Built build(const TempDir& dir, const Bytes& core, Diagnostics& diag) {
  Built b;
  b.in = load_inputs({dir.write("core", core)}, diag);
  ProcessOptions opts;
  opts.sysroot = dir.path() + "/no-sysroot";  // never read the host's files
  b.p = build_process(b.in, opts, diag);
  return b;
}

}  // namespace

TEST_CASE("rich core: argv, envp, module build-id and executable from memory", "[input][process]") {
  TempDir dir;
  Diagnostics diag;
  Built b = build(dir, rich_core().bytes(), diag);
  const Process& p = b.p;
  CHECK(p.pid == 4242);
  CHECK(p.argv == std::vector<std::string>{"rich", "-x"});
  CHECK(p.envp == std::vector<std::string>{"HOME=/root"});
  CHECK(p.executable == "/usr/bin/rich");
  REQUIRE(p.modules.size() == 1);
  CHECK(p.modules[0].build_id == "0102030405060708090a0b0c0d0e0f1011121314");
  CHECK(p.modules[0].build_id_source == "core");
  CHECK(p.modules[0].load_bias == 0);
  REQUIRE(p.signal);
  CHECK(p.signal->name == "SIGABRT");
  CHECK(p.signal->sender_pid == 4242);
  REQUIRE(p.crashed_thread());
  CHECK(p.crashed_thread()->tid == 4242);
  const Mapping* stack = p.mapping_at(0x7ffd0800);
  REQUIRE(stack);
  CHECK(stack->label == "[stack]");
}

TEST_CASE("typical core: fault address, psargs fallback, present bytes per mapping", "[input][process]") {
  TempDir dir;
  Diagnostics diag;
  Built b = build(dir, typical_core().bytes(), diag);
  const Process& p = b.p;
  REQUIRE(p.signal);
  CHECK(p.signal->number == SIGSEGV);
  CHECK(p.signal->code_name == "SEGV_MAPERR");
  CHECK(p.signal->address == 0xdeadu);
  CHECK(p.argv == std::vector<std::string>{"/bin/true", "--flag"});  // no initial stack: psargs
  REQUIRE(p.mappings.size() == 3);
  CHECK(p.mappings[1].size() == 0x200);
  CHECK(p.mappings[1].present_bytes == 0x80);
  CHECK(p.mappings[0].path == "/bin/true");
}

TEST_CASE("a core without thread notes builds a process with a warning", "[input][process]") {
  TempDir dir;
  Diagnostics diag;
  Built b = build(dir, CoreBuilder().load(0x1000, 0x10, pattern(0x10)).bytes(), diag);
  CHECK(b.p.threads.empty());
  CHECK_FALSE(b.p.signal);
  // One warning per empty answer, each saying why: no threads, and no modules (no NT_FILE
  // note and no ELF image in memory to recover them from).
  REQUIRE(diag.warnings().size() == 2);
  CHECK_THAT(diag.warnings()[0].message, Catch::Contains("no thread notes"));
  CHECK_THAT(diag.warnings()[1].message, Catch::Contains("no modules") && Catch::Contains("no NT_FILE note"));
}
