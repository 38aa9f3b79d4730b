// Reads --maps listings: /proc/PID/maps (or smaps), `pmap -x`, `pmap -X`/`-XX`, `pmap -d`
// and plain `pmap`. The files are user-supplied and often hand-edited, so every number goes
// through from_chars: a bad line is a warning naming its number, never an exception.
#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "coresift/input/inputs.hpp"
#include "coresift/input/regular_file.hpp"
#include "parse_number.hpp"

namespace coresift {
namespace {

constexpr uint64_t kMaxMapsFile = 256ull << 20;  // 65530 pmap -XX lines take ~30 MiB
constexpr size_t kMaxLine = 64 << 10;            // PATH_MAX plus every pmap -XX column, with room

struct Token {
  std::string_view text;
  size_t column = 0;  // offset in the line
};

std::vector<Token> tokenize(std::string_view line) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back({line.substr(start, i - start), start});
  }
  return out;
}

bool one_of(char c, const char* set) { return c != '\0' && std::strchr(set, c) != nullptr; }

// /proc/PID/maps and pmap -X: "r-xp" (the hand-written "r-x" too).
bool is_maps_perms(std::string_view p) {
  return (p.size() == 3 || p.size() == 4) && one_of(p[0], "r-") && one_of(p[1], "w-") && one_of(p[2], "x-") &&
         (p.size() == 3 || one_of(p[3], "ps-"));
}

// pmap -x/-d and plain pmap: "r-x--", the fourth letter 's' for shared, the fifth 'R' for
// MAP_NORESERVE.
bool is_pmap_mode(std::string_view m) {
  return m.size() == 5 && one_of(m[0], "r-") && one_of(m[1], "w-") && one_of(m[2], "x-") && one_of(m[3], "s-") &&
         one_of(m[4], "R-");
}

uint8_t perms_of(std::string_view p) {
  uint8_t perms = 0;
  if (p.size() > 0 && p[0] == 'r') perms |= kPermRead;
  if (p.size() > 1 && p[1] == 'w') perms |= kPermWrite;
  if (p.size() > 2 && p[2] == 'x') perms |= kPermExec;
  return perms;
}

bool is_decimal(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

// pmap -x's "---------------- ------- …" and pmap -X's "==== ==== …" rules.
bool is_rule(std::string_view line) { return line.find_first_not_of("-= \t") == std::string_view::npos; }

// pmap -X's totals: decimal sums, then "KB".
bool is_totals(const std::vector<Token>& t) {
  for (size_t i = 0; i < t.size(); ++i)
    if (!is_decimal(t[i].text) && !(i + 1 == t.size() && t[i].text == "KB")) return false;
  return true;
}

std::string joined(const std::vector<Token>& t, size_t from) {
  std::string s;
  for (size_t i = from; i < t.size(); ++i) {
    if (!s.empty()) s += ' ';
    s += t[i].text;
  }
  return s;
}

// pmap writes "[ anon ]" for anonymous memory and "[ stack ]" where the kernel says "[stack]".
std::string kernel_name(std::string name) {
  if (name == "[ anon ]") return {};
  if (name.size() > 4 && name.starts_with("[ ") && name.ends_with(" ]")) return "[" + name.substr(2, name.size() - 4) + "]";
  return name;
}

class MapsParser {
 public:
  MapsParser(const std::string& path, Diagnostics& diag) : path_(path), diag_(diag) {}

  void line(std::string_view text, size_t lineno) {
    lineno_ = lineno;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.size() > kMaxLine) return skip(fmt::format("longer than {} bytes", kMaxLine));
    std::vector<Token> t = tokenize(text);
    if (t.empty() || is_rule(text)) return;
    if (t[0].text.find('-') != std::string_view::npos) return proc_maps(text, t);
    uint64_t addr = 0;
    if (!parse_hex(t[0].text, addr)) return header(t);  // titles, headers, totals, smaps fields
    if (t.size() >= 6 && is_maps_perms(t[1].text)) return pmap_X(text, t, addr);
    if (t.size() >= 3 && is_pmap_mode(t[2].text)) return pmap_plain_or_d(t, addr);
    if (t.size() >= 5 && is_pmap_mode(t[4].text)) return pmap_x(t, addr);
    if (is_totals(t)) return;
    skip("not a maps or pmap line");
  }

  std::vector<MapsEntry> take() { return std::move(out_); }

 private:
  void skip(const std::string& why) {
    diag_.warn(path_, std::nullopt, fmt::format("line {}: {}, skipped", lineno_, why));
  }

  void add(MapsEntry e) {
    if (e.end <= e.start) return skip(fmt::format("range {:#x}-{:#x} is empty or reversed", e.start, e.end));
    out_.push_back(std::move(e));
  }

  // End of a range given in KiB, unless the number is bad or runs past the address space.
  bool end_from_kib(uint64_t start, std::string_view kib, uint64_t& end) {
    uint64_t k = 0;
    if (!parse_dec(kib, k)) {
      skip(fmt::format("size '{}' is not a decimal number", kib));
      return false;
    }
    if (k > (~uint64_t{0} - start) / 1024) {
      skip(fmt::format("size {} kB runs past the end of the address space", kib));
      return false;
    }
    end = start + k * 1024;
    return true;
  }

  void header(const std::vector<Token>& t) {
    // pmap -X: the Mapping column starts where its header word does (names may hold spaces).
    if (t.size() >= 2 && t[0].text == "Address") {
      mapping_column_.reset();
      if (t[1].text == "Perm" && t.back().text == "Mapping") mapping_column_ = t.back().column;
    }
  }

  // start-end perms offset dev inode [path]
  void proc_maps(std::string_view text, const std::vector<Token>& t) {
    std::string_view range = t[0].text;
    size_t dash = range.find('-');
    MapsEntry e;
    if (!parse_hex(range.substr(0, dash), e.start) || !parse_hex(range.substr(dash + 1), e.end) || t.size() < 5 ||
        !is_maps_perms(t[1].text) || !parse_hex(t[2].text, e.offset))
      return skip("not a maps line");
    e.perms = perms_of(t[1].text);
    if (t.size() > 5) e.path = std::string(text.substr(t[5].column));
    add(std::move(e));
  }

  // pmap -X/-XX: Address Perm Offset Device Inode Size(kB) … [VmFlags…] Mapping
  void pmap_X(std::string_view text, const std::vector<Token>& t, uint64_t addr) {
    MapsEntry e;
    e.start = addr;
    e.perms = perms_of(t[1].text);
    uint64_t inode = 0;
    if (!parse_hex(t[2].text, e.offset)) return skip(fmt::format("offset '{}' is not a hex number", t[2].text));
    if (!parse_dec(t[4].text, inode)) return skip(fmt::format("inode '{}' is not a decimal number", t[4].text));
    if (!end_from_kib(addr, t[5].text, e.end)) return;
    size_t col = mapping_column_.value_or(0);
    if (col > 0 && (text.size() <= col || text.substr(col).find_first_not_of(" \t") == std::string_view::npos)) {
      e.path.clear();  // anonymous: nothing under the Mapping header
    } else if (col > 0 && (text[col - 1] == ' ' || text[col - 1] == '\t') && text[col] != ' ') {
      e.path = std::string(text.substr(col));
    } else {
      // No header (pmap -q) or a line out of step with it: the name follows the numeric
      // columns and -XX's two-letter VmFlags.
      size_t i = 6;
      while (i < t.size() && is_decimal(t[i].text)) ++i;
      while (i < t.size() && t[i].text.size() == 2 && std::islower(static_cast<unsigned char>(t[i].text[0])) &&
             std::islower(static_cast<unsigned char>(t[i].text[1])))
        ++i;
      e.path = joined(t, i);
    }
    while (!e.path.empty() && (e.path.back() == ' ' || e.path.back() == '\t')) e.path.pop_back();
    add(std::move(e));
  }

  // pmap:    Address Kbytes"K" Mode Mapping
  // pmap -d: Address Kbytes Mode Offset Device Mapping
  void pmap_plain_or_d(const std::vector<Token>& t, uint64_t addr) {
    MapsEntry e;
    e.start = addr;
    e.perms = perms_of(t[2].text);
    std::string_view kib = t[1].text;
    size_t name_from = 3;
    if (kib.ends_with('K')) {
      kib.remove_suffix(1);
    } else {
      if (t.size() < 5 || !parse_hex(t[3].text, e.offset)) return skip("not a pmap -d line");
      name_from = 5;
    }
    if (!end_from_kib(addr, kib, e.end)) return;
    e.path = kernel_name(joined(t, name_from));
    add(std::move(e));
  }

  // pmap -x: Address Kbytes RSS Dirty Mode Mapping (RSS and Dirty are not needed)
  void pmap_x(const std::vector<Token>& t, uint64_t addr) {
    MapsEntry e;
    e.start = addr;
    e.perms = perms_of(t[4].text);
    if (!end_from_kib(addr, t[1].text, e.end)) return;
    e.path = kernel_name(joined(t, 5));
    add(std::move(e));
  }

  const std::string& path_;
  Diagnostics& diag_;
  size_t lineno_ = 0;
  std::optional<size_t> mapping_column_;
  std::vector<MapsEntry> out_;
};

// Reads to the end, not st_size bytes: /proc/PID/maps itself says its size is 0.
std::string read_text(const std::string& path) {
  OpenedFile f = open_regular_file(path);
  if (f.fd < 0) throw InputError(path, std::nullopt, f.why);
  std::string text;
  char buf[64 << 10];
  while (text.size() <= kMaxMapsFile) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(f.fd);
      throw InputError(path, text.size(), std::string("cannot read maps file: ") + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(f.fd);
  if (text.size() > kMaxMapsFile)
    throw InputError(path, std::nullopt, fmt::format("maps file is over {} MiB, too large for a maps or pmap listing",
                                                     kMaxMapsFile >> 20));
  return text;
}

}  // namespace

std::vector<MapsEntry> read_maps_file(const std::string& path, Diagnostics& diag) {
  std::string text = read_text(path);
  MapsParser parser(path, diag);
  size_t lineno = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    parser.line(std::string_view(text).substr(pos, nl - pos), ++lineno);
    pos = nl + 1;
  }
  std::vector<MapsEntry> out = parser.take();
  if (out.empty())
    diag.warn(path, std::nullopt,
              "no mappings found; expected /proc/PID/maps, or the output of pmap, pmap -x, pmap -X or pmap -d");
  return out;
}

}  // namespace coresift
