// Known structures recognised by their fields and by pointers between them, found once
// while the Signer is built: zlib streams and the buffers they own, glibc FILEs and their
// buffers, thread DTVs. Every check is strict (exact back pointers, enum ranges, sizes
// that must agree), so random data does not pass.
#include <cstring>

#include "parts.hpp"

namespace coresift::sig {
namespace {

uint64_t word(std::span<const uint8_t> v, size_t off) {
  uint64_t w;
  std::memcpy(&w, v.data() + off, 8);
  return w;
}
uint32_t u32(std::span<const uint8_t> v, size_t off) {
  uint32_t w;
  std::memcpy(&w, v.data() + off, 4);
  return w;
}

// Records `name` for the chunk that starts exactly at `addr`, if there is one.
void mark(const ChunkTable& t, uint64_t addr, const char* name, int module, KnownMap& out) {
  if (!addr) return;
  auto i = t.find(addr);
  if (i && t.chunks[*i].address == addr && t.chunks[*i].state != ChunkState::kFree) out[addr] = Known{name, module};
}

// z_stream on x86-64 (zlib.h): next_in 0, avail_in 8, total_in 16, next_out 24, avail_out 32,
// total_out 40, msg 48, state 56, zalloc 64, zfree 72, opaque 80, data_type 88, adler 96,
// reserved 104; 112 bytes.
constexpr size_t kZStreamSize = 112, kZState = 56, kZAlloc = 64, kZFree = 72;

// inflate_state (inflate.h, zlib 1.2.9–1.3.x): strm 0, mode 8, …, wbits 56, wsize 60,
// whave 64, wnext 68, window 72. Modes run from HEAD = 16180 to SYNC = 16211.
bool inflate_state(std::span<const uint8_t> s) {
  uint32_t mode = u32(s, 8), wbits = u32(s, 56), wsize = u32(s, 60), whave = u32(s, 64), wnext = u32(s, 68);
  if (mode < 16180 || mode > 16211) return false;
  if (wbits < 8 || wbits > 15) return false;
  if (wsize != 0 && wsize != (1u << wbits)) return false;
  return whave <= wsize && wnext <= wsize;
}

// deflate_state (deflate.h, zlib 1.2.9–1.3.x): strm 0, status 8, pending_buf 16,
// pending_buf_size 24, …, w_size 80, w_bits 84, w_mask 88, window 96, window_size 104,
// prev 112, head 120.
bool deflate_state(std::span<const uint8_t> s) {
  switch (u32(s, 8)) {
    case 42: case 57: case 69: case 73: case 91: case 103: case 113: case 666: break;  // INIT…FINISH_STATE
    default: return false;
  }
  uint32_t w_size = u32(s, 80), w_bits = u32(s, 84), w_mask = u32(s, 88);
  if (w_bits < 8 || w_bits > 16 || w_size != (1u << w_bits) || w_mask != w_size - 1) return false;
  return word(s, 104) == 2ull * w_size && word(s, 16) != 0;
}

}  // namespace

void find_zlib(const AddressSpace& mem, const ModuleMap& mods, const ChunkTable& t, const Chunk& c, uint64_t w0,
               KnownMap& out) {
  auto s = mem.view(c.address, 128);
  if (s.empty()) return;
  uint8_t zs_bytes[kZStreamSize];
  if (mem.read(w0, zs_bytes, kZStreamSize) != kZStreamSize) return;
  std::span<const uint8_t> zs(zs_bytes, kZStreamSize);
  if (word(zs, kZState) != c.address) return;
  // zalloc/zfree: zlib's own zcalloc/zcfree, or the application's allocator functions.
  const ModuleRange* za = mods.find(word(zs, kZAlloc));
  const ModuleRange* zf = mods.find(word(zs, kZFree));
  if (!za || !za->code || !zf || !zf->code) return;
  int module = za->module;
  if (inflate_state(s)) {
    out[c.address] = Known{"zlib:inflate_state", module};
    mark(t, word(s, 72), "zlib:inflate_window", module, out);
  } else if (deflate_state(s)) {
    out[c.address] = Known{"zlib:deflate_state", module};
    mark(t, word(s, 16), "zlib:deflate_pending", module, out);
    mark(t, word(s, 96), "zlib:deflate_window", module, out);
    mark(t, word(s, 112), "zlib:deflate_prev", module, out);
    mark(t, word(s, 120), "zlib:deflate_head", module, out);
  } else {
    return;
  }
  mark(t, w0, "zlib:z_stream", module, out);
}

// A FILE from fopen is glibc's locked_FILE: struct _IO_FILE (216 bytes: _flags 0 with
// _IO_MAGIC 0xFBAD0000 in the high half, _IO_buf_base 56, _IO_buf_end 64, _fileno 112)
// followed by the jump-table pointer at 216, which points into libc.
void find_stdio_file(const AddressSpace& mem, const ModuleMap& mods, const ChunkTable& t, const Chunk& c,
                     KnownMap& out) {
  auto f = mem.view(c.address, 224);
  if (f.empty() || (u32(f, 0) & 0xffff0000u) != 0xfbad0000u) return;
  const ModuleRange* vt = mods.find(word(f, 216));
  if (!vt || vt->code || (mods.libc() >= 0 && vt->module != mods.libc())) return;
  int32_t fileno = static_cast<int32_t>(u32(f, 112));
  if (fileno < -1 || fileno > (1 << 24)) return;
  uint64_t base = word(f, 56), end = word(f, 64);
  if (end < base || end - base > (1ull << 26)) return;
  out[c.address] = Known{"glibc:FILE", vt->module};
  mark(t, base, "glibc:stdio_buffer", vt->module, out);
}

// x86-64 TCB (tcbhead_t): tcb 0 (= itself), dtv 8, self 16. The DTV array is calloc'd by
// pthread_create with its length in element -1, and the TCB points at element 0, 16 bytes
// into the chunk.
void find_dtvs(const AddressSpace& mem, const ModuleMap& mods, const Process& p, const ChunkTable& t, KnownMap& out) {
  for (const Thread& th : p.threads) {
    uint64_t fs = th.fs_base();
    auto tcb = mem.read_u64(fs), dtv = mem.read_u64(fs + 8), self = mem.read_u64(fs + 16);
    if (!fs || !tcb || *tcb != fs || !self || *self != fs || !dtv || *dtv < 16) continue;
    auto i = t.find(*dtv);
    if (i && t.chunks[*i].address + 16 == *dtv) mark(t, *dtv - 16, "glibc:dtv", mods.libc(), out);
  }
}

}  // namespace coresift::sig
