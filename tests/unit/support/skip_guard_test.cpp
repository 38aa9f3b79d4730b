// The skip helper itself: a test case that already checked something cannot report a skip.
#include <catch2/catch.hpp>

#include "support/skip.hpp"

TEST_CASE("skip_test after a check fails the test case instead of skipping it", "[support][!shouldfail]") {
  CHECK(coresift::test::assertions_in_test_case() == 0);
  coresift::test::skip_test("the guard's own test (SKIPPED: never reported)");
}
