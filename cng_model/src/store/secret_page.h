// SecretPage: a few secret bytes in a page of their own, kept out of core dumps
// (madvise(MADV_DONTDUMP) where the system has it), locked in memory when allowed
// (best effort) and zeroized before the page is returned. The seam for the platform's
// memory calls: the master key (master_key.h) lives in one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace cng {

class SecretPage {
 public:
  // A zeroed page holding size bytes (size <= the page size). NTE_NO_MEMORY on failure.
  explicit SecretPage(std::size_t size);
  SecretPage(const SecretPage&) = delete;
  SecretPage& operator=(const SecretPage&) = delete;
  ~SecretPage();

  [[nodiscard]] std::span<std::uint8_t> bytes() noexcept { return {data_, size_}; }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }
  // Whether the page is excluded from core dumps (for tests and status).
  [[nodiscard]] bool dump_excluded() const noexcept { return dump_excluded_; }

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;
  bool dump_excluded_ = false;
};

}  // namespace cng
