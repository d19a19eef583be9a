#include "objects/key_cache.h"

#include <atomic>
#include <cstring>

namespace p11::objects {

namespace {

constinit std::atomic<std::size_t> g_test_bound{0};

// A 64-bit multiply-xorshift digest over 8-byte words (FNV-style, word at a time): a change
// detector, not a security boundary (the store is the truth).
class Digest {
 public:
  void add(const void* data, std::size_t size) noexcept {
    const auto* p = static_cast<const std::uint8_t*>(data);
    std::size_t at = 0;
    for (; at + 8 <= size; at += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, p + at, 8);
      mix(w);
    }
    std::uint64_t tail = 0;
    if (at < size) {  // (an empty field may have no data pointer at all)
      std::memcpy(&tail, p + at, size - at);
    }
    mix(tail);
    mix(size);  // so that moving bytes between fields changes the digest
  }
  template <class C>
  void add_range(const C& c) noexcept {
    add(c.data(), c.size() * sizeof(*c.data()));
  }
  void add_word(DWORD v) noexcept { mix(v); }
  [[nodiscard]] std::uint64_t value() const noexcept { return hash_; }

 private:
  void mix(std::uint64_t w) noexcept {
    hash_ = (hash_ ^ w) * 0x100000001b3ULL;
    hash_ ^= hash_ >> 29;
  }
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace

KeyCache::KeyCache() {
  const std::size_t test = g_test_bound.load(std::memory_order_relaxed);
  bound_ = test != 0 ? test : kDefaultBound;
}

void KeyCache::touch(const std::u16string& name) {
  if (const auto it = where_.find(name); it != where_.end()) {
    order_.splice(order_.begin(), order_, it->second);
  }
}

void KeyCache::pin(const std::u16string& name) {
  std::lock_guard lock(mutex_);
  ++pins_[name];
  touch(name);
}

void KeyCache::unpin(const std::u16string& name) {
  std::lock_guard lock(mutex_);
  if (const auto it = pins_.find(name); it != pins_.end() && --it->second <= 0) {
    pins_.erase(it);
  }
}

void KeyCache::added(const std::u16string& name) {
  std::lock_guard lock(mutex_);
  if (where_.contains(name)) {
    touch(name);
    return;
  }
  order_.push_front(name);
  where_[name] = order_.begin();
}

void KeyCache::removed(const std::u16string& name) {
  std::lock_guard lock(mutex_);
  if (const auto it = where_.find(name); it != where_.end()) {
    order_.erase(it->second);
    where_.erase(it);
  }
}

std::vector<std::u16string> KeyCache::overflow() {
  std::lock_guard lock(mutex_);
  std::vector<std::u16string> out;
  auto it = order_.end();
  while (order_.size() > bound_ && it != order_.begin()) {
    --it;
    if (pins_.contains(*it)) {
      continue;  // in use: stays materialised for now
    }
    out.push_back(*it);
    where_.erase(*it);
    it = order_.erase(it);
  }
  return out;
}

void set_key_cache_bound_for_testing(std::size_t bound) noexcept {
  g_test_bound.store(bound, std::memory_order_relaxed);
}

std::uint64_t listing_fingerprint(const cng::KeyStoreListing& l) noexcept {
  Digest f;
  f.add_range(l.name);
  f.add_range(l.algorithm);
  f.add_word(l.legacy_key_spec);
  f.add_word(l.length);
  f.add_word(l.export_policy);
  f.add_word(l.key_usage);
  f.add_range(l.unique_name);
  f.add_range(l.public_blob_type);
  f.add_range(l.public_blob);
  for (const auto& [name, value] : l.properties) {
    f.add_range(name);
    f.add_range(value);
  }
  return f.value();
}

}  // namespace p11::objects
