// JVM agents from a process's command line and mapped libraries (find_jvm_agents only reads
// Process::argv and Process::modules, so hand-made processes state the cases exactly).
#include <catch2/catch.hpp>

#include "coresift/analysis/owners.hpp"

using coresift::find_jvm_agents;
using coresift::Module;
using coresift::Process;

namespace {

Process java(std::vector<std::string> argv, std::vector<std::string> libs) {
  Process p;
  p.argv = std::move(argv);
  uint64_t base = 0x7f0000000000;
  for (const auto& l : libs) {
    Module m;
    m.path = l;
    m.base = base;
    m.end = base + 0x10000;
    base += 0x100000;
    p.modules.push_back(m);
  }
  return p;
}

}  // namespace

TEST_CASE("agents: -agentlib, -agentpath and -javaagent before the main class", "[owners][agents]") {
  Process p = java({"java", "-Xmx32m", "-agentlib:jdwp=transport=dt_socket,server=y", "-agentpath:/opt/prof/libmyprof.so=interval=1",
                    "-javaagent:/opt/agents/trace-agent.jar=opts", "-cp", "app.jar", "Main", "-agentlib:notanagent"},
                   {"/usr/bin/java", "/usr/lib/jvm/lib/server/libjvm.so", "/usr/lib/jvm/lib/libjdwp.so", "/opt/prof/libmyprof.so"});
  auto agents = find_jvm_agents(p);
  REQUIRE(agents.size() == 3);
  CHECK(agents[0].name == "jdwp");
  CHECK(agents[0].source == "agentlib");
  CHECK(agents[0].module == 2);
  CHECK(agents[1].name == "myprof");
  CHECK(agents[1].source == "agentpath");
  CHECK(agents[1].module == 3);
  CHECK(agents[2].name == "trace-agent.jar");
  CHECK(agents[2].source == "javaagent");
  CHECK(agents[2].module == -1);
}

TEST_CASE("agents: a known agent library counts without argv, once", "[owners][agents]") {
  Process p = java({}, {"/usr/lib/jvm/lib/server/libjvm.so", "/usr/lib/jvm/lib/libinstrument.so", "/usr/lib/jvm/lib/libzip.so"});
  auto agents = find_jvm_agents(p);
  REQUIRE(agents.size() == 1);
  CHECK(agents[0].name == "instrument");
  CHECK(agents[0].source == "mapped");
  CHECK(agents[0].module == 1);

  Process q = java({"java", "-agentlib:jdwp=server=y", "-jar", "app.jar"}, {"/usr/lib/jvm/lib/libjdwp.so"});
  auto a = find_jvm_agents(q);
  REQUIRE(a.size() == 1);  // argv and the mapped library name the same agent
  CHECK(a[0].source == "agentlib");
  CHECK(a[0].module == 0);
}

TEST_CASE("agents: a plain C program has none", "[owners][agents]") {
  Process p = java({"census", "/tmp/t.json", "wait"}, {"/usr/bin/census", "/usr/lib/x86_64-linux-gnu/libc.so.6"});
  CHECK(find_jvm_agents(p).empty());
}
