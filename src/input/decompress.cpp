#include "decompress.hpp"

#include <lzma.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace coresift {
namespace {

constexpr size_t kChunk = 1 << 20;

bool write_all(int fd, const uint8_t* p, size_t n, std::string& error) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      error = std::string("cannot write decompressed data: ") + std::strerror(errno);
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

DecompressResult zstd_stream(std::span<const uint8_t> in, int fd) {
  DecompressResult r;
  ZSTD_DStream* ds = ZSTD_createDStream();
  ZSTD_initDStream(ds);
  std::vector<uint8_t> out(kChunk);
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t last = 1;
  while (ib.pos < ib.size) {
    ZSTD_outBuffer ob{out.data(), out.size(), 0};
    last = ZSTD_decompressStream(ds, &ob, &ib);
    if (ZSTD_isError(last)) {
      r.error = ZSTD_getErrorName(last);
      r.error_offset = ib.pos;
      break;
    }
    if (!write_all(fd, out.data(), ob.pos, r.error)) break;
    r.written += ob.pos;
    if (ob.pos == 0 && ib.pos == ib.size) break;
  }
  // Flush what the decoder still holds.
  while (r.error.empty()) {
    ZSTD_outBuffer ob{out.data(), out.size(), 0};
    size_t ret = ZSTD_decompressStream(ds, &ob, &ib);
    if (ZSTD_isError(ret) || ob.pos == 0) break;
    last = ret;
    if (!write_all(fd, out.data(), ob.pos, r.error)) break;
    r.written += ob.pos;
  }
  // `last` is 0 exactly when the final frame was complete.
  if (r.error.empty() && last != 0) {
    r.error = "zstd stream is truncated";
    r.error_offset = in.size();
  }
  ZSTD_freeDStream(ds);
  return r;
}

DecompressResult xz_stream(std::span<const uint8_t> in, int fd) {
  DecompressResult r;
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
    r.error = "cannot start xz decoder";
    return r;
  }
  std::vector<uint8_t> out(kChunk);
  s.next_in = in.data();
  s.avail_in = in.size();
  lzma_ret ret = LZMA_OK;
  while (true) {
    s.next_out = out.data();
    s.avail_out = out.size();
    ret = lzma_code(&s, LZMA_FINISH);
    size_t got = out.size() - s.avail_out;
    if (!write_all(fd, out.data(), got, r.error)) break;
    r.written += got;
    if (ret == LZMA_STREAM_END) break;
    if (ret != LZMA_OK) {
      r.error = ret == LZMA_BUF_ERROR ? "xz stream is truncated" : "xz data is corrupt";
      r.error_offset = in.size() - s.avail_in;
      break;
    }
  }
  lzma_end(&s);
  return r;
}

DecompressResult gzip_stream(std::span<const uint8_t> in, int fd) {
  DecompressResult r;
  z_stream s{};
  if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) {
    r.error = "cannot start gzip decoder";
    return r;
  }
  std::vector<uint8_t> out(kChunk);
  size_t consumed = 0, member_start = 0;
  while (true) {
    // zlib counts in uInt; feed at most 1 GiB at a time.
    size_t feed = std::min<size_t>(in.size() - consumed, 1u << 30);
    s.next_in = const_cast<Bytef*>(in.data() + consumed);
    s.avail_in = static_cast<uInt>(feed);
    s.next_out = out.data();
    s.avail_out = static_cast<uInt>(out.size());
    int ret = inflate(&s, Z_NO_FLUSH);
    consumed += feed - s.avail_in;
    size_t got = out.size() - s.avail_out;
    if (!write_all(fd, out.data(), got, r.error)) break;
    r.written += got;
    if (ret == Z_STREAM_END) {
      // A .gz may hold several members one after another (cat a.gz b.gz, pigz, bgzip):
      // like gzip -d, decode them all.
      size_t left = in.size() - consumed;
      if (left == 0) break;
      if (left >= 2 && in[consumed] == 0x1f && in[consumed + 1] == 0x8b && inflateReset(&s) == Z_OK) {
        member_start = consumed;
        continue;
      }
      if (r.written == 0) {  // the real problem is the empty stream, not what follows it
        r.error = "the gzip member at offset " + std::to_string(member_start) +
                  " is empty (it decompresses to nothing); the " + std::to_string(left) +
                  " bytes after it are not gzip data";
        r.error_offset = member_start;
      } else {
        r.error = std::to_string(left) + " bytes after the last gzip member are not gzip data (ignored)";
        r.error_offset = consumed;
      }
      break;
    }
    if (ret != Z_OK || (got == 0 && consumed == in.size())) {
      r.error = ret == Z_OK || ret == Z_BUF_ERROR ? "gzip stream is truncated" : "gzip data is corrupt";
      r.error_offset = consumed;
      break;
    }
  }
  inflateEnd(&s);
  return r;
}

}  // namespace

DecompressResult decompress_to_fd(Compression kind, std::span<const uint8_t> in, int out_fd) {
  switch (kind) {
    case Compression::kZstd: return zstd_stream(in, out_fd);
    case Compression::kXz: return xz_stream(in, out_fd);
    case Compression::kGzip: return gzip_stream(in, out_fd);
    case Compression::kNone: break;
  }
  return {0, "not compressed", 0};
}

}  // namespace coresift
