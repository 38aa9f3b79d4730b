// demangle(): C++ (Itanium), Rust legacy and v0; anything else comes back unchanged.
#include <catch2/catch.hpp>

#include "coresift/process/symbols.hpp"
#include "process/symbolizer_impl.hpp"

using coresift::demangle;

TEST_CASE("demangle: C++ Itanium names", "[demangle]") {
  CHECK(demangle("_ZN3foo3barEv") == "foo::bar()");
  CHECK(demangle("_Z4workiPKc") == "work(int, char const*)");
  CHECK(demangle("_ZN2ns5ClassD2Ev") == "ns::Class::~Class()");
  // GCC clone suffixes stay visible.
  CHECK(demangle("_Z3fooi.cold") == "foo(int) (.cold)");
}

TEST_CASE("demangle: Rust legacy names lose their hash and escapes", "[demangle]") {
  CHECK(demangle("_ZN4core3ptr13drop_in_place17h0123456789abcdefE") == "core::ptr::drop_in_place");
  CHECK(demangle("_ZN66_$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$core..ops..drop..Drop$GT$4drop17h0123456789abcdefE") ==
        "<alloc::vec::Vec<T> as core::ops::drop::Drop>::drop");
  // An Itanium name whose last element merely looks similar keeps it.
  CHECK(demangle("_ZN3foo4hashEv") == "foo::hash()");
}

TEST_CASE("demangle: Rust v0 names", "[demangle]") {
  CHECK(demangle("_RNvCs15kBYyAo9fc_7mycrate7example") == "mycrate::example");
  CHECK(demangle("_RNvNtCs1234_7mycrate3foo3bar") == "mycrate::foo::bar");
}

TEST_CASE("demangle: other names are returned unchanged", "[demangle]") {
  CHECK(demangle("main") == "main");
  CHECK(demangle("__libc_start_call_main") == "__libc_start_call_main");
  CHECK(demangle("") == "");
  CHECK(demangle("_Z") == "_Z");
  CHECK(demangle("_Znot_really_mangled!") == "_Znot_really_mangled!");
  CHECK(demangle("_R") == "_R");
}

TEST_CASE("symbol_display_name drops symbol versions", "[demangle]") {
  CHECK(coresift::symbol_display_name("__libc_start_main@@GLIBC_2.34") == "__libc_start_main");
  CHECK(coresift::symbol_display_name("memcpy@GLIBC_2.2.5") == "memcpy");
  CHECK(coresift::symbol_display_name("_ZN3foo3barEv") == "foo::bar()");
}
