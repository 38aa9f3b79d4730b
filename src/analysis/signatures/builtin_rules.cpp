// The built-in rules: formats recognised by their magic bytes or leading text. They use the
// same format and matcher as --rules files (user rules are tried before these).
#include "coresift/analysis/rules.hpp"

namespace coresift {

std::string_view builtin_rules_text() {
  return R"(# coresift built-in rules
rule gzip:data
  bytes 0 1f8b08
rule zstd:frame
  bytes 0 28b52ffd
rule elf:image
  bytes 0 7f454c46
rule png:image
  bytes 0 89504e470d0a1a0a
rule pem:block
  prefix -----BEGIN
rule http:response
  prefix HTTP/1.
rule http:request
  prefix GET /
rule http:request
  prefix POST /
)";
}

}  // namespace coresift
