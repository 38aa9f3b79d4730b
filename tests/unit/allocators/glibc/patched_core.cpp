#include "patched_core.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <cstring>

namespace glibc_test {

PatchedCore* PatchedCore::census() {
  static std::unique_ptr<PatchedCore> p = [] {
    std::unique_ptr<PatchedCore> c;
    std::string core = cores_dir() + "census.kcore.core.zst";
    std::string truth = cores_dir() + "census.kcore.truth.json";
    if (!file_exists(core) || !file_exists(truth)) return c;
    c.reset(new PatchedCore);
    c->original_ = read_all(core);
    c->truth_ = load_json(truth);
    c->path_ = temp_file("census.kcore.core", c->original_);
    c->session_ = open({c->path_}, opts(true));
    return c;
  }();
  return p.get();
}

size_t PatchedCore::offset(uint64_t addr) const {
  const coresift::Segment* s = session_->memory().find(addr);
  REQUIRE(s);
  REQUIRE(s->has_bytes(addr, 8));
  return s->file_offset + (addr - s->start);
}

uint64_t PatchedCore::read(uint64_t addr) const {
  uint64_t v;
  std::memcpy(&v, original_.data() + offset(addr), 8);
  return v;
}

std::vector<uint8_t> PatchedCore::bytes_with(const std::vector<std::pair<uint64_t, uint64_t>>& patches) const {
  std::vector<uint8_t> bytes = original_;
  for (auto [addr, value] : patches) std::memcpy(bytes.data() + offset(addr), &value, 8);
  return bytes;
}

void PatchedCore::set_load_field(std::vector<uint8_t>& bytes, uint64_t addr, size_t field, uint64_t value) const {
  auto get = [&](size_t off, size_t n) {
    uint64_t v = 0;
    REQUIRE(off + n <= bytes.size());
    std::memcpy(&v, bytes.data() + off, n);
    return v;
  };
  uint64_t phoff = get(0x20, 8), phentsize = get(0x36, 2), phnum = get(0x38, 2);
  for (uint64_t i = 0; i < phnum; ++i) {
    size_t ph = phoff + i * phentsize;
    uint64_t vaddr = get(ph + 0x10, 8), memsz = get(ph + 0x28, 8);
    if (get(ph, 4) != 1 /* PT_LOAD */ || addr < vaddr || addr >= vaddr + memsz) continue;
    std::memcpy(bytes.data() + ph + field, &value, 8);
    return;
  }
  FAIL("no PT_LOAD holds " << std::hex << addr);
}

std::unique_ptr<coresift::Session> PatchedCore::walk_bytes(const std::vector<uint8_t>& bytes, bool nodbg) {
  std::string p = temp_file(fmt::format("patched-{}.core", counter_++), bytes);
  auto s = open({p}, opts(nodbg));
  std::remove(p.c_str());  // the session keeps it mapped
  s->heap();
  return s;
}

const nlohmann::json* allocation(const nlohmann::json& truth, int thread, const std::string& cls, int index) {
  for (const auto& a : truth["allocations"])
    if (a["thread"] == thread && a["class"] == cls && a["index"] == index) return &a;
  return nullptr;
}

bool finding_at(const coresift::ChunkTable& t, const std::string& kind, uint64_t addr) {
  for (const auto& f : t.findings)
    if (f.kind == kind && f.address == addr) return true;
  return false;
}

std::string findings_text(const coresift::ChunkTable& t) {
  std::string s;
  for (const auto& f : t.findings) s += fmt::format("{} at {:#x}: {}\n", f.kind, f.address, f.detail);
  return s;
}

std::vector<uint64_t> rows_in(const coresift::ChunkTable& t, coresift::ChunkBin bin, uint16_t arena) {
  std::vector<uint64_t> v;
  for (const auto& c : t.chunks)
    if (c.bin == bin && c.arena == arena) v.push_back(c.address - 16);
  return v;
}

}  // namespace glibc_test
