// Skipping a test that cannot run on this machine, so that ctest reports it skipped, not passed.
//
// ctest marks a test skipped when its output contains "SKIPPED:" (SKIP_REGULAR_EXPRESSION on
// every Catch2 test in tests/CMakeLists.txt), even when the test also failed. So the marker may
// only be printed by a test case that has checked nothing: skip_test() fails the test case
// instead when any assertion already ran in it, and a test case that skips must return right
// after. Skip only for what a machine may legitimately lack (gdb, kernel cores, a JDK,
// libc6-dbg, …); a missing file the repository guarantees (a committed corpus core) is a failure.
#pragma once
#include <string>

namespace coresift::test {

// Prints "SKIPPED: <why>" on stdout (flushed), or fails the running test case when it has
// already checked something. Call it, then return from the test case.
void skip_test(const std::string& why);

// Assertions (passed or failed) run so far in the current test case.
unsigned long assertions_in_test_case();

}  // namespace coresift::test
