// Which lazy token keys of an object layer are materialised (object.h: a summary object
// becomes a full one when first used), least recently used first, and which ones callers are
// using right now (pinned). The layer keeps at most bound() keys materialised: beyond that it
// drops the least recently used unpinned keys back to their summaries (object handles never
// change; an operation in flight keeps its own reference to the open CNG key).
//
// Thread-safe on its own mutex, which is taken after the layer's mutex_ (never before it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cng_key_listing.h"

namespace p11::objects {

class KeyCache {
 public:
  // 1,024 materialised keys: a full key pair costs a few KB (two attribute maps and an open
  // NCrypt handle), so a few MB at most, while a process that uses fewer keys than this
  // never opens a key twice.
  static constexpr std::size_t kDefaultBound = 1024;

  KeyCache();  // bound: kDefaultBound, or what set_key_cache_bound_for_testing() set
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  [[nodiscard]] std::size_t bound() const noexcept { return bound_; }
  void pin(const std::u16string& name);  // also marks the key most recently used
  void unpin(const std::u16string& name);
  void added(const std::u16string& name);  // materialised now (most recently used)
  void removed(const std::u16string& name);
  // The least recently used unpinned keys beyond the bound, no longer counted: the layer
  // drops them back to their summaries.
  std::vector<std::u16string> overflow();

 private:
  void touch(const std::u16string& name);  // caller holds mutex_

  std::mutex mutex_;
  std::size_t bound_;
  std::list<std::u16string> order_;  // most recently used first
  std::unordered_map<std::u16string, std::list<std::u16string>::iterator> where_;
  std::unordered_map<std::u16string, int> pins_;
};

// Holds a pin on a key for as long as it lives (moveable; empty when default-made).
class KeyPin {
 public:
  KeyPin() = default;
  KeyPin(KeyCache& cache, std::u16string name) : cache_(&cache), name_(std::move(name)) {
    cache_->pin(name_);
  }
  KeyPin(KeyPin&& other) noexcept
      : cache_(std::exchange(other.cache_, nullptr)), name_(std::move(other.name_)) {}
  KeyPin& operator=(KeyPin&& other) noexcept {
    if (this != &other) {
      release();
      cache_ = std::exchange(other.cache_, nullptr);
      name_ = std::move(other.name_);
    }
    return *this;
  }
  KeyPin(const KeyPin&) = delete;
  KeyPin& operator=(const KeyPin&) = delete;
  ~KeyPin() { release(); }

 private:
  void release() noexcept {
    if (cache_ != nullptr) {
      cache_->unpin(name_);
      cache_ = nullptr;
    }
  }

  KeyCache* cache_ = nullptr;
  std::u16string name_;
};

// Tests: the bound of the caches of layers created from now on (0: kDefaultBound again).
void set_key_cache_bound_for_testing(std::size_t bound) noexcept;

// A digest of everything a listing says about a key: a refresh compares it with the one of
// the last listing read to see that another process changed the key.
std::uint64_t listing_fingerprint(const cng::KeyStoreListing& listing) noexcept;

}  // namespace p11::objects
