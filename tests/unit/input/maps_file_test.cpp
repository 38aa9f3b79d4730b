// read_maps_file on real /proc/PID/maps and pmap output, and on damaged lines.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <tuple>

#include "coresift/input/inputs.hpp"
#include "unit/input/temp_dir.hpp"

using namespace coresift;
using namespace coresift::test;

namespace {

using Key = std::tuple<uint64_t, uint64_t, uint8_t>;

std::set<Key> keys(const std::vector<MapsEntry>& v) {
  std::set<Key> out;
  for (const MapsEntry& e : v) out.insert({e.start, e.end, e.perms});
  return out;
}

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Snapshots of one idle shell: its maps cannot change between the three listings.
struct ShellListings {
  std::string maps, pmap_x, pmap_X, pmap_XX, pmap_d, pmap, smaps;
};

ShellListings listings_of_a_shell(const TempDir& dir) {
  run_capture("sh -c 'cat /proc/$$/maps > \"$0/maps\"; pmap -x $$ > \"$0/pmap_x\"; pmap -X $$ > \"$0/pmap_X\"; "
              "pmap -XX $$ > \"$0/pmap_XX\"; pmap -d $$ > \"$0/pmap_d\"; pmap $$ > \"$0/pmap\"; "
              "cat /proc/$$/smaps > \"$0/smaps\"' " +
              shell_quote(dir.path()));
  auto text = [&](const char* n) {
    std::vector<uint8_t> b = read_file(dir.path() + "/" + n);
    return std::string(b.begin(), b.end());
  };
  return {text("maps"), text("pmap_x"), text("pmap_X"), text("pmap_XX"), text("pmap_d"), text("pmap"), text("smaps")};
}

std::string base_name(const std::string& p) { return p.substr(p.rfind('/') + 1); }

// The name pmap shows for a maps entry: the file's base name (a " (deleted)" suffix stays
// with it), or the kernel's [name].
std::string pmap_name(const MapsEntry& e) { return e.path.starts_with("[") ? e.path : base_name(e.path); }

}  // namespace

TEST_CASE("/proc/self/maps parses into one entry per line", "[input][maps]") {
  TempDir dir;
  std::vector<uint8_t> snap = read_file("/proc/self/maps");
  std::string copy = dir.write("maps", snap);
  Diagnostics diag;
  auto maps = read_maps_file(copy, diag);
  CHECK(diag.warnings().empty());
  CHECK(maps.size() == count_lines(std::string(snap.begin(), snap.end())));
  bool stack = false;
  for (const MapsEntry& e : maps) {
    CHECK(e.end > e.start);
    if (e.path == "[stack]") stack = (e.perms & kPermRead) && (e.perms & kPermWrite);
  }
  CHECK(stack);
}

TEST_CASE("pmap -x and pmap -X of a process give the same ranges as its maps", "[input][maps]") {
  TempDir dir;
  ShellListings l = listings_of_a_shell(dir);
  Diagnostics diag;
  auto maps = read_maps_file(dir.write("m", l.maps), diag);
  auto px = read_maps_file(dir.write("px", l.pmap_x), diag);
  REQUIRE(maps.size() > 3);
  CHECK(keys(px) == keys(maps));
  for (const MapsEntry& e : px) CHECK(e.path != "[ anon ]");
}

// pmap -x's "---------------- ------- ..." rule contains '-' but is not a start-end line.
TEST_CASE("pmap -x output parses without warnings", "[input][maps]") {
  TempDir dir;
  ShellListings l = listings_of_a_shell(dir);
  Diagnostics diag;
  auto px = read_maps_file(dir.write("px", l.pmap_x), diag);
  for (const Warning& w : diag.warnings()) UNSCOPED_INFO(w.to_string());
  CHECK(diag.warnings().empty());
  // pmap writes "[ stack ]"; the mapping gets the kernel's name, so labels agree.
  auto maps = read_maps_file(dir.write("m", l.maps), diag);
  std::set<std::tuple<uint64_t, std::string>> want, got;
  for (const MapsEntry& e : maps)
    if (e.path == "[stack]") want.insert({e.start, e.path});
  for (const MapsEntry& e : px)
    if (e.path == "[stack]") got.insert({e.start, e.path});
  CHECK(want.size() == 1);
  CHECK(got == want);
}

TEST_CASE("plain pmap, pmap -d, pmap -XX and smaps give the same ranges as maps, without warnings", "[input][maps]") {
  TempDir dir;
  ShellListings l = listings_of_a_shell(dir);
  Diagnostics diag;
  auto maps = read_maps_file(dir.write("m", l.maps), diag);
  REQUIRE(maps.size() > 3);
  for (auto [name, text] : {std::pair{"pmap", &l.pmap}, {"pmap_d", &l.pmap_d}, {"pmap_XX", &l.pmap_XX},
                            {"smaps", &l.smaps}}) {
    CAPTURE(name);
    Diagnostics d;
    auto v = read_maps_file(dir.write(name, *text), d);
    for (const Warning& w : d.warnings()) UNSCOPED_INFO(w.to_string());
    CHECK(d.warnings().empty());
    CHECK(keys(v) == keys(maps));
  }
}

// pmap -X/-XX show base names under a "Mapping" header, after a variable number of columns
// (and -XX's VmFlags words): names come from that column, anonymous rows have none.
TEST_CASE("pmap -X and -XX name each mapping as maps does", "[input][maps]") {
  TempDir dir;
  ShellListings l = listings_of_a_shell(dir);
  Diagnostics diag;
  std::map<uint64_t, std::string> want;
  for (const MapsEntry& e : read_maps_file(dir.write("m", l.maps), diag)) want[e.start] = pmap_name(e);
  for (const std::string* text : {&l.pmap_X, &l.pmap_XX}) {
    std::map<uint64_t, std::string> got;
    for (const MapsEntry& e : read_maps_file(dir.write("pX", *text), diag)) got[e.start] = e.path;
    CHECK(got == want);
  }
  CHECK(diag.warnings().empty());
}

TEST_CASE("/proc/PID/maps is read to its end although it claims size 0", "[input][maps]") {
  Diagnostics diag;
  auto v = read_maps_file("/proc/self/maps", diag);
  CHECK(v.size() > 3);
  CHECK(diag.warnings().empty());
}

TEST_CASE("a FIFO or device as maps file is an InputError, not a wait", "[input][maps]") {
  TempDir dir;
  std::string fifo = dir.path() + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  Diagnostics diag;
  CHECK_THROWS_WITH(read_maps_file(fifo, diag), Catch::Contains("FIFO"));
  CHECK_THROWS_WITH(read_maps_file("/dev/zero", diag), Catch::Contains("character device"));
  CHECK_THROWS_WITH(read_maps_file(dir.path(), diag), Catch::Contains("directory"));
}

// The pmap -X totals line is decimal sums; its first sum reads as a hex address.
TEST_CASE("pmap -X totals are not mappings", "[input][maps]") {
  TempDir dir;
  ShellListings l = listings_of_a_shell(dir);
  Diagnostics diag;
  auto maps = read_maps_file(dir.write("m", l.maps), diag);
  auto pX = read_maps_file(dir.write("pX", l.pmap_X), diag);
  CHECK(keys(pX) == keys(maps));

  std::string fixed =
      "         Address Perm   Offset Device  Inode Size  Rss Pss Mapping\n"
      "    563b3bd90000 r--p 00000000  fe:00 247101  188  188  47 bash\n"
      "                                             ==== ==== ===\n"
      "                                             5008 4028 893 KB \n";
  auto v = read_maps_file(dir.write("fixed", fixed), diag);
  REQUIRE(v.size() == 1);
  CHECK(v[0].path == "bash");
}

// Non-numeric or overflowing columns are a warning for that line (numbers go through
// from_chars; std::stoull's exceptions used to escape: CLI exit 4).
TEST_CASE("pmap lines with bad numbers are skipped with a warning", "[input][maps]") {
  TempDir dir;
  const char* lines[] = {
      "00400000 abc 4 0 r-x-- foo\n",
      "00400000 99999999999999999999999 4 0 r-x-- foo\n",
      "00400000 r-xp zz 00:00 0 abc 1 2 foo\n",
      "00400000 r-xp 0 00:00 0 99999999999999999999999 1 2 foo\n",
      "ffffffffffff0000 99999999 4 0 r-x-- foo\n",  // fits in 64 bits, but runs past the top
      "00400000 r-xp 99999999999999999999999 00:00 0 4 1 2 foo\n",
      "00400000 12x r-x-- 0000000000000000 000:00000 foo\n",
      "00400000-99999999999999999999 r-xp 00000000 00:00 0 foo\n",
  };
  for (const char* line : lines) {
    CAPTURE(line);
    std::string f = dir.write("bad", std::string("00001000 4 4 0 rw--- ok\n") + line);
    Diagnostics diag;
    std::vector<MapsEntry> v;
    REQUIRE_NOTHROW(v = read_maps_file(f, diag));
    CHECK(v.size() == 1);
    CHECK(diag.warnings().size() == 1);
    for (const Warning& w : diag.warnings()) CHECK_THAT(w.message, Catch::StartsWith("line 2: "));
  }
}

TEST_CASE("maps lines that are not maps lines are skipped", "[input][maps]") {
  TempDir dir;
  std::string text =
      "00400000-00401000 r-xp 00000000 08:01 42 /bin/prog with spaces\n"
      "garbage-line\n"
      "00500000-00400000 rw-p 00000000 00:00 0\n"  // end before start: dropped, with a warning
      "zzzz-00601000 rw-p 0 0 0\n"
      "00600000-00601000 rw-p\n"
      "\n"
      "Address Kbytes RSS Dirty Mode Mapping\n"
      "00700000-00701000 rw-p 00000000 00:00 0 [heap]\n";
  Diagnostics diag;
  auto v = read_maps_file(dir.write("maps", text), diag);
  REQUIRE(v.size() == 2);
  CHECK(v[0].path == "/bin/prog with spaces");
  CHECK(v[0].perms == (kPermRead | kPermExec));
  CHECK(v[1].path == "[heap]");
  CHECK(diag.warnings().size() == 4);  // garbage-line, end before start, zzzz, the short line
}

TEST_CASE("a missing maps file is an InputError naming it", "[input][maps]") {
  Diagnostics diag;
  try {
    read_maps_file("/nonexistent/maps.txt", diag);
    FAIL("no InputError");
  } catch (const InputError& e) {
    CHECK(e.file() == "/nonexistent/maps.txt");
  }
}
