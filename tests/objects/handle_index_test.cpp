// HandleIndex (module/objects/handle_index.h) against std::unordered_multimap as the oracle:
// random adds and removals, keys shared by many handles (the overflow), and enough churn to
// fill the table with removed slots.
#include "objects/handle_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <unordered_map>
#include <vector>

namespace p11::test {
namespace {

using objects::HandleIndex;
using Oracle = std::unordered_multimap<std::uint64_t, CK_OBJECT_HANDLE>;

std::vector<CK_OBJECT_HANDLE> under(const HandleIndex& index, std::uint64_t key) {
  std::vector<CK_OBJECT_HANDLE> out;
  index.for_each(key, [&](CK_OBJECT_HANDLE h) { out.push_back(h); });
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<CK_OBJECT_HANDLE> under(const Oracle& oracle, std::uint64_t key) {
  std::vector<CK_OBJECT_HANDLE> out;
  for (auto [it, end] = oracle.equal_range(key); it != end; ++it) {
    out.push_back(it->second);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void expect_same(const HandleIndex& index, const Oracle& oracle, std::uint64_t keys) {
  ASSERT_EQ(index.size(), oracle.size());
  for (std::uint64_t k = 0; k < keys; ++k) {
    ASSERT_EQ(under(index, k), under(oracle, k)) << "key " << k;
  }
  std::vector<CK_OBJECT_HANDLE> all;
  index.for_each_handle([&](CK_OBJECT_HANDLE h) { all.push_back(h); });
  std::vector<CK_OBJECT_HANDLE> expected;
  for (const auto& [k, h] : oracle) {
    expected.push_back(h);
  }
  std::sort(all.begin(), all.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(all, expected);
}

TEST(HandleIndexTest, MatchesAMultimapUnderRandomAddsAndRemovals) {
  for (const std::uint64_t keys : {3ULL, 50ULL, 5000ULL}) {  // many handles per key .. few
    std::mt19937_64 rng(keys);
    HandleIndex index;
    Oracle oracle;
    std::vector<std::pair<std::uint64_t, CK_OBJECT_HANDLE>> live;
    CK_OBJECT_HANDLE next = 1;
    for (int step = 0; step < 40000; ++step) {
      if (live.empty() || rng() % 3 != 0) {
        const std::uint64_t key = rng() % keys;
        index.add(key, next);
        oracle.emplace(key, next);
        live.emplace_back(key, next++);
      } else {
        const std::size_t at = rng() % live.size();
        const auto [key, h] = live[at];
        index.remove(key, h);
        for (auto [it, end] = oracle.equal_range(key); it != end; ++it) {
          if (it->second == h) {
            oracle.erase(it);
            break;
          }
        }
        live[at] = live.back();
        live.pop_back();
      }
    }
    expect_same(index, oracle, keys);
    // Everything removed: nothing left under any key, and the table is usable again.
    for (const auto& [key, h] : live) {
      index.remove(key, h);
    }
    oracle.clear();
    expect_same(index, oracle, keys);
    index.add(7, 1);
    EXPECT_EQ(under(index, 7), std::vector<CK_OBJECT_HANDLE>{1});
  }
}

TEST(HandleIndexTest, RemovingAnAbsentEntryChangesNothing) {
  HandleIndex index;
  index.add(1, 10);
  index.add(1, 11);
  index.add(1, 12);  // the overflow
  index.remove(1, 13);
  index.remove(2, 10);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(under(index, 1), (std::vector<CK_OBJECT_HANDLE>{10, 11, 12}));
  index.remove(1, 10);  // an overflowed handle takes its place
  EXPECT_EQ(under(index, 1), (std::vector<CK_OBJECT_HANDLE>{11, 12}));
  EXPECT_EQ(under(index, 2), std::vector<CK_OBJECT_HANDLE>{});
}

TEST(HandleIndexTest, ChurnOfDistinctKeysKeepsTheTableSmall) {
  // Removed slots are dropped on rehash: a long run of add/remove with few live keys does not
  // grow the table.
  HandleIndex index;
  for (CK_OBJECT_HANDLE h = 1; h <= 200000; ++h) {
    index.add(h * 7919, h);
    if (h > 4) {
      index.remove((h - 4) * 7919, h - 4);
    }
  }
  EXPECT_EQ(index.size(), 4u);
  EXPECT_LE(index.capacity(), 16u);
  EXPECT_EQ(under(index, 200000ULL * 7919), std::vector<CK_OBJECT_HANDLE>{200000});
}

}  // namespace
}  // namespace p11::test
