#include "providers/software/context_pool.h"

#include <openssl/err.h>

#include "providers/software/ossl_error.h"

namespace cng::soft {

namespace {
// Idle entries kept beyond this are freed: bounds memory if a burst of threads used the key.
constexpr std::size_t kMaxIdle = 64;
}  // namespace

ContextPool::Lease ContextPool::acquire() const {
  {
    const std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Entry> entry = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(entry));
    }
  }
  auto entry = std::make_unique<Entry>();
  {
    // EVP_PKEY_dup only reads the master, but keep copies of one key strictly one at a time:
    // it happens once per concurrent thread over the key's life.
    const std::lock_guard lock(mutex_);
    entry->key.reset(EVP_PKEY_dup(master_));
    if (entry->key == nullptr && EVP_PKEY_up_ref(master_) == 1) {
      // EVP_PKEY_dup fails in a host whose default RSA/EC methods come from an ENGINE
      // (`openssl -engine pkcs11` loading this module): share the master key instead. Only
      // throughput suffers (threads contend on one key), never correctness.
      ERR_clear_error();
      entry->key.reset(master_);
    }
  }
  check_ossl(entry->key != nullptr, NTE_NO_MEMORY, "EVP_PKEY_dup");
  entry->ctx.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, entry->key.get(), nullptr));
  check_ossl(entry->ctx != nullptr, NTE_NO_MEMORY, "EVP_PKEY_CTX_new_from_pkey");
  return Lease(this, std::move(entry));
}

void ContextPool::give_back(std::unique_ptr<Entry> entry) const noexcept {
  const std::lock_guard lock(mutex_);
  if (idle_.size() < kMaxIdle) {
    try {
      idle_.push_back(std::move(entry));
    } catch (...) {  // out of memory: drop the entry (freed by unique_ptr)
    }
  }
}

}  // namespace cng::soft
