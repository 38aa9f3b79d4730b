// A fixed-capacity array backed by an anonymous mapping: capacity is only address space,
// pages become memory when first written. Lets a scan write results into a worst-case-sized
// buffer without the copies (and twice the peak) of a growing vector.
#pragma once
#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace coresift {

template <typename T>
class LazyArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  LazyArray() = default;
  explicit LazyArray(size_t capacity) : cap_(capacity) {
    if (cap_ == 0) return;
    void* p = ::mmap(nullptr, cap_ * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<T*>(p);
  }
  ~LazyArray() { release(); }
  LazyArray(LazyArray&& o) noexcept { swap(o); }
  LazyArray& operator=(LazyArray&& o) noexcept {
    swap(o);
    return *this;
  }
  LazyArray(const LazyArray&) = delete;
  LazyArray& operator=(const LazyArray&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  void set_size(size_t n) { size_ = n; }
  // Returns the pages past `size()` to the system.
  void trim() {
    size_t keep = (size_ * sizeof(T) + 4095) & ~size_t{4095};
    if (data_ && keep < cap_ * sizeof(T)) ::madvise(reinterpret_cast<char*>(data_) + keep, cap_ * sizeof(T) - keep, MADV_DONTNEED);
  }

 private:
  void release() {
    if (data_) ::munmap(data_, cap_ * sizeof(T));
    data_ = nullptr;
  }
  void swap(LazyArray& o) {
    std::swap(data_, o.data_);
    std::swap(cap_, o.cap_);
    std::swap(size_, o.size_);
  }
  T* data_ = nullptr;
  size_t cap_ = 0;
  size_t size_ = 0;
};

}  // namespace coresift
