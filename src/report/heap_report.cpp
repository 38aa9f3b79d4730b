#include "coresift/report/heap_report.hpp"

#include <fmt/format.h>

#include "coresift/analysis/owners.hpp"
#include "coresift/report/byte_strings.hpp"
#include "coresift/report/format.hpp"
#include "coresift/report/process_report.hpp"

namespace coresift {
using nlohmann::json;

json heap_json(const HeapModel& s) {
  const ChunkTable& t = s.table();
  json allocators = json::array();
  for (size_t ai = 0; ai < t.allocators.size(); ++ai) {
    const AllocatorInfo& a = t.allocators[ai];
    json arenas = json::array();
    uint64_t reserved = 0, live_bytes = 0, free_bytes = 0, live_chunks = 0, free_chunks = 0;
    for (const ArenaInfo& ar : t.arenas) {
      if (ar.allocator != ai) continue;
      json heaps = json::array();
      for (auto [lo, hi] : ar.heaps) heaps.push_back({{"start", hex_addr(lo)}, {"end", hex_addr(hi)}});
      json bins = json::object();
      for (const auto& [bin, cb] : ar.free_by_bin) bins[bin_name(bin) ? bin_name(bin) : "none"] = {{"chunks", cb.first}, {"bytes", cb.second}};
      json one = {{"address", hex_addr(ar.address)}, {"kind", ar.kind},     {"heaps", heaps},
                  {"system_mem", ar.system_mem},       {"live_chunks", ar.live_chunks}, {"live_bytes", ar.live_bytes},
                  {"free_chunks", ar.free_chunks},     {"free_bytes", ar.free_bytes},   {"free_by_bin", bins},
                  {"top_size", ar.top_size}};
      if (ar.index >= 0) one["index"] = ar.index;
      arenas.push_back(one);
      reserved += ar.system_mem;
      live_bytes += ar.live_bytes;
      free_bytes += ar.free_bytes;
      live_chunks += ar.live_chunks;
      free_chunks += ar.free_chunks;
    }
    json findings = json::array();
    for (const Finding& f : t.findings)
      if (f.allocator == ai) findings.push_back({{"kind", f.kind}, {"address", hex_addr(f.address)}, {"detail", f.detail}});
    json notes = json::array();
    for (const auto& n : a.notes) notes.push_back(n);
    json bookkeeping = json::array();
    for (const BookkeepingRange& b : t.bookkeeping)
      if (b.allocator == ai)
        bookkeeping.push_back({{"start", hex_addr(b.start)}, {"end", hex_addr(b.end)}, {"kind", b.kind}, {"bytes", b.end - b.start}});
    allocators.push_back({{"name", a.name},
                          {"version", a.version.empty() ? json(nullptr) : json(a.version)},
                          {"located_by", a.located_by},
                          {"notes", notes},
                          {"arenas", arenas},
                          {"mmapped", {{"chunks", a.mmapped_chunks}, {"bytes", a.mmapped_bytes}}},
                          {"totals", {{"arenas", arenas.size()}, {"system_mem", reserved}, {"live_chunks", live_chunks},
                                      {"live_bytes", live_bytes}, {"free_chunks", free_chunks}, {"free_bytes", free_bytes}}},
                          {"findings", findings}});
    if (!bookkeeping.empty()) allocators.back()["bookkeeping"] = bookkeeping;
  }
  return {{"allocators", allocators}, {"warnings", warnings_json(s.core().diag())}};
}

namespace {

bool keep(const ChunkTable& t, const Chunk& c, const ChunkFilter& f) {
  if (f.state && c.state != *f.state) return false;
  if (c.size < f.min_size || c.size > f.max_size) return false;
  if (f.arena && (c.arena >= t.arenas.size() || t.arenas[c.arena].address != *f.arena)) return false;
  return true;
}

}  // namespace

void write_chunks(const HeapModel& s, const ChunkFilter& f, ChunkFormat format, std::ostream& out) {
  const ChunkTable& t = s.table();
  std::string buf;
  uint64_t rows = 0;
  auto flush = [&] {
    out << buf;
    buf.clear();
  };
  // JSON rows also say what each live chunk is and who owns it: the owners analysis keeps
  // 10 bytes per chunk (owner + evidence, dominator, signature id); names are escaped once.
  std::optional<OwnerAnalysis> owners;
  std::vector<std::string> owner_names, pseudo_names, signature_names;
  auto json_str = [](const std::string& v) { return nlohmann::json(bytes_as_utf8(v)).dump(); };
  if (format == ChunkFormat::kJson) {
    owners = analyze_owners(s, OwnerOptions{.top_signatures = 0, .per_chunk = true, .per_chunk_signatures = true});
    for (const Owner& o : owners->owners) owner_names.push_back(json_str(o.name));
    for (const std::string& n : owners->pseudo_names) pseudo_names.push_back(json_str(n));
    for (const std::string& n : owners->signature_names) signature_names.push_back(json_str(n));
  }
  auto owner_fields = [&](size_t row) -> std::string {
    uint16_t packed = owners->chunk_owner[row];
    uint32_t sig = owners->chunk_signature[row];
    if (packed == kNoOwner || sig >= signature_names.size())
      return "\"signature\": null, \"owner\": null, \"owner_evidence\": null, \"dominator\": null";
    uint32_t d = owners->chunk_dominator[row];
    std::string dom = d == kDominatorRoot ? "null"
                      : d & kDominatorPseudo ? pseudo_names[d & ~kDominatorPseudo]
                                             : fmt::format("\"{:#x}\"", t.chunks[d].address);
    return fmt::format("\"signature\": {}, \"owner\": {}, \"owner_evidence\": \"{}\", \"dominator\": {}", signature_names[sig],
                       owner_names[OwnerAnalysis::owner_index(packed)], owner_evidence_name(OwnerAnalysis::evidence(packed)), dom);
  };
  if (format == ChunkFormat::kJson) buf += "{\n  \"chunks\": [";
  if (format == ChunkFormat::kCsv) buf += "address,size,chunk_size,state,bin,arena,allocator\n";
  if (format == ChunkFormat::kText)
    buf += fmt::format("{:<18}  {:>10}  {:>10}  {:<14}  {:<8}  {:<18}  {}\n", "ADDRESS", "SIZE", "CHUNK", "STATE", "BIN",
                       "ARENA", "ALLOCATOR");
  for (size_t row = 0; row < t.chunks.size(); ++row) {
    const Chunk& c = t.chunks[row];
    if (!keep(t, c, f)) continue;
    const char* bin = bin_name(c.bin);
    std::string arena = c.arena < t.arenas.size() ? hex_addr(t.arenas[c.arena].address) : "";
    const std::string& alloc = c.allocator < t.allocators.size() ? t.allocators[c.allocator].name : std::string();
    switch (format) {
      case ChunkFormat::kJson:
        buf += fmt::format(
            "{}\n    {{\"address\": \"{:#x}\", \"size\": {}, \"chunk_size\": {}, \"state\": \"{}\", \"bin\": {}, "
            "\"arena\": {}, \"allocator\": {}, {}}}",
            rows ? "," : "", c.address, static_cast<uint64_t>(c.size), c.chunk_size(), state_name(c.state),
            bin ? fmt::format("\"{}\"", bin) : "null", arena.empty() ? "null" : "\"" + arena + "\"",
            alloc.empty() ? "null" : "\"" + alloc + "\"", owner_fields(row));
        break;
      case ChunkFormat::kCsv:
        buf += fmt::format("{:#x},{},{},{},{},{},{}\n", c.address, static_cast<uint64_t>(c.size), c.chunk_size(),
                           state_name(c.state), bin ? bin : "", arena, alloc);
        break;
      case ChunkFormat::kText:
        buf += fmt::format("{:<18}  {:>10}  {:>10}  {:<14}  {:<8}  {:<18}  {}\n", hex_addr(c.address),
                           static_cast<uint64_t>(c.size), c.chunk_size(), state_name(c.state), bin ? bin : "-",
                           arena.empty() ? "-" : arena, alloc.empty() ? "-" : alloc);
        break;
    }
    ++rows;
    if (buf.size() > (1 << 20)) flush();
  }
  if (format == ChunkFormat::kJson) buf += fmt::format("\n  ],\n  \"warnings\": {}\n}}\n", warnings_json(s.core().diag()).dump());
  if (format == ChunkFormat::kText) buf += fmt::format("{} chunks\n", rows);
  flush();
}

std::string heap_text(const json& d) {
  std::string out;
  if (d["allocators"].empty()) return "no allocator found in this process\n";
  for (const auto& a : d["allocators"]) {
    out += fmt::format("Allocator {} {} (located by {})\n", a["name"].get<std::string>(),
                       a["version"].is_string() ? a["version"].get<std::string>() : "(version unknown)",
                       a["located_by"].get<std::string>());
    for (const auto& n : a["notes"]) out += "  " + n.get<std::string>() + "\n";
    Table t({"ARENA", "KIND", "HEAPS", "SYSTEM", "LIVE", "LIVE BYTES", "FREE", "FREE BYTES", "TOP"},
            {false, false, true, true, true, true, true, true, true});
    for (const auto& ar : a["arenas"])
      t.add({ar["address"], ar["kind"], std::to_string(ar["heaps"].size()), human_size(ar["system_mem"]),
             std::to_string(ar["live_chunks"].get<uint64_t>()), human_size(ar["live_bytes"]),
             std::to_string(ar["free_chunks"].get<uint64_t>()), human_size(ar["free_bytes"]), human_size(ar["top_size"])});
    out += "\n" + t.render();
    for (const auto& ar : a["arenas"]) {
      if (ar["free_by_bin"].empty()) continue;
      std::string bins;
      for (auto it = ar["free_by_bin"].begin(); it != ar["free_by_bin"].end(); ++it)
        bins += fmt::format("  {} {} ({})", it.key(), it.value()["chunks"].get<uint64_t>(), human_size(it.value()["bytes"]));
      out += fmt::format("  free in {}:{}\n", ar["address"].get<std::string>(), bins);
    }
    const json& mm = a["mmapped"];
    out += fmt::format("\nmmapped chunks: {} ({})\n", mm["chunks"].get<uint64_t>(), size_with_bytes(mm["bytes"]));
    const json& tt = a["totals"];
    out += fmt::format("total: {} arenas, {} obtained from the system, {} live chunks ({}), {} free chunks ({})\n",
                       tt["arenas"].get<uint64_t>(), size_with_bytes(tt["system_mem"]), tt["live_chunks"].get<uint64_t>(),
                       size_with_bytes(tt["live_bytes"]), tt["free_chunks"].get<uint64_t>(), size_with_bytes(tt["free_bytes"]));
    if (a.contains("bloat")) out += a["bloat"].get<std::string>() + "\n";
    if (a.contains("bookkeeping")) {
      uint64_t bytes = 0;
      for (const auto& b : a["bookkeeping"]) bytes += b["bytes"].get<uint64_t>();
      out += fmt::format("allocator's own bookkeeping (not scanned for references): {} ranges, {}\n", a["bookkeeping"].size(),
                         size_with_bytes(bytes));
    }
    if (a["findings"].empty()) {
      out += "findings: none (heap is consistent)\n";
    } else {
      out += fmt::format("findings: {}\n", a["findings"].size());
      for (const auto& f : a["findings"])
        out += fmt::format("  {} at {}: {}\n", f["kind"].get<std::string>(), f["address"].get<std::string>(),
                           f["detail"].get<std::string>());
    }
    out += "\n";
  }
  return out;
}

}  // namespace coresift
