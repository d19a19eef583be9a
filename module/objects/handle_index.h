// HandleIndex: object handles by a 64-bit key (a digest of a label or id, or the handle
// itself), in one flat open-addressing table instead of a node per entry, so that adding the
// objects of a large store allocates O(log n) blocks and freeing them O(1).
//
// A slot holds one key and up to two handles (the two halves of a key pair share their label
// and id); a key's further handles go to an overflow multimap, so that many objects under one
// key (an empty CKA_ID on every key) never make a long probe cluster. Linear probing,
// tombstones on removal, rehashed at 70% use. Not thread-safe (the layer's mutex_ guards it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "pkcs11/pkcs11_all.h"

namespace p11::objects {

class HandleIndex {
 public:
  void add(std::uint64_t key, CK_OBJECT_HANDLE h);
  void remove(std::uint64_t key, CK_OBJECT_HANDLE h);  // that one entry, if present
  void reserve(std::size_t keys);                      // room for this many distinct keys
  [[nodiscard]] std::size_t size() const noexcept { return size_; }              // handles held
  [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }  // slots

  // Calls f(handle) for every handle under key.
  template <class F>
  void for_each(std::uint64_t key, F&& f) const {
    if (const Slot* s = find(key)) {
      for (const CK_OBJECT_HANDLE h : {s->a, s->b}) {
        if (h != CK_INVALID_HANDLE) {
          f(h);
        }
      }
    }
    if (!overflow_.empty()) {
      for (auto [it, end] = overflow_.equal_range(key); it != end; ++it) {
        f(it->second);
      }
    }
  }
  // Calls f(handle) for every handle held.
  template <class F>
  void for_each_handle(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.state == State::kFull) {
        for (const CK_OBJECT_HANDLE h : {s.a, s.b}) {
          if (h != CK_INVALID_HANDLE) {
            f(h);
          }
        }
      }
    }
    for (const auto& [key, h] : overflow_) {
      f(h);
    }
  }

 private:
  enum class State : std::uint8_t { kEmpty, kFull, kRemoved };
  struct Slot {
    std::uint64_t key = 0;
    CK_OBJECT_HANDLE a = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE b = CK_INVALID_HANDLE;
    State state = State::kEmpty;
  };

  [[nodiscard]] std::size_t home(std::uint64_t key) const noexcept;
  [[nodiscard]] const Slot* find(std::uint64_t key) const noexcept;
  Slot* find(std::uint64_t key) noexcept {
    return const_cast<Slot*>(static_cast<const HandleIndex*>(this)->find(key));
  }
  void rehash(std::size_t capacity);
  static std::size_t capacity_for(std::size_t keys) noexcept;

  std::vector<Slot> slots_;  // a power of two in size, or empty
  std::size_t used_ = 0;     // slots full or removed
  std::size_t full_ = 0;     // slots full
  std::size_t size_ = 0;
  std::unordered_multimap<std::uint64_t, CK_OBJECT_HANDLE> overflow_;
};

}  // namespace p11::objects
