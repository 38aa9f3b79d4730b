// End-to-end: `owners` on three kernel cores of OpenJDK 17 running corpus/jvm/ZipAgentLoad.java,
// one with the jdwp agent, one without, one with jdwp, NMT and jdb attached (made by
// corpus/jvm/make-jvm-cores.sh once per ctest run, see jvm_cores.hpp).  The jdwp agent tags every prepared class with a malloc'd
// signature string ("Lgen/C0042;"), so with the agent an owner "jdwp" of kind "agent" must
// hold at least the N generated classes' signatures, and without it no jdwp owner may exist.
// The zlib state of the D open GZIPOutputStreams and I open Inflaters must be attributed
// with exactly the counts the program recorded (one z_stream per stream, one deflate_state
// per deflater, one inflate_state per inflater, one window per inflater that inflated data).
// With NMT every block jdwp gets from JVMTI sits 16 bytes into its chunk; jdwp must still own
// its class signatures and the tag-map entries holding them, found in the core by
// check_jvm_core.py (nmt.refs.json) from raw memory.
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "cli/jvm_cores.hpp"
#include "support/skip.hpp"
#include "support/cli.hpp"
#include "unit/input/temp_dir.hpp"

using coresift::test::run_json;
using coresift::test::read_text;
using nlohmann::json;

namespace {

constexpr int kClasses = coresift::test::kJvmClasses;
constexpr int kDeflaters = coresift::test::kJvmDeflaters;
constexpr int kInflaters = coresift::test::kJvmInflaters;

uint64_t hex(const json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }

// jdwp's class-tracking tag is the JVM type signature of the class; the signature agent may
// name it as plain text or as a JVM signature.
bool is_generated_class_signature(const std::string& sig) {
  for (std::string prefix : {"text:", "jvm-sig:"})
    if (sig.rfind(prefix + "Lgen/C", 0) == 0) return true;
  return false;
}

std::string owner_of(const json& chunk) {
  if (!chunk.contains("owner")) return "";
  const json& o = chunk["owner"];
  if (o.is_string()) return o.get<std::string>();
  if (o.is_object() && o.contains("name")) return o["name"].get<std::string>();
  return "";
}

std::string signature_of(const json& chunk) {
  return chunk.contains("signature") && chunk["signature"].is_string() ? chunk["signature"].get<std::string>() : "";
}

const json* find_owner(const json& owners, const std::string& name) {
  const json* found = nullptr;
  for (const auto& o : owners["owners"])
    if (o["name"] == name) {
      CHECK(found == nullptr);  // one entry per owner
      found = &o;
    }
  return found;
}

struct ZipTruth {
  std::set<uint64_t> deflater_streams, inflater_streams;
  uint64_t with_window = 0;
};

// The program's own record of its streams, checked for consistency with what was asked.
ZipTruth zip_truth(const json& truth) {
  ZipTruth z;
  for (const auto& a : truth["deflaters"]["z_streams"]) z.deflater_streams.insert(hex(a));
  for (const auto& s : truth["inflaters"]["streams"]) {
    z.inflater_streams.insert(hex(s["z_stream"]));
    if (s["window"].get<bool>()) ++z.with_window;
  }
  CHECK(truth["deflaters"]["count"] == kDeflaters);
  CHECK(truth["inflaters"]["count"] == kInflaters);
  CHECK(z.deflater_streams.size() == kDeflaters);
  CHECK(z.inflater_streams.size() == kInflaters);
  CHECK(truth["inflaters"]["with_window"] == z.with_window);
  CHECK(z.with_window > 0);
  CHECK(z.with_window < kInflaters);
  return z;
}

// Every z_stream the program recorded is a live heap chunk of at least sizeof(z_stream)
// (112 on LP64): this much holds without any analysis.
void check_streams_are_chunks(const std::map<uint64_t, json>& chunks, const ZipTruth& z) {
  for (const auto* set : {&z.deflater_streams, &z.inflater_streams})
    for (uint64_t a : *set) {
      INFO("z_stream 0x" << std::hex << a);
      auto it = chunks.find(a);
      REQUIRE(it != chunks.end());
      CHECK(it->second["state"] == "live");
      CHECK(it->second["size"].get<uint64_t>() >= 112);
    }
}

// The zlib signatures and their owner, from `chunks --json`, `groups --by signature` and
// `owners`, against the recorded stream counts.
void check_zlib(const std::map<uint64_t, json>& chunks, const json& groups, const json& owners, const ZipTruth& z) {
  const uint64_t streams = z.deflater_streams.size() + z.inflater_streams.size();
  // The recorded streams are recognized as z_streams, all attributed to one owner.
  std::string zip_owner;
  for (const auto* set : {&z.deflater_streams, &z.inflater_streams})
    for (uint64_t a : *set) {
      INFO("z_stream 0x" << std::hex << a);
      const json& c = chunks.at(a);
      CHECK(signature_of(c) == "zlib:z_stream");
      std::string o = owner_of(c);
      CHECK_FALSE(o.empty());
      if (zip_owner.empty()) zip_owner = o;
      CHECK(o == zip_owner);
    }
  REQUIRE_FALSE(zip_owner.empty());
  // Named after the zlib/zip code (libz.so.1 or libzip.so), not after a caller.
  CHECK((zip_owner.find("zip") != std::string::npos || zip_owner.find("zlib") != std::string::npos ||
         zip_owner.find("libz") != std::string::npos));
  INFO("zlib owner " << zip_owner);

  std::map<std::string, uint64_t> total, owned;  // signature → live chunks (all / zlib owner's)
  for (const auto& [addr, c] : chunks) {
    if (c["state"] != "live") continue;
    std::string sig = signature_of(c);
    if (sig.rfind("zlib:", 0) != 0) continue;
    total[sig]++;
    if (owner_of(c) == zip_owner) owned[sig]++;
  }
  // No other z_stream is alive in this JVM (the program ends the one Deflater it uses
  // for its sample data; checked on the cores by scanning for state back-pointers).
  CHECK(total["zlib:z_stream"] == streams);
  CHECK(owned["zlib:z_stream"] == streams);
  CHECK(owned["zlib:deflate_state"] == z.deflater_streams.size());
  CHECK(owned["zlib:inflate_state"] == z.inflater_streams.size());
  CHECK(owned["zlib:inflate_window"] == z.with_window);
  CHECK(total["zlib:deflate_state"] == z.deflater_streams.size());
  CHECK(total["zlib:inflate_state"] == z.inflater_streams.size());
  CHECK(total["zlib:inflate_window"] == z.with_window);

  std::map<std::string, uint64_t> grouped;
  for (const auto& g : groups["groups"]) grouped[g["key"].get<std::string>()] = g["chunks"].get<uint64_t>();
  CHECK(grouped["zlib:z_stream"] == streams);
  CHECK(grouped["zlib:deflate_state"] == z.deflater_streams.size());
  CHECK(grouped["zlib:inflate_state"] == z.inflater_streams.size());
  CHECK(grouped["zlib:inflate_window"] == z.with_window);

  const json* o = find_owner(owners, zip_owner);
  REQUIRE(o);
  CHECK((*o)["kind"] != "unknown");
  CHECK((*o)["chunks"].get<uint64_t>() >= owned["zlib:z_stream"] + owned["zlib:deflate_state"] +
                                              owned["zlib:inflate_state"] + owned["zlib:inflate_window"]);
  for (const auto& s : (*o)["top_signatures"]) {
    std::string sig = s["signature"];
    if (owned.count(sig)) CHECK(s["chunks"].get<uint64_t>() == owned[sig]);
  }
}

// With the agent: "jdwp" is an agent owning at least one signature chunk per generated class.
void check_jdwp_owner(const std::map<uint64_t, json>& chunks, const json& owners, const json& truth) {
  const uint64_t n = truth["classes"]["count"].get<uint64_t>();
  const json* jdwp = find_owner(owners, "jdwp");
  REQUIRE(jdwp);
  CHECK((*jdwp)["kind"] == "agent");
  CHECK((*jdwp)["chunks"].get<uint64_t>() >= n);
  uint64_t owned_signatures = 0, all_signatures = 0;
  for (const auto& [addr, c] : chunks) {
    if (c["state"] != "live" || !is_generated_class_signature(signature_of(c))) continue;
    ++all_signatures;
    if (owner_of(c) == "jdwp") ++owned_signatures;
  }
  CHECK(owned_signatures >= n);
  // Only jdwp keeps such strings (none exist without the agent, see below).
  CHECK(owned_signatures == all_signatures);
  // A signature's referrer is its class's tag-map entry (sometimes also a stale word), so a
  // chunk dominating it is that entry or one on the entry's dominator chain (earlier entries,
  // bucket array, table, tag map, env): jdwp must own it, although stale words elsewhere in
  // the heap point at some entries (the tag map is followed from jdwp's JVMTI env).
  uint64_t dominated = 0, dominator_owned = 0;
  for (const auto& [addr, c] : chunks) {
    if (c["state"] != "live" || !is_generated_class_signature(signature_of(c))) continue;
    if (!c["dominator"].is_string() || c["dominator"].get<std::string>().rfind("0x", 0) != 0) continue;
    INFO("signature chunk 0x" << std::hex << addr);
    ++dominated;
    auto it = chunks.find(hex(c["dominator"]));
    REQUIRE(it != chunks.end());
    CHECK(it->second["state"] == "live");
    if (owner_of(it->second) == "jdwp") ++dominator_owned;
  }
  CHECK(dominated > 0);
  CHECK(dominator_owned == dominated);
  CHECK((*jdwp)["retained_bytes"].get<uint64_t>() >= (*jdwp)["bytes"].get<uint64_t>());
  uint64_t listed = 0;
  for (const auto& s : (*jdwp)["top_signatures"])
    if (is_generated_class_signature(s["signature"].get<std::string>())) listed += s["chunks"].get<uint64_t>();
  CHECK(listed >= n);
}

// Without the agent: no jdwp owner, no chunk attributed to jdwp, no class signature strings.
void check_no_jdwp(const std::map<uint64_t, json>& chunks, const json& owners) {
  CHECK(find_owner(owners, "jdwp") == nullptr);
  uint64_t jdwp_chunks = 0, signatures = 0;
  for (const auto& [addr, c] : chunks) {
    if (owner_of(c) == "jdwp") ++jdwp_chunks;
    if (c["state"] == "live" && is_generated_class_signature(signature_of(c))) ++signatures;
  }
  CHECK(jdwp_chunks == 0);
  CHECK(signatures == 0);
}

// With NMT: each generated class's signature block and the tag-map entry holding it (their
// payload addresses, 16 bytes into their chunks, found by check_jvm_core.py) are jdwp's.
void check_jdwp_owner_nmt(const std::map<uint64_t, json>& chunks, const json& owners, const json& refs) {
  const json* jdwp = find_owner(owners, "jdwp");
  REQUIRE(jdwp);
  CHECK((*jdwp)["kind"] == "agent");
  for (const char* what : {"signatures", "tag_entries"}) {
    INFO(what);
    CHECK(refs[what].size() == static_cast<size_t>(kClasses));
    uint64_t owned = 0;
    std::map<std::string, uint64_t> other;  // owner → count, for the message
    for (const auto& a : refs[what]) {
      auto it = chunks.find(hex(a) - 16);
      REQUIRE(it != chunks.end());
      CHECK(it->second["state"] == "live");
      CHECK(signature_of(it->second).rfind("nmt:", 0) == 0);
      if (owner_of(it->second) == "jdwp") ++owned;
      else other[owner_of(it->second)]++;
    }
    INFO("owned by others: " << json(other).dump());
    CHECK(owned == static_cast<uint64_t>(kClasses));
  }
  CHECK((*jdwp)["chunks"].get<uint64_t>() >= 2 * static_cast<uint64_t>(kClasses));
}

std::map<uint64_t, json> chunks_by_address(const std::string& core) {
  json doc = run_json({"chunks", core});
  std::map<uint64_t, json> by;
  for (auto& c : doc["chunks"]) by.emplace(hex(c["address"]), std::move(c));
  return by;
}

}  // namespace

TEST_CASE("owners: jdwp class tracking and zlib streams in OpenJDK 17 cores", "[e2e][owners][jvm]") {
  const auto& cores = coresift::test::jvm_cores();
  if (!cores.skip.empty()) return coresift::test::skip_test(cores.skip);
  INFO(cores.log);
  REQUIRE(cores.status == 0);

  for (std::string run : {"jdwp", "plain", "nmt"}) {
    INFO("core " << run);
    std::string core = cores.dir + "/" + run + ".core";
    json truth = json::parse(read_text(cores.dir + "/" + run + ".truth.json"));
    CHECK(truth["jdwp"] == (run != "plain"));
    CHECK(truth["classes"]["count"] == kClasses);
    ZipTruth z = zip_truth(truth);
    auto chunks = chunks_by_address(core);
    check_streams_are_chunks(chunks, z);

    // The CDS archive (lib/server/classes.jsa, a writable file mapping beside libjvm.so)
    // holds roots; they are libjvm's, so no chunk is dominated by an anonymous pseudo-node
    // named after the archive.
    uint64_t by_archive = 0;
    for (const auto& [addr, c] : chunks)
      if (c.contains("dominator") && c["dominator"].is_string() &&
          c["dominator"].get<std::string>().find("classes.jsa") != std::string::npos)
        ++by_archive;
    CHECK(by_archive == 0);

    json owners = run_json({"owners", core});
    json groups = run_json({"groups", core, "--by", "signature", "--top", "0"});
    check_zlib(chunks, groups, owners, z);
    if (run == "jdwp")
      check_jdwp_owner(chunks, owners, truth);
    else if (run == "nmt")
      check_jdwp_owner_nmt(chunks, owners, json::parse(read_text(cores.dir + "/nmt.refs.json")));
    else
      check_no_jdwp(chunks, owners);
  }
}
