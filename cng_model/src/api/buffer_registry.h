// Buffers handed to the caller and released with NCryptFreeBuffer (enumeration results and
// enumeration state). Every such buffer is registered, so NCryptFreeBuffer of anything else
// is NTE_INVALID_PARAMETER instead of a crash, and an enumeration state passed back in is
// checked to be one.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace cng::api {

class CallerBuffer {
 public:
  CallerBuffer() = default;
  CallerBuffer(const CallerBuffer&) = delete;
  CallerBuffer& operator=(const CallerBuffer&) = delete;
  virtual ~CallerBuffer() = default;
  [[nodiscard]] virtual void* address() noexcept = 0;
};

// A block of raw memory: structures followed by the UTF-16 strings they point to.
class ByteBlock final : public CallerBuffer {
 public:
  explicit ByteBlock(std::size_t size);
  [[nodiscard]] void* address() noexcept override { return storage_.get(); }
  [[nodiscard]] std::byte* bytes() noexcept { return reinterpret_cast<std::byte*>(storage_.get()); }

 private:
  std::unique_ptr<std::max_align_t[]> storage_;
};

// Registers buffer and returns its address for the caller.
void* register_caller_buffer(std::unique_ptr<CallerBuffer> buffer);
// Frees a registered buffer; false when address is not one.
bool free_caller_buffer(void* address);
// The registered buffer at address if it is a T, else nullptr. The pointer stays valid until
// the caller frees it (callers must not free a buffer another thread is using, as on Windows).
template <class T>
T* find_caller_buffer(void* address);
CallerBuffer* find_caller_buffer_any(void* address);

template <class T>
T* find_caller_buffer(void* address) {
  return dynamic_cast<T*>(find_caller_buffer_any(address));
}

// Lays out `count` structures of type S followed by strings; returns the block.
class StructBlockWriter {
 public:
  StructBlockWriter(std::size_t struct_bytes, const std::vector<std::u16string_view>& strings);
  // The address of the i-th string copy (NUL-terminated) inside the block.
  char16_t* string(std::size_t i) noexcept;
  std::byte* structs() noexcept { return block_->bytes(); }
  std::unique_ptr<ByteBlock> release() noexcept { return std::move(block_); }

 private:
  std::unique_ptr<ByteBlock> block_;
  std::vector<std::size_t> offsets_;
};

}  // namespace cng::api
