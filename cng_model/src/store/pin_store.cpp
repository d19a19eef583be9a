#include "store/pin_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <mutex>

#include "core/cng_error.h"
#include "store/pin_file.h"
#include "store/store_dir.h"

namespace cng {

namespace {

using store_io::StoreDirectory;
using store_io::UniqueFd;
using store_io::WriteMode;
using store_io::WriteResult;

constexpr const char* kFileName = "pin-state";
constexpr const char* kLockName = "pin-state.lock";

// An exclusive flock on the scope's PIN lock file, held while it lives.
class PinLock {
 public:
  explicit PinLock(const std::filesystem::path& dir) {
    const auto path = dir / kLockName;
    fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd_.valid()) {
      fail_errno(errno, "open '" + path.string() + "'");
    }
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) {
      fail_errno(errno, "fstat '" + path.string() + "'");
    }
    if (auto problem = store_io::ownership_problem(st.st_uid, st.st_mode, false)) {
      store_io::note_refused(path, *problem);
      fail(NTE_PERM, "'" + path.string() + "': " + *problem);
    }
    while (::flock(fd_.get(), LOCK_EX) != 0) {
      if (errno != EINTR) {
        fail_errno(errno, "flock '" + path.string() + "'");
      }
    }
  }

 private:
  UniqueFd fd_;  // closing it releases the lock
};

std::optional<pin_file::PinRecord> read_record(const StoreDirectory& dir) {
  if (!dir.is_open()) {
    return std::nullopt;
  }
  SecureBytes bytes;
  if (!dir.read(kFileName, pin_file::kFileBytes, bytes)) {
    return std::nullopt;
  }
  return pin_file::decode(bytes);
}

void write_record(StoreDirectory& dir, const pin_file::PinRecord& record, WriteMode mode) {
  const auto bytes = pin_file::encode(record);
  const WriteResult result = dir.write(kFileName, bytes, mode);
  require(result != WriteResult::kAlreadyExists, NTE_EXISTS, "a PIN is already set");
  require(result != WriteResult::kAbsent, NTE_NOT_FOUND, "no PIN is set (removed meanwhile)");
}

void check_new_pin(std::string_view pin) {
  require(pin.size() >= kMinPinBytes && pin.size() <= kMaxPinBytes, NTE_INVALID_PARAMETER,
          "the PIN must have 4 to 255 bytes");
}

bool same_pin(const pin_file::PinRecord& a, const pin_file::PinRecord& b) {
  return a.salt == b.salt && a.verifier == b.verifier;
}

// state() answers every C_OpenSession and C_GetTokenInfo, so it is cached per scope directory
// while the pin-state file is the very version read last: one lstat() instead of opening the
// directory (and its ancestors' checks), reading and hashing the file. Every write renames a new
// inode into place (store_dir.h), so any change, by any process, moves the file's identity.
// Timestamps are coarse (store_dir.h): a file read within kRacyWindow of its last change is not
// cached ("racy", as listing_cache.h and the module's store watch do), else a freed inode number
// reused within the same tick could look unchanged. The lookup is taken before the read: a
// change in between only costs one more read. The cache skips the directory's trust checks; it
// answers only this status (which the module treats as "no PIN" when refused anyway): every
// PIN check, set and change opens the directory with them.
struct FileLook {
  enum Kind { kUnknown, kAbsent, kPresent } kind = kUnknown;
  std::uint64_t device = 0;
  store_io::FileIdentity id;
  bool operator==(const FileLook&) const = default;
};

FileLook look_at(const std::filesystem::path& file) noexcept {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0) {
    return {errno == ENOENT ? FileLook::kAbsent : FileLook::kUnknown, 0, {}};
  }
  if (!S_ISREG(st.st_mode)) {
    return {};  // the full read reports it
  }
  return {FileLook::kPresent, static_cast<std::uint64_t>(st.st_dev), store_io::identity_from(st)};
}

bool racy(const FileLook& look) {
  if (look.kind != FileLook::kPresent) {
    return look.kind == FileLook::kUnknown;  // an absent file cannot be half-changed
  }
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return now - std::max(look.id.mtime_ns, look.id.ctime_ns) <
         std::chrono::nanoseconds(store_io::kRacyWindow).count();
}

class StateCache {
 public:
  std::optional<PinState> find(const std::string& dir, const FileLook& now) {
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find(dir);
    if (it == entries_.end() || !(it->second.look == now)) {
      return std::nullopt;
    }
    return it->second.state;
  }
  void put(const std::string& dir, const FileLook& look, const PinState& state) {
    const std::lock_guard lock(mutex_);
    entries_[dir] = {look, state};
  }
  void drop(const std::string& dir) {
    const std::lock_guard lock(mutex_);
    entries_.erase(dir);
  }

 private:
  struct Entry {
    FileLook look;
    PinState state;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // one per scope directory used by this process
};

// A function-local static (not leaked): the library may be unloaded and loaded many times.
StateCache& state_cache() {
  static StateCache instance;
  return instance;
}

}  // namespace

PinState PinStore::state() const {
  const FileLook before = look_at(dir_ / kFileName);
  if (before.kind != FileLook::kUnknown) {
    if (auto cached = state_cache().find(dir_.string(), before)) {
      return *cached;
    }
  }
  const auto dir = StoreDirectory::open(dir_, false, scope_root_);
  const auto record = read_record(dir);
  PinState state;
  if (record) {
    state.pin_set = true;
    state.failures = record->failures;
    state.max_failures = record->max_failures;
    state.attempts_left = record->attempts_left();
    state.locked = record->locked();
  }
  const bool consistent = (before.kind == FileLook::kPresent) == state.pin_set;
  if (consistent && !racy(before)) {
    state_cache().put(dir_.string(), before, state);
  } else {
    state_cache().drop(dir_.string());
  }
  return state;
}

SecureBytes PinStore::set(std::string_view pin) {
  check_new_pin(pin);
  auto dir = StoreDirectory::open(dir_, true, scope_root_);
  require(!read_record(dir).has_value(), NTE_EXISTS, "a PIN is already set");
  SecureBytes kek;
  const auto record = pin_file::make_record(pin, &kek);  // scrypt before the lock
  const PinLock lock(dir_);
  write_record(dir, record, WriteMode::kCreateExclusive);
  return kek;
}

SecureBytes PinStore::verify(std::string_view pin) {
  auto dir = StoreDirectory::open(dir_, false, scope_root_);
  require(dir.is_open(), NTE_NOT_FOUND, "no PIN is set");
  pin_file::PinRecord counted;
  {
    const PinLock lock(dir_);
    auto record = read_record(dir);
    require(record.has_value(), NTE_NOT_FOUND, "no PIN is set");
    require(!record->locked(), SCARD_W_CHV_BLOCKED, "the PIN is locked");
    ++record->failures;  // spent before the check: killing the process does not refund it
    write_record(dir, *record, WriteMode::kReplaceExisting);
    counted = *record;
  }
  bool correct = false;
  pin_file::Derived derived;
  if (pin.size() >= kMinPinBytes && pin.size() <= kMaxPinBytes) {
    derived = pin_file::derive(pin, counted);
    correct = pin_file::matches(derived, counted);
    if (presenter_) {
      presenter_(derived.kek, correct);  // the TPM's word, when it guards the master key
    }
  }
  require(correct, SCARD_W_WRONG_CHV, "wrong PIN");
  {
    const PinLock lock(dir_);
    auto record = read_record(dir);
    if (record && same_pin(*record, counted) && record->failures != 0) {
      record->failures = 0;
      write_record(dir, *record, WriteMode::kReplaceExisting);
    }
  }
  return std::move(derived.kek);
}

SecureBytes PinStore::change(std::string_view old_pin, std::string_view new_pin,
                             const SwitchUnder& switch_under) {
  check_new_pin(new_pin);
  const SecureBytes old_kek = verify(old_pin);
  SecureBytes new_kek;
  const auto record = pin_file::make_record(new_pin, &new_kek);
  switch_under(old_kek, new_kek, [&] {
    auto dir = StoreDirectory::open(dir_, false, scope_root_);
    const PinLock lock(dir_);
    write_record(dir, record, WriteMode::kReplaceExisting);  // the switch: one atomic rename
  });
  return new_kek;
}

SecureBytes PinStore::remove(std::string_view pin) {
  SecureBytes kek = verify(pin);
  auto dir = StoreDirectory::open(dir_, false, scope_root_);
  const PinLock lock(dir_);
  require(dir.remove(kFileName), NTE_NOT_FOUND, "no PIN is set (removed meanwhile)");
  return kek;
}

bool PinStore::remove_force() {
  auto dir = StoreDirectory::open(dir_, false, scope_root_);
  if (!dir.is_open()) {
    return false;
  }
  const PinLock lock(dir_);
  return dir.remove(kFileName);
}

void PinStore::run_locked(const std::function<void()>& fn) const {
  const PinLock lock(dir_);
  fn();
}

}  // namespace cng
