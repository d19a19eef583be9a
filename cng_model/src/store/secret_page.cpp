#include "store/secret_page.h"

#include <openssl/crypto.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/cng_error.h"

namespace cng {

SecretPage::SecretPage(std::size_t size) : size_(size) {
  const long page = ::sysconf(_SC_PAGESIZE);
  mapped_ = page > 0 ? static_cast<std::size_t>(page) : 4096;
  require(size <= mapped_, NTE_INVALID_PARAMETER, "secret larger than a page");
  void* p = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  require(p != MAP_FAILED, NTE_NO_MEMORY, "cannot map a page for a secret");
  data_ = static_cast<std::uint8_t*>(p);
#ifdef MADV_DONTDUMP
  dump_excluded_ = ::madvise(p, mapped_, MADV_DONTDUMP) == 0;
#endif
  (void)::mlock(p, mapped_);  // best effort: RLIMIT_MEMLOCK may forbid it
}

SecretPage::~SecretPage() {
  if (data_ != nullptr) {
    OPENSSL_cleanse(data_, mapped_);
    (void)::munlock(data_, mapped_);
    ::munmap(data_, mapped_);
  }
}

}  // namespace cng
