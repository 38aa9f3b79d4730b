// The Signer: user rules first, then known structures, vtables, built-in rules, module
// pointers, text, zeros, entropy, size. Everything that needs a pass over the heap or reads of static data is
// done in the constructor; classify() only reads what was built.
#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_set>

#include <fmt/format.h>

#include "coresift/analysis/hotspot_arena.hpp"
#include "coresift/analysis/rules.hpp"
#include "coresift/analysis/signatures.hpp"
#include "coresift/model/heap_model.hpp"
#include "parts.hpp"

namespace coresift {
namespace {

constexpr size_t kTextWindow = 96;     // text is looked for in the first bytes only
constexpr size_t kPtrWords = 32;       // words scanned for module pointers
constexpr size_t kZeroWindow = 4096;   // "zeros" means the first 4 KiB (or all) are zero
constexpr size_t kEntropyMin = 256, kEntropyWindow = 1024;
constexpr double kEntropyHigh = 7.0;   // bits per byte: compressed or encrypted data

struct CompiledRule {
  const Rule* rule;
  std::vector<std::vector<bool>> modules;  // per condition: modules its glob matches
  // A one-byte test that rejects most chunks before the full match: the first byte of a
  // `bytes` condition, else the first character of a `prefix`.
  enum Gate : uint8_t { kNone, kByte, kTextChar } gate = kNone;
  uint64_t gate_offset = 0;
  uint8_t gate_value = 0;
};

}  // namespace

struct Signer::Impl {
  const AddressSpace& mem;
  const ChunkTable& table;
  sig::StaticReader rd;  // used while building only
  sig::ModuleMap mods;
  sig::VtableTable vtables;
  sig::NmtTable nmt;
  sig::KnownMap known;
  std::vector<Rule> rules;
  std::vector<CompiledRule> compiled;
  size_t user_rules = 0;  // compiled[0, user_rules) come from --rules files

  explicit Impl(const HeapModel& s) : mem(s.memory()), table(s.table()), rd(s.memory(), s.process()), mods(s.process(), rd) {
    for (const std::string& f : s.core().options().rule_files) {
      auto r = load_rule_file(f);
      rules.insert(rules.end(), std::make_move_iterator(r.begin()), std::make_move_iterator(r.end()));
    }
    user_rules = rules.size();
    auto builtin = parse_rules(builtin_rules_text(), "built-in rules");
    rules.insert(rules.end(), std::make_move_iterator(builtin.begin()), std::make_move_iterator(builtin.end()));
    compile_rules();
    prescan(s);
  }

  void compile_rules() {
    for (const Rule& r : rules) {
      CompiledRule cr{&r, {}};
      for (const RuleCondition& c : r.conditions) {
        std::vector<bool> m;
        if (c.kind == RuleCondition::kPtr || c.kind == RuleCondition::kWord)
          for (size_t i = 0; i < mods.module_count(); ++i)
            m.push_back(fnmatch(c.text.c_str(), mods.basename(static_cast<int>(i)).c_str(), 0) == 0);
        cr.modules.push_back(std::move(m));
        if (c.kind == RuleCondition::kBytes && cr.gate != CompiledRule::kByte) {
          cr.gate = CompiledRule::kByte;
          cr.gate_offset = c.offset;
          cr.gate_value = c.bytes[0];
        } else if (c.kind == RuleCondition::kPrefix && cr.gate == CompiledRule::kNone) {
          cr.gate = CompiledRule::kTextChar;
          cr.gate_value = static_cast<uint8_t>(c.text[0]);
        }
      }
      compiled.push_back(std::move(cr));
    }
  }

  // One pass over the live chunks: candidate vtables (first words pointing into a module),
  // FILEs (0xFBAD magic) and zlib states (first word = back pointer to their z_stream).
  void prescan(const HeapModel& s) {
    std::unordered_set<uint64_t> candidates;
    const Segment* seg = nullptr;  // chunks are sorted: most share the previous one's segment
    for (const Chunk& c : table.chunks) {
      if (c.state == ChunkState::kFree || c.size < 8) continue;
      if (!seg || !seg->has_bytes(c.address, 8)) {
        seg = mem.find(c.address);
        if (!seg || !seg->has_bytes(c.address, 8)) continue;
      }
      uint64_t w0;
      std::memcpy(&w0, seg->data + (c.address - seg->start), 8);
      if (mods.find(w0)) candidates.insert(w0);
      if (c.size >= 224 && (w0 & 0xffff0000u) == 0xfbad0000u) sig::find_stdio_file(mem, mods, table, c, known);
      if (c.size >= 1024 && w0 % 8 == 0 && mem.is_mapped(w0)) sig::find_zlib(mem, mods, table, c, w0, known);
    }
    sig::find_dtvs(mem, mods, s.process(), table, known);
    for (uint64_t a : find_hotspot_chunk_pools(mem, table).pooled) known.try_emplace(a, sig::Known{"jvm:arena_chunk_free", -1});
    vtables.build(rd, mods, std::vector<uint64_t>(candidates.begin(), candidates.end()));
    nmt.build(mem, s.process(), mods, rd);
  }
};

namespace {

// What classify() learns about one chunk, computed only when a test needs it.
struct Facts {
  const AddressSpace& mem;
  const sig::ModuleMap& mods;
  std::span<const uint8_t> v;
  bool text_done = false, ptrs_done = false;
  std::string text;
  bool utf16 = false;
  std::array<std::pair<int, uint32_t>, 8> ptrs{};  // module → count (first 8 modules seen)
  size_t nptrs = 0;

  Facts(const AddressSpace& m, const sig::ModuleMap& mm, std::span<const uint8_t> bytes) : mem(m), mods(mm), v(bytes) {}

  const std::string& leading_text() {
    if (!text_done) {
      text_done = true;
      auto w = v.first(std::min(v.size(), kTextWindow));
      text = sig::leading_text(mem, w);
      if (text.empty()) {
        text = sig::leading_utf16(mem, w);
        utf16 = !text.empty();
      }
    }
    return text;
  }

  void scan_ptrs() {
    if (ptrs_done) return;
    ptrs_done = true;
    for (size_t off = 0; off + 8 <= v.size() && off < kPtrWords * 8; off += 8) {
      uint64_t w;
      std::memcpy(&w, v.data() + off, 8);
      const sig::ModuleRange* r = mods.find(w);
      if (!r || !r->evidence) continue;
      size_t i = 0;
      while (i < nptrs && ptrs[i].first != r->module) ++i;
      if (i == nptrs) {
        if (nptrs == ptrs.size()) continue;
        ptrs[nptrs++] = {r->module, 0};
      }
      ptrs[i].second++;
    }
  }

  // Most pointed-at module (ties: the one seen first), or -1.
  int best_module() {
    scan_ptrs();
    int best = -1;
    uint32_t n = 0;
    for (size_t i = 0; i < nptrs; ++i)
      if (ptrs[i].second > n) {
        n = ptrs[i].second;
        best = ptrs[i].first;
      }
    return best;
  }
};

bool all_zero(std::span<const uint8_t> v) {
  size_t i = 0;
  for (; i + 8 <= v.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, v.data() + i, 8);
    if (w) return false;
  }
  for (; i < v.size(); ++i)
    if (v[i]) return false;
  return true;
}

// Whether every condition of the rule holds; `module` gets the module a ptr/word condition
// matched, if any.
bool rule_matches(const CompiledRule& cr, const Chunk& c, Facts& f, int& module) {
  const auto& conds = cr.rule->conditions;
  for (size_t k = 0; k < conds.size(); ++k) {
    const RuleCondition& cond = conds[k];
    switch (cond.kind) {
      case RuleCondition::kSize:
        if (c.size < cond.min || c.size > cond.max) return false;
        break;
      case RuleCondition::kBytes:
        if (cond.offset + cond.bytes.size() > f.v.size() || f.v[cond.offset] != cond.bytes[0] ||
            std::memcmp(f.v.data() + cond.offset, cond.bytes.data(), cond.bytes.size()) != 0)
          return false;
        break;
      case RuleCondition::kPrefix:
        if (!f.leading_text().starts_with(cond.text)) return false;
        break;
      case RuleCondition::kText:
        if (f.leading_text().empty() || !std::regex_search(f.text, cond.regex)) return false;
        break;
      case RuleCondition::kWord: {
        if (cond.offset + 8 > f.v.size()) return false;
        uint64_t w;
        std::memcpy(&w, f.v.data() + cond.offset, 8);
        const sig::ModuleRange* r = f.mods.find(w);
        if (!r || !cr.modules[k][static_cast<size_t>(r->module)]) return false;
        module = r->module;
        break;
      }
      case RuleCondition::kPtr: {
        f.scan_ptrs();
        bool any = false;
        for (size_t i = 0; i < f.nptrs && !any; ++i)
          if (cr.modules[k][static_cast<size_t>(f.ptrs[i].first)]) {
            any = true;
            module = f.ptrs[i].first;
          }
        if (!any) return false;
        break;
      }
    }
  }
  return true;
}

}  // namespace

Signer::Signer(const HeapModel& s) : impl_(std::make_unique<Impl>(s)) {}
Signer::~Signer() = default;

Signature Signer::classify(const Chunk& c) const {
  const Impl& im = *impl_;
  auto v = im.mem.view(c.address, c.size);
  if (v.empty()) v = im.mem.view(c.address, std::min<uint64_t>(c.size, kTextWindow));
  if (v.empty()) return {"absent", SignatureSource::kBytes, -1, {}};
  Facts f{im.mem, im.mods, v};

  auto try_rules = [&](size_t from, size_t to, Signature& out) {
    for (size_t i = from; i < to; ++i) {
      const CompiledRule& cr = im.compiled[i];
      if (cr.gate == CompiledRule::kByte && (cr.gate_offset >= v.size() || v[cr.gate_offset] != cr.gate_value)) continue;
      if (cr.gate == CompiledRule::kTextChar) {
        const std::string& t = f.leading_text();
        if (t.empty() || static_cast<uint8_t>(t[0]) != cr.gate_value) continue;
      }
      int module = -1;
      if (rule_matches(cr, c, f, module)) {
        out = {im.compiled[i].rule->name, SignatureSource::kRule, module, im.compiled[i].rule->owner};
        return true;
      }
    }
    return false;
  };
  Signature ruled;
  // User rules overrule everything; built-in rules (magic bytes, text prefixes) are weaker
  // than structures recognised through their pointers, so they come after those.
  if (try_rules(0, im.user_rules, ruled)) return ruled;
  if ((c.flags & kChunkFlagInterior) && c.allocator < im.table.allocators.size() &&
      !im.table.allocators[c.allocator].metadata_signature.empty())
    return {im.table.allocators[c.allocator].metadata_signature, SignatureSource::kStructure, im.mods.libc(), {}};
  if (!im.known.empty())
    if (auto it = im.known.find(c.address); it != im.known.end())
      return {it->second.name, SignatureSource::kStructure, it->second.module, {}};
  if (!im.nmt.empty())
    if (const std::string* cat = im.nmt.category(v)) return {"nmt:" + *cat, SignatureSource::kStructure, im.nmt.module(), {}};
  if (v.size() >= 8) {
    uint64_t w0;
    std::memcpy(&w0, v.data(), 8);
    if (const auto* e = im.vtables.find(w0)) return {e->name, SignatureSource::kVtable, e->module, {}};
  }
  if (try_rules(im.user_rules, im.compiled.size(), ruled)) return ruled;
  if (int m = f.best_module(); m >= 0) return {"ptr:" + im.mods.basename(m), SignatureSource::kModulePtr, m, {}};
  if (const std::string& t = f.leading_text(); !t.empty()) {
    if (sig::is_jvm_signature(t)) return {"jvm-sig:" + normalise_text(t), SignatureSource::kText, -1, {}};
    return {(f.utf16 ? "utf16:" : "text:") + normalise_text(t), SignatureSource::kText, -1, {}};
  }
  if (all_zero(v.first(std::min(v.size(), kZeroWindow)))) return {"zeros", SignatureSource::kZeros, -1, {}};
  if (v.size() >= kEntropyMin && sig::may_be_random(v) && sig::entropy_bits(v.first(std::min(v.size(), kEntropyWindow))) >= kEntropyHigh)
    return {"entropy:high", SignatureSource::kBytes, -1, {}};
  return {fmt::format("size:{}", static_cast<uint64_t>(c.size)), SignatureSource::kBytes, -1, {}};
}

}  // namespace coresift
