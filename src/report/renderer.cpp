#include "coresift/report/renderer.hpp"

namespace coresift {

std::string render(const nlohmann::json& doc, OutputFormat format, const Renderers& r) {
  switch (format) {
    case OutputFormat::kJson:
      return doc.dump(2) + "\n";
    case OutputFormat::kCsv:
      if (r.csv) return r.csv(doc);
      break;
    case OutputFormat::kFolded:
      if (r.folded) return r.folded(doc);
      break;
    case OutputFormat::kText:
      break;
  }
  return r.text(doc);
}

}  // namespace coresift
