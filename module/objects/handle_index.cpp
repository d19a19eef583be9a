#include "objects/handle_index.h"

#include <bit>

namespace p11::objects {

std::size_t HandleIndex::home(std::uint64_t key) const noexcept {
  // Fibonacci hashing: spreads sequential handles and digests alike over the table.
  const int bits = std::countr_zero(slots_.size());
  return bits == 0 ? 0 : static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

const HandleIndex::Slot* HandleIndex::find(std::uint64_t key) const noexcept {
  if (slots_.empty()) {
    return nullptr;
  }
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = home(key);; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.state == State::kEmpty) {
      return nullptr;
    }
    if (s.state == State::kFull && s.key == key) {
      return &s;
    }
  }
}

void HandleIndex::rehash(std::size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  used_ = full_;
  const std::size_t mask = capacity - 1;
  for (const Slot& s : old) {
    if (s.state != State::kFull) {
      continue;
    }
    std::size_t i = home(s.key);
    while (slots_[i].state != State::kEmpty) {
      i = (i + 1) & mask;
    }
    slots_[i] = s;
  }
}

std::size_t HandleIndex::capacity_for(std::size_t keys) noexcept {
  std::size_t capacity = 16;
  while ((keys + 1) * 10 > capacity * 7) {
    capacity *= 2;
  }
  return capacity;
}

void HandleIndex::reserve(std::size_t keys) {
  if (const std::size_t capacity = capacity_for(keys); capacity > slots_.size()) {
    rehash(capacity);
  }
}

void HandleIndex::add(std::uint64_t key, CK_OBJECT_HANDLE h) {
  ++size_;
  if (Slot* s = find(key)) {
    if (s->a == CK_INVALID_HANDLE) {
      s->a = h;
    } else if (s->b == CK_INVALID_HANDLE) {
      s->b = h;
    } else {
      overflow_.emplace(key, h);
    }
    return;
  }
  if ((used_ + 1) * 10 > slots_.size() * 7) {
    rehash(capacity_for(full_ + 1));  // grows, or only drops the removed slots
  }
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = home(key);
  while (slots_[i].state == State::kFull) {
    i = (i + 1) & mask;
  }
  used_ += slots_[i].state == State::kEmpty ? 1 : 0;
  ++full_;
  slots_[i] = Slot{key, h, CK_INVALID_HANDLE, State::kFull};
}

void HandleIndex::remove(std::uint64_t key, CK_OBJECT_HANDLE h) {
  Slot* s = find(key);
  if (s != nullptr && (s->a == h || s->b == h)) {
    (s->a == h ? s->a : s->b) = CK_INVALID_HANDLE;
    --size_;
    // A handle of the key from the overflow takes the freed place.
    if (const auto spill = overflow_.find(key); spill != overflow_.end()) {
      (s->a == CK_INVALID_HANDLE ? s->a : s->b) = spill->second;
      overflow_.erase(spill);
    } else if (s->a == CK_INVALID_HANDLE && s->b == CK_INVALID_HANDLE) {
      s->state = State::kRemoved;
      --full_;
    }
    return;
  }
  for (auto [it, end] = overflow_.equal_range(key); it != end; ++it) {
    if (it->second == h) {
      overflow_.erase(it);
      --size_;
      return;
    }
  }
}

}  // namespace p11::objects
