#include "coresift/input/mapped_file.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "coresift/input/regular_file.hpp"
#include "decompress.hpp"

namespace coresift {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text() { return std::strerror(errno); }

// An unlinked file in $TMPDIR: big cores may not fit in memory, and the kernel reclaims the
// space as soon as we close it.
int make_temp_fd(const std::string& for_path) {
  const char* dir = std::getenv("TMPDIR");
  std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/coresift-XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw InputError(for_path, std::nullopt, "cannot create temporary file for decompression: " + errno_text());
  ::unlink(tmpl.c_str());
  return fd;
}

}  // namespace

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::kZstd: return "zstd";
    case Compression::kXz: return "xz";
    case Compression::kGzip: return "gzip";
    case Compression::kNone: break;
  }
  return "none";
}

Compression detect_compression(std::span<const uint8_t> h) {
  if (h.size() >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd) return Compression::kZstd;
  if (h.size() >= 6 && h[0] == 0xfd && h[1] == '7' && h[2] == 'z' && h[3] == 'X' && h[4] == 'Z' && h[5] == 0)
    return Compression::kXz;
  if (h.size() >= 2 && h[0] == 0x1f && h[1] == 0x8b) return Compression::kGzip;
  return Compression::kNone;
}

std::unique_ptr<MappedFile> MappedFile::open(const std::string& path, Diagnostics& diag) {
  OpenedFile opened = open_regular_file(path);
  if (opened.fd < 0) throw InputError(path, std::nullopt, opened.why);
  Fd f;
  f.fd = opened.fd;
  if (opened.size == 0) throw InputError(path, std::nullopt, "file is empty");

  uint64_t size = opened.size;
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, f.fd, 0);
  if (p == MAP_FAILED) throw InputError(path, std::nullopt, "cannot mmap: " + errno_text());

  std::unique_ptr<MappedFile> mf(new MappedFile);
  mf->path_ = path;
  mf->data_ = static_cast<const uint8_t*>(p);
  mf->size_ = size;
  mf->compression_ = detect_compression(mf->bytes().first(std::min<uint64_t>(size, 8)));
  if (mf->compression_ == Compression::kNone) return mf;

  ::madvise(p, size, MADV_SEQUENTIAL);
  Fd tmp;
  tmp.fd = make_temp_fd(path);
  DecompressResult r = decompress_to_fd(mf->compression_, mf->bytes(), tmp.fd);
  ::munmap(p, size);
  mf->data_ = nullptr;
  mf->size_ = 0;
  if (!r.error.empty()) {
    if (r.written == 0) throw InputError(path, r.error_offset, std::string(compression_name(mf->compression_)) + ": " + r.error);
    diag.warn(path, r.error_offset,
              std::string(compression_name(mf->compression_)) + ": " + r.error + "; using the " +
                  std::to_string(r.written) + " bytes decompressed before it");
  }
  if (r.written == 0) throw InputError(path, std::nullopt, "decompressed to nothing");
  p = ::mmap(nullptr, r.written, PROT_READ, MAP_PRIVATE, tmp.fd, 0);
  if (p == MAP_FAILED) throw InputError(path, std::nullopt, "cannot mmap decompressed data: " + errno_text());
  mf->data_ = static_cast<const uint8_t*>(p);
  mf->size_ = r.written;
  return mf;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace coresift
