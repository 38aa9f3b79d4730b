// skip_test() and the listener that counts the assertions of each test case for it.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include "support/skip.hpp"

#include <catch2/catch.hpp>
#include <iostream>

namespace coresift::test {
namespace {

unsigned long g_assertions = 0;

// Counts every assertion of the current test case (a listener sees the passing ones too).
struct AssertionCounter : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(Catch::TestCaseInfo const& info) override {
    g_assertions = 0;
    TestEventListenerBase::testCaseStarting(info);
  }
  bool assertionEnded(Catch::AssertionStats const& stats) override {
    ++g_assertions;
    return TestEventListenerBase::assertionEnded(stats);
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(AssertionCounter)

unsigned long assertions_in_test_case() { return g_assertions; }

void skip_test(const std::string& why) {
  if (g_assertions != 0) {
    // The failure text must not contain the marker, or ctest would count the failure as a skip.
    std::string reason = why;
    for (size_t at; (at = reason.find("SKIPPED:")) != std::string::npos;) reason[at + 7] = ' ';
    FAIL("skip_test() after " << g_assertions << " assertion(s) would hide them; reason: " << reason);
  }
  std::cout << "SKIPPED: " << why << std::endl;
}

}  // namespace coresift::test
