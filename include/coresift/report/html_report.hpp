// `report`: one self-contained HTML page (inline CSS, JavaScript and SVG; nothing fetched)
// drawn from one JSON document that gathers what the other commands compute:
// {summary, info, maps, heap, groups, leaks, owners, stacks, threads, diff?}
// (docs/report.md). The page's script renders everything from that document.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "coresift/analysis/census.hpp"
#include "coresift/model/heap_model.hpp"

namespace coresift {

// The report's document for one core (its census taken by the caller). `top`: rows of the
// groups table. The strings in it are still bytes: make_json_safe before rendering.
nlohmann::json report_json(const HeapModel& heap, const Census& census, size_t top);

// The page: the template (src/report/report_template.html) with `doc` embedded as JSON in a
// <script type="application/json"> element. `doc` must be JSON-safe (make_json_safe); every
// '<' in it is written as \u003c so no string from the core can close the element.
std::string report_html(const nlohmann::json& doc);

// The template as embedded at build time (generated from src/report/report_template.html).
extern const char* const kReportTemplate;

}  // namespace coresift
