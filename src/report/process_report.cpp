#include "coresift/report/process_report.hpp"

#include <fmt/format.h>

#include "coresift/report/format.hpp"
#include "coresift/util/paths.hpp"

namespace coresift {
using nlohmann::json;

namespace {


json mapping_json(const Mapping& m) {
  return {{"start", hex_addr(m.start)}, {"end", hex_addr(m.end)},         {"size", m.size()},
          {"perms", perms_string(m.perms)}, {"offset", hex_addr(m.offset)}, {"path", m.path.empty() ? json(nullptr) : json(m.path)},
          {"label", m.label.empty() ? json(nullptr) : json(m.label)},     {"present_bytes", m.present_bytes}};
}

json registers_json(const Thread& t) {
  json r = json::object();
  for (int i = 0; i < kNumRegs; ++i) r[reg_name(i)] = hex_addr(t.regs[i]);
  return r;
}

json signal_json(const Process& p) {
  if (!p.signal) return nullptr;
  const SignalInfo& s = *p.signal;
  return {{"number", s.number},
          {"name", s.name},
          {"code", s.code},
          {"code_name", s.code_name.empty() ? json(nullptr) : json(s.code_name)},
          {"address", hex_or_null(s.address)},
          {"sender_pid", s.sender_pid ? json(*s.sender_pid) : json(nullptr)},
          {"tid", s.tid}};
}

json frame_json(const Frame& f) {
  return {{"pc", hex_addr(f.pc)},
          {"inline", f.is_inline},
          {"module", f.module.empty() ? json(nullptr) : json(f.module)},
          {"module_offset", hex_addr(f.module_offset)},
          {"function", f.function ? json(*f.function) : json(nullptr)},
          {"function_offset", f.function ? json(hex_addr(f.function_offset)) : json(nullptr)},
          {"source", f.source_file.empty() ? json(nullptr) : json(fmt::format("{}:{}", f.source_file, f.line))}};
}

std::string str_or(const json& j, const std::string& fallback = "-") {
  return j.is_string() ? j.get<std::string>() : fallback;
}

}  // namespace

json hex_or_null(std::optional<uint64_t> v) { return v ? json(hex_addr(*v)) : json(nullptr); }

json warnings_json(const Diagnostics& d) {
  json w = json::array();
  for (const Warning& x : d.warnings()) w.push_back(x.to_string());
  return w;
}

json info_json(const CoreModel& s) {
  const Process& p = s.process();
  json doc;
  json inputs = json::array();
  for (const auto& f : s.inputs().files)
    inputs.push_back({{"path", f->path()}, {"compression", compression_name(f->compression())}, {"bytes", f->size()}});
  doc["inputs"] = inputs;
  json argv = json::array();
  for (const auto& a : p.argv) argv.push_back(a);
  doc["process"] = {{"pid", p.pid ? json(p.pid) : json(nullptr)},
                    {"executable", p.executable.empty() ? json(nullptr) : json(p.executable)},
                    {"argv", argv}};
  doc["signal"] = signal_json(p);
  json threads = json::array();
  for (const Thread& t : p.threads)
    threads.push_back({{"tid", t.tid}, {"name", t.name.empty() ? json(nullptr) : json(t.name)},
                       {"crashed", t.crashed}, {"registers", registers_json(t)}});
  doc["threads"] = threads;
  json modules = json::array();
  for (const Module& m : p.modules)
    modules.push_back({{"path", m.path}, {"base", hex_addr(m.base)}, {"end", hex_addr(m.end)},
                       {"build_id", m.build_id.empty() ? json(nullptr) : json(m.build_id)},
                       {"build_id_source", m.build_id_source.empty() ? json(nullptr) : json(m.build_id_source)},
                       {"file", m.disk_path.empty() ? json(nullptr) : json(m.disk_path)},
                       {"build_id_mismatch", m.build_id_mismatch}});
  doc["modules"] = modules;
  json mappings = json::array();
  for (const Mapping& m : p.mappings) mappings.push_back(mapping_json(m));
  doc["mappings"] = mappings;
  doc["totals"] = {{"mapped_bytes", s.memory().total_mapped()}, {"present_bytes", s.memory().total_present()},
                   {"mappings", p.mappings.size()}, {"threads", p.threads.size()}, {"modules", p.modules.size()}};
  doc["warnings"] = warnings_json(s.diag());
  return doc;
}

json maps_json(const CoreModel& s) {
  json mappings = json::array();
  for (const Mapping& m : s.process().mappings) mappings.push_back(mapping_json(m));
  return {{"mappings", mappings}, {"warnings", warnings_json(s.diag())}};
}

json threads_json(const CoreModel& s) {
  json threads = json::array();
  for (const Thread& t : s.process().threads) {
    json frames = json::array();
    for (const Frame& f : s.symbols().backtrace(t)) frames.push_back(frame_json(f));
    threads.push_back({{"tid", t.tid},
                       {"name", t.name.empty() ? json(nullptr) : json(t.name)},
                       {"crashed", t.crashed},
                       {"registers", registers_json(t)},
                       {"frames", frames}});
  }
  return {{"signal", signal_json(s.process())}, {"threads", threads}, {"warnings", warnings_json(s.diag())}};
}

json show_json(const CoreModel& s, uint64_t address, uint64_t length) {
  constexpr uint64_t kMaxShow = 1 << 20;
  length = std::min(length, kMaxShow);
  const Process& p = s.process();
  json doc;
  doc["address"] = hex_addr(address);
  const Mapping* m = p.mapping_at(address);
  doc["mapping"] = m ? mapping_json(*m) : json(nullptr);
  const Module* mod = p.module_at(address);
  doc["module"] = mod ? json({{"path", mod->path}, {"base", hex_addr(mod->base)},
                              {"offset", hex_addr(m ? m->offset + (address - m->start) : address - mod->base)}})
                      : json(nullptr);
  auto sym = s.symbols().symbol_at(address);
  doc["symbol"] = sym ? json({{"name", sym->name}, {"address", hex_addr(sym->address)}, {"size", sym->size},
                              {"offset", hex_addr(sym->offset)}})
                      : json(nullptr);
  // Byte by byte so that absent bytes are reported as such, not as zeros.
  json bytes = json::array();
  uint64_t present = 0, from_file = 0;
  std::string file;
  for (uint64_t i = 0; i < length; ++i) {
    uint8_t b;
    if (s.memory().read(address + i, &b, 1) == 1) {
      bytes.push_back(b);
      ++present;
      continue;
    }
    // Not in the core: a file mapping gcore left out is read from the module's file.
    ModuleFileBytes fb = p.file_bytes(address + i, length - i);
    uint64_t k = 0;
    for (; k < fb.bytes.size() && s.memory().read(address + i + k, &b, 1) == 0; ++k) bytes.push_back(fb.bytes[k]);
    if (k > 0) {
      from_file += k;
      file = fb.file;
      i += k - 1;
    } else {
      bytes.push_back(nullptr);
    }
  }
  doc["length"] = length;
  doc["present_bytes"] = present;
  doc["file_bytes"] = from_file;
  doc["bytes_file"] = file.empty() ? json(nullptr) : json(file);
  doc["bytes"] = bytes;
  doc["warnings"] = warnings_json(s.diag());
  return doc;
}

std::string info_text(const json& d) {
  std::string out;
  const json& p = d["process"];
  out += fmt::format("Process   pid {}  {}\n", p["pid"].is_null() ? "?" : p["pid"].dump(), str_or(p["executable"], "(unknown executable)"));
  if (!p["argv"].empty()) {
    std::string args;
    for (const auto& a : p["argv"]) args += (args.empty() ? "" : " ") + a.get<std::string>();
    out += fmt::format("Command   {}\n", args);
  }
  for (const auto& in : d["inputs"])
    out += fmt::format("Input     {} ({}{})\n", in["path"].get<std::string>(), size_with_bytes(in["bytes"]),
                       in["compression"] == "none" ? "" : ", decompressed from " + in["compression"].get<std::string>());
  const json& sig = d["signal"];
  if (sig.is_null()) {
    out += "Signal    none (process was alive when the core was taken, e.g. gcore)\n";
  } else {
    out += fmt::format("Signal    {} ({}), {}", sig["name"].get<std::string>(), sig["number"].get<int>(),
                       str_or(sig["code_name"], "no siginfo"));
    if (sig["address"].is_string()) out += " at " + sig["address"].get<std::string>();
    if (sig["sender_pid"].is_number()) out += fmt::format(" sent by pid {}", sig["sender_pid"].get<int>());
    out += fmt::format(" in thread {}\n", sig["tid"].get<int>());
  }
  const json& t = d["totals"];
  out += fmt::format("Memory    {} mapped in {} mappings, {} present in the input\n", size_with_bytes(t["mapped_bytes"]),
                     t["mappings"].get<size_t>(), size_with_bytes(t["present_bytes"]));
  std::string crashed = "none";
  for (const auto& th : d["threads"])
    if (th["crashed"].get<bool>()) crashed = std::to_string(th["tid"].get<int>());
  out += fmt::format("Threads   {} (crashed: {})\n", d["threads"].size(), crashed);

  out += fmt::format("\nModules ({})\n", d["modules"].size());
  Table mt({"BASE", "BUILD-ID", "PATH"});
  for (const auto& m : d["modules"]) {
    std::string id = str_or(m["build_id"]);
    if (m["build_id_mismatch"].get<bool>()) id += " (file on disk differs)";
    mt.add({m["base"].get<std::string>(), id, m["path"].get<std::string>()});
  }
  out += mt.render();
  return out;
}

std::string maps_text(const json& d) {
  Table t({"START", "END", "SIZE", "PRESENT", "PERM", "OFFSET", "MAPPING"}, {false, false, true, true, false, false, false});
  uint64_t size = 0, present = 0;
  for (const auto& m : d["mappings"]) {
    uint64_t sz = m["size"], pr = m["present_bytes"];
    size += sz;
    present += pr;
    std::string name = str_or(m["path"], "");
    std::string label = str_or(m["label"], "");
    if (name.empty()) name = label.empty() ? "[anon]" : label;
    t.add({m["start"], m["end"], human_size(sz), human_size(pr), m["perms"], m["offset"], name});
  }
  std::string out = t.render();
  out += fmt::format("total {} mapped, {} present in {} mappings\n", size_with_bytes(size), size_with_bytes(present),
                     d["mappings"].size());
  return out;
}

std::string threads_text(const json& d) {
  std::string out;
  for (const auto& t : d["threads"]) {
    const json& r = t["registers"];
    out += fmt::format("Thread {}{}{}\n", t["tid"].get<int>(), t["name"].is_string() ? " \"" + t["name"].get<std::string>() + "\"" : "",
                       t["crashed"].get<bool>() ? "  ** crashed **" : "");
    out += fmt::format("  rip {}  rsp {}  rbp {}  fs_base {}\n", r["rip"].get<std::string>(), r["rsp"].get<std::string>(),
                       r["rbp"].get<std::string>(), r["fs_base"].get<std::string>());
    int n = 0;
    for (const auto& f : t["frames"]) {
      std::string where = f["function"].is_string()
                              ? fmt::format("{} + {}", f["function"].get<std::string>(), f["function_offset"].get<std::string>())
                              : "??";
      std::string mod = f["module"].is_string() ? fmt::format("{} + {}", base_name(f["module"]), f["module_offset"].get<std::string>()) : "";
      if (f["inline"].get<bool>()) where += " (inlined)";
      out += fmt::format("  #{:<2} {} {:<40} {}{}\n", n++, f["pc"].get<std::string>(), where, mod,
                         f["source"].is_string() ? "  " + f["source"].get<std::string>() : "");
    }
    if (t["frames"].empty()) out += "  (no backtrace)\n";
    out += "\n";
  }
  if (d["threads"].empty()) out += "no threads (raw memory ranges carry no thread state)\n";
  return out;
}

std::string show_text(const json& d) {
  std::string out = fmt::format("Address   {}\n", d["address"].get<std::string>());
  const json& m = d["mapping"];
  if (m.is_null()) {
    out += "Mapping   none (address is not mapped in the inputs)\n";
  } else {
    std::string name = str_or(m["path"], str_or(m["label"], "[anon]"));
    out += fmt::format("Mapping   {}-{} {} {}\n", m["start"].get<std::string>(), m["end"].get<std::string>(),
                       m["perms"].get<std::string>(), name);
  }
  if (d["module"].is_object())
    out += fmt::format("Module    {} + {}\n", d["module"]["path"].get<std::string>(), d["module"]["offset"].get<std::string>());
  if (d["symbol"].is_object())
    out += fmt::format("Symbol    {} + {}\n", d["symbol"]["name"].get<std::string>(), d["symbol"]["offset"].get<std::string>());
  std::vector<int> bytes;
  for (const auto& b : d["bytes"]) bytes.push_back(b.is_null() ? -1 : b.get<int>());
  uint64_t len = d["length"], present = d["present_bytes"], from_file = d["file_bytes"];
  if (from_file > 0)
    out += fmt::format("Note      {} of {} bytes are not in the core; read from {}\n", from_file, len,
                       d["bytes_file"].get<std::string>());
  if (present + from_file < len)
    out += fmt::format("Note      {} of {} bytes are absent from the input (shown as \"?\?\")\n", len - present - from_file, len);
  out += "\n" + hexdump(std::stoull(d["address"].get<std::string>(), nullptr, 16), bytes);
  return out;
}

}  // namespace coresift
