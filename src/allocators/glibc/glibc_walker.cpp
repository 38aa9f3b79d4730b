// PLACEHOLDER until the glibc walker lands: detects nothing.
#include "coresift/allocators/walker.hpp"

namespace coresift {
namespace {
class GlibcWalker : public AllocatorWalker {
 public:
  const char* name() const override { return "glibc"; }
  bool detect(Session&) override { return false; }
  void walk(Session&, ChunkTable&) override {}
};
}  // namespace
std::unique_ptr<AllocatorWalker> make_glibc_walker() { return std::make_unique<GlibcWalker>(); }
}  // namespace coresift
