#include "store/listing_cache.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <mutex>

#include "core/cng_error.h"
#include "core/no_destructor.h"

namespace cng::store_index {

namespace {

using index_file::Entry;
using index_file::EntryState;
using index_file::Index;
using store_io::DirStamp;
using store_io::FileIdentity;
using store_io::StoreDirectory;

constexpr std::int64_t kRacyNs =
    std::chrono::duration_cast<std::chrono::nanoseconds>(kRacyWindow).count();

std::int64_t realtime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The process's last index per (directory, kind).
struct Memory {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const Index>, std::less<>> by_directory;
};

Memory& memory() {
  static NoDestructor<Memory> instance;
  // Frees the indexes when the library is unloaded (or the process exits), so that load and
  // unload cycles do not grow the heap; the map itself is never destroyed and stays usable
  // for a listing made after that (from an atexit handler).
  static const struct Release {
    Release(const Release&) = delete;
    Release& operator=(const Release&) = delete;
    Release() = default;
    ~Release() { forget_in_memory_indexes(); }
  } release;
  return *instance;
}

std::string memory_key(const StoreDirectory& dir, std::uint32_t kind) {
  return dir.path().string() + '\n' + std::to_string(kind);
}

// An index describes the directory as it is when nothing changed since its scan began, and
// the scan began at least kRacyWindow after the directory's last change (else a change in the
// same timestamp tick could hide behind an equal mtime).
bool describes(const Index& index, const DirStamp& now) {
  return index.dir == now && index.scanned_ns - now.mtime_ns > kRacyNs;
}

std::string_view text(const std::string& s) { return s; }

SecureBytes reason_bytes(std::string_view reason) {
  return SecureBytes(reason.begin(), reason.end());
}

std::filesystem::path index_dir_of(const StoreDirectory& dir) {
  return dir.path() / kIndexDirectory;
}

// The index file of the directory, or nullptr when absent, unreadable, not trusted (owner,
// mode), damaged, or of another kind. Sweeps temporary files an index writer left behind.
std::shared_ptr<const Index> load_index(const StoreDirectory& dir, const IndexSpec& spec) {
  try {
    const auto sub = StoreDirectory::open(index_dir_of(dir), false);
    if (!sub.is_open()) {
      return nullptr;
    }
    (void)sub.names([](std::string_view) { return false; });  // sweeps dead writers' temps
    SecureBytes bytes;
    if (!sub.read(std::string(kIndexFile), index_file::kMaxFileBytes, bytes)) {
      return nullptr;
    }
    auto index = std::make_shared<Index>(index_file::decode(std::move(bytes)));
    if (index->kind != spec.kind) {
      return nullptr;
    }
    for (const Entry& e : index->entries) {
      if (!spec.accept(e.file)) {
        return nullptr;
      }
    }
    return index;
  } catch (const std::exception&) {
    return nullptr;  // only a cache: rebuilt by the rescan
  }
}

// Best effort: a store that cannot take the index (read-only, nearly full, not ours) has none.
void save_index(const StoreDirectory& dir, const Index& index) noexcept {
  try {
    const SecureBytes bytes = index_file::encode(index);
    if (!dir.has_spare_room(bytes.size())) {
      return;  // a cache must not take the room (or the last inodes) a key needs
    }
    auto sub = StoreDirectory::open(index_dir_of(dir), true);
    sub.write_cache(std::string(kIndexFile), bytes);
  } catch (...) {
    // No index: the next reader rescans.
  }
}

// Reads one file and records its summary, or why it is left out, in the index; nothing when
// it vanished meanwhile.
void read_entry(const StoreDirectory& dir, const IndexSpec& spec, const std::string& name,
                const FileIdentity& seen, SecureBytes& buffer, Index& into) {
  FileIdentity identity = seen;
  try {
    if (!dir.read(name, spec.max_file_bytes, buffer, false, &identity)) {
      return;
    }
    into.add(name, identity, EntryState::kListed, spec.summarize(name, buffer));
  } catch (const CngError& e) {
    if (e.status() == NTE_PERM) {
      const auto problem = dir.ownership_problem_of(name);
      into.add(name, seen, EntryState::kRefused,
               reason_bytes(problem ? text(*problem) : std::string_view(e.what())));
    } else {
      into.add(name, seen, EntryState::kDamaged, reason_bytes(e.what()));
    }
  }
}

// readdir + fstatat per entry; entries of base whose identity is unchanged (and was not racy
// when recorded) are reused, the others read.
std::shared_ptr<const Index> rescan(const StoreDirectory& dir, const IndexSpec& spec,
                                    const Index* base, std::int64_t scanned_ns,
                                    const DirStamp& stamp) {
  auto fresh = std::make_shared<Index>();
  fresh->kind = spec.kind;
  fresh->dir = stamp;
  fresh->scanned_ns = scanned_ns;
  auto names = dir.names(spec.accept);
  std::sort(names.begin(), names.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  fresh->entries.reserve(names.size());
  if (base != nullptr) {
    fresh->payloads.reserve(base->payloads.size());
  }
  SecureBytes buffer;
  std::size_t next = 0;  // into base->entries, both ascending by file
  for (const auto& listed : names) {
    bool regular = false;
    const auto identity = dir.identity_of(listed.name, regular);
    if (!identity) {
      continue;  // deleted meanwhile
    }
    if (!regular) {
      fresh->add(listed.name, *identity, EntryState::kDamaged,
                 reason_bytes("store entry is not a regular file"));
      continue;
    }
    while (base != nullptr && next < base->entries.size() &&
           base->entries[next].file < listed.name) {
      ++next;
    }
    if (base != nullptr && next < base->entries.size()) {
      const Entry& old = base->entries[next];
      if (old.file == listed.name && old.identity == *identity &&
          base->scanned_ns - std::max(identity->mtime_ns, identity->ctime_ns) > kRacyNs) {
        fresh->add(old.file, old.identity, old.state, base->payload(old));
        continue;
      }
    }
    read_entry(dir, spec, listed.name, *identity, buffer, *fresh);
  }
  return fresh;
}

}  // namespace

std::shared_ptr<const Index> current_listing(const StoreDirectory& dir, const IndexSpec& spec,
                                             Freshness freshness) {
  // The clock is read before the directory: a change after this point moves the mtime past
  // scanned_ns - kRacyWindow (see describes()).
  const std::int64_t now_ns = realtime_ns();
  const DirStamp stamp = dir.stamp();
  Memory& mem = memory();
  const std::string key = memory_key(dir, spec.kind);
  std::lock_guard lock(mem.mutex);
  auto& cached = mem.by_directory[key];
  if (freshness == Freshness::kDirectoryStamp && cached && describes(*cached, stamp)) {
    return cached;
  }
  std::shared_ptr<const Index> on_disk;
  if (!cached || !describes(*cached, stamp)) {
    on_disk = load_index(dir, spec);
    if (on_disk && describes(*on_disk, stamp) && freshness == Freshness::kDirectoryStamp) {
      cached = on_disk;
      return cached;
    }
  }
  // Either serves as the base: an entry is reused only when its file's identity is unchanged.
  const Index* base = on_disk ? on_disk.get() : cached.get();
  auto fresh = rescan(dir, spec, base, now_ns, stamp);
  // Rewrite the file unless it already says exactly this (a kEveryFile listing of an
  // unchanged directory writes nothing).
  const Index* written = on_disk ? on_disk.get() : nullptr;
  const bool same_as_file =
      written != nullptr && describes(*written, stamp) && same_entries(*written, *fresh);
  const bool same_as_memory =
      written == nullptr && cached && describes(*cached, stamp) && same_entries(*cached, *fresh);
  if (!same_as_file && !same_as_memory) {
    save_index(dir, *fresh);
  }
  if (same_as_memory) {
    return cached;  // keep the older scan time: it is less racy
  }
  cached = std::move(fresh);
  return cached;
}

void forget_in_memory_indexes() {
  Memory& mem = memory();
  std::lock_guard lock(mem.mutex);
  mem.by_directory.clear();
}

}  // namespace cng::store_index
