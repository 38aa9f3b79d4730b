#include <catch2/catch.hpp>

#include "coresift/report/csv.hpp"

using nlohmann::json;

using coresift::csv_table;
using coresift::CsvTable;

TEST_CASE("csv: header, columns in order, RFC 4180 quoting, lists joined, nulls empty", "[report][csv]") {
  json doc = {{"rows",
               {{{"name", "plain"}, {"n", 3}, {"list", {1, 2}}, {"none", nullptr}},
                {{"name", "a,b \"q\"\nx"}, {"n", 1.5}, {"list", {"0x1", "0x2"}}, {"none", {{"k", 1}}}}}}};
  CsvTable t{"rows", {"name", "n", "list", "none", "missing"}};
  CHECK(csv_table(doc, t) ==
        "name,n,list,none,missing\n"
        "plain,3,1 2,,\n"
        "\"a,b \"\"q\"\"\nx\",1.5,0x1 0x2,\"{\"\"k\"\":1}\",\n");
  CHECK(csv_table(json::object(), t) == "name,n,list,none,missing\n");
}
