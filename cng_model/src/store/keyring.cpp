// Keyring (master_key.h): the master key files of one scope, and the process cache of the
// unprotected master keys (and KEKs) in non-dumpable pages.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>

#include "core/cng_error.h"
#include "store/byte_codec.h"
#include "store/master_key.h"
#include "store/master_key_codec.h"
#include "store/secret_page.h"
#include "store/store_dir.h"

namespace cng::master_key {

namespace {

using store_io::StoreDirectory;
using store_io::WriteMode;

constexpr char kCurrentName[] = "current";
constexpr char kLockName[] = "lock";
constexpr std::string_view kMasterPrefix = "master-";
constexpr std::size_t kMaxKeyringFile = 8192;

class PagedKey final : public MasterKey {
 public:
  PagedKey(const KeyId& id, std::span<const std::uint8_t> key) : id_(id), page_(kKeyBytes) {
    require(key.size() == kKeyBytes, NTE_BAD_DATA, "master key has the wrong length");
    std::copy(key.begin(), key.end(), page_.bytes().begin());
  }
  [[nodiscard]] const KeyId& id() const noexcept override { return id_; }
  [[nodiscard]] std::span<const std::uint8_t, kKeyBytes> bytes() const noexcept override {
    return page_.bytes().first<kKeyBytes>();
  }

 private:
  KeyId id_;
  SecretPage page_;
};

struct Cache {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const MasterKey>> keys;  // dir + '/' + hex id
  std::map<std::string, std::shared_ptr<SecretPage>> keks;       // dir
  std::function<std::shared_ptr<TpmSealer>()> sealer_factory;
  std::shared_ptr<TpmSealer> sealer;
  bool sealer_probed = false;
};

Cache& cache() {
  static auto* c = new Cache();  // never destroyed: used from atexit paths
  return *c;
}

std::string cache_key(const std::filesystem::path& dir, const KeyId& id) {
  return dir.string() + '/' + store_codec::to_hex(id);
}

std::string master_file_name(const KeyId& id) {
  return std::string(kMasterPrefix) + store_codec::to_hex(id);
}

bool is_master_file_name(std::string_view name) {
  return name.size() == kMasterPrefix.size() + 2 * kKeyIdBytes && name.starts_with(kMasterPrefix) &&
         store_codec::is_hex_id(name.substr(kMasterPrefix.size()), 2 * kKeyIdBytes);
}

StoreDirectory open_dir(const std::filesystem::path& dir, bool create) {
  return StoreDirectory::open(dir, create, dir);
}

std::optional<codec::MasterKeyFile> read_master(const std::filesystem::path& dir, const KeyId& id) {
  const auto d = open_dir(dir, false);
  SecureBytes bytes;
  if (!d.is_open() || !d.read(master_file_name(id), kMaxKeyringFile, bytes)) {
    return std::nullopt;
  }
  codec::MasterKeyFile file = codec::decode_master(bytes);
  require(file.id == id, NTE_BAD_DATA, "master key file holds another key id");
  return file;
}

std::shared_ptr<SecretPage> kek_of(const std::filesystem::path& dir) {
  std::lock_guard lock(cache().mutex);
  const auto it = cache().keks.find(dir.string());
  return it == cache().keks.end() ? nullptr : it->second;
}

std::shared_ptr<TpmSealer> sealer() {
  std::function<std::shared_ptr<TpmSealer>()> factory;
  {
    std::lock_guard lock(cache().mutex);
    if (cache().sealer_probed) {
      return cache().sealer;
    }
    factory = cache().sealer_factory;
  }
  // Outside the cache lock: connecting to a TPM may take a while.
  std::shared_ptr<TpmSealer> made = factory ? factory() : nullptr;
  std::lock_guard lock(cache().mutex);
  if (!cache().sealer_probed) {
    cache().sealer = std::move(made);
    cache().sealer_probed = true;
  }
  return cache().sealer;
}

// The key of a kKek file from whichever wrapping kek opens; nullopt when none does.
std::optional<SecureBytes> open_kek_wraps(std::span<const std::uint8_t, kKekBytes> kek,
                                          const codec::MasterKeyFile& file) {
  const std::span<const std::uint8_t> all(file.payload);
  for (std::size_t at = 0; at + codec::kKekWrapBytes <= all.size(); at += codec::kKekWrapBytes) {
    try {
      return open(kek, all.subspan(at, codec::kKekWrapBytes), codec::kek_aad(file.id));
    } catch (const CngError&) {  // another PIN's wrapping: try the next one
    }
  }
  return std::nullopt;
}

// The PIN protector (master_key.h): the TPM checks the PIN when one answers.
Protector pin_protector() { return sealer() != nullptr ? Protector::kTpmPin : Protector::kKek; }
// The protector of a master key without a PIN.
Protector plain_protector() {
  return sealer() != nullptr ? Protector::kTpmSealed : Protector::kFile;
}

// The key of a kTpmPin file: the entry whose check kek matches (else the first: a wrong PIN,
// which the TPM then refuses and counts) unsealed with kek's auth.
SecureBytes open_tpm_pin(std::span<const std::uint8_t, kKekBytes> kek,
                         const codec::MasterKeyFile& file) {
  const auto s = sealer();
  require(s != nullptr, NTE_BAD_KEY_STATE,
          "the master key is sealed to a TPM and no TPM answers on the configured TCTI");
  const auto entries = codec::decode_tpm_pin(file.payload);
  const auto check = codec::tpm_pin_check(kek);
  const codec::TpmPinEntry* pick = &entries.front();
  for (const auto& e : entries) {
    if (CRYPTO_memcmp(e.check.data(), check.data(), check.size()) == 0) {
      pick = &e;
      break;
    }
  }
  return s->unseal(pick->sealed, codec::tpm_pin_auth(kek));
}

// A kTpmPin payload: key sealed once per KEK, each under that KEK's auth.
SecureBytes seal_tpm_pin(const MasterKey& key,
                         std::span<const std::span<const std::uint8_t, kKekBytes>> keks) {
  const auto s = sealer();
  require(s != nullptr, NTE_BAD_KEY_STATE, "no TPM to seal the master key to");
  std::vector<codec::TpmPinEntry> entries;
  for (const auto& kek : keks) {
    const Bytes sealed = s->seal(key.bytes(), codec::tpm_pin_auth(kek));
    entries.push_back({codec::tpm_pin_check(kek), SecureBytes(sealed.begin(), sealed.end())});
  }
  return codec::encode_tpm_pin(entries);
}

std::shared_ptr<const MasterKey> remember(const std::filesystem::path& dir, const KeyId& id,
                                          std::span<const std::uint8_t> key) {
  auto made = std::make_shared<const PagedKey>(id, key);
  std::lock_guard lock(cache().mutex);
  return cache().keys.insert_or_assign(cache_key(dir, id), std::move(made)).first->second;
}

// The unprotected key of a master key file, or the status and cause of why not.
std::shared_ptr<const MasterKey> unprotect(const std::filesystem::path& dir,
                                           const codec::MasterKeyFile& file) {
  switch (file.protector) {
    case Protector::kFile:
      return remember(dir, file.id, file.payload);
    case Protector::kTpmSealed: {
      const auto s = sealer();
      require(s != nullptr, NTE_BAD_KEY_STATE,
              "the master key is sealed to a TPM and no TPM answers on the configured TCTI");
      const SecureBytes key = s->unseal(file.payload, {});
      return remember(dir, file.id, key);
    }
    case Protector::kTpmPin: {
      const auto kek = kek_of(dir);
      require(kek != nullptr, NTE_BAD_KEY_STATE,
              "the master key is protected by the scope's PIN and the scope is not unlocked");
      return remember(dir, file.id, open_tpm_pin(kek->bytes().first<kKekBytes>(), file));
    }
    case Protector::kKek: {
      const auto kek = kek_of(dir);
      require(kek != nullptr, NTE_BAD_KEY_STATE,
              "the master key is protected by the scope's PIN and the scope is not unlocked");
      const auto key = open_kek_wraps(kek->bytes().first<kKekBytes>(), file);
      require(key.has_value(), NTE_BAD_DATA, "the scope's PIN does not open the master key");
      return remember(dir, file.id, *key);
    }
  }
  fail(NTE_BAD_DATA, "master key file: unknown protector");
}

codec::MasterKeyFile protect(const std::filesystem::path& dir, const MasterKey& key,
                             Protector protector) {
  codec::MasterKeyFile file{key.id(), protector, {}};
  switch (protector) {
    case Protector::kFile:
      file.payload.assign(key.bytes().begin(), key.bytes().end());
      break;
    case Protector::kTpmSealed: {
      const auto s = sealer();
      require(s != nullptr, NTE_BAD_KEY_STATE, "no TPM to seal the master key to");
      const Bytes sealed = s->seal(key.bytes(), {});
      file.payload.assign(sealed.begin(), sealed.end());
      break;
    }
    case Protector::kTpmPin: {
      const auto kek = kek_of(dir);
      require(kek != nullptr, NTE_BAD_KEY_STATE, "the scope's PIN has not been given");
      const std::array<std::span<const std::uint8_t, kKekBytes>, 1> one{
          kek->bytes().first<kKekBytes>()};
      file.payload = seal_tpm_pin(key, one);
      break;
    }
    case Protector::kKek: {
      const auto kek = kek_of(dir);
      require(kek != nullptr, NTE_BAD_KEY_STATE, "the scope's PIN has not been given");
      file.payload = seal(kek->bytes().first<kKekBytes>(), key.bytes(), codec::kek_aad(key.id()));
      break;
    }
  }
  return file;
}

// Draws a new master key and writes its file (create-exclusive).
std::shared_ptr<const MasterKey> create_key(const std::filesystem::path& dir, Protector protector) {
  KeyId id{};
  SecretPage raw(kKeyBytes);
  require(RAND_bytes(id.data(), static_cast<int>(id.size())) == 1 &&
              RAND_bytes(raw.bytes().data(), static_cast<int>(kKeyBytes)) == 1,
          NTE_FAIL, "no randomness for a master key");
  const PagedKey key(id, raw.bytes());
  const SecureBytes bytes = codec::encode(protect(dir, key, protector));
  auto d = open_dir(dir, true);
  require(d.write(master_file_name(id), bytes, WriteMode::kCreateExclusive) ==
              store_io::WriteResult::kWritten,
          NTE_FAIL, "master key id collision");
  return remember(dir, id, key.bytes());
}

std::optional<codec::CurrentFile> read_current(const std::filesystem::path& dir) {
  const auto d = open_dir(dir, false);
  SecureBytes bytes;
  if (!d.is_open() || !d.read(kCurrentName, kMaxKeyringFile, bytes)) {
    return std::nullopt;
  }
  return codec::decode_current(bytes);
}

void write_current(const std::filesystem::path& dir, const codec::CurrentFile& current) {
  auto d = open_dir(dir, true);
  (void)d.write(kCurrentName, codec::encode(current), WriteMode::kReplace);
}

Protector protector_of_current(const std::filesystem::path& dir, const KeyId& id) {
  const auto file = read_master(dir, id);
  require(file.has_value(), NTE_BAD_KEY_STATE,
          "the scope's master key file is missing (store moved without its keyring?)");
  return file->protector;
}

}  // namespace

void set_tpm_sealer_factory(std::function<std::shared_ptr<TpmSealer>()> factory) {
  std::lock_guard lock(cache().mutex);
  cache().sealer_factory = std::move(factory);
  cache().sealer.reset();
  cache().sealer_probed = false;
}

std::filesystem::path Keyring::dir_for(const std::filesystem::path& scope_dir) {
  auto dir = scope_dir.lexically_normal();
  if (!dir.has_filename()) {  // "…/user/" normalizes to "…/user/": drop the empty last part
    dir = dir.parent_path();
  }
  return dir.parent_path() / (dir.filename().string() + ".keyring");
}

Keyring::Keyring(std::filesystem::path dir) : dir_(std::move(dir)) {}

std::optional<CurrentKey> Keyring::current() const {
  const auto c = read_current(dir_);
  if (!c) {
    return std::nullopt;
  }
  return CurrentKey{c->id, c->migrated};
}

Status Keyring::status() const {
  Status status;
  const auto c = read_current(dir_);
  if (!c) {
    return status;
  }
  status.current = c->id;
  status.migrated = c->migrated;
  status.file = dir_ / master_file_name(c->id);
  if (const auto file = read_master(dir_, c->id)) {
    status.protector = file->protector;
    if (file->protector == Protector::kKek) {
      status.kek_wraps = file->payload.size() / codec::kKekWrapBytes;
    } else if (file->protector == Protector::kTpmPin) {
      status.kek_wraps = codec::decode_tpm_pin(file->payload).size();
    }
  }
  try {
    (void)get(c->id);
    status.unlocked = true;
  } catch (const CngError&) {
    status.unlocked = false;
  }
  return status;
}

std::shared_ptr<const MasterKey> Keyring::get(const KeyId& id) const {
  {
    std::lock_guard lock(cache().mutex);
    const auto it = cache().keys.find(cache_key(dir_, id));
    if (it != cache().keys.end()) {
      return it->second;
    }
  }
  const auto file = read_master(dir_, id);
  if (!file) {
    fail(NTE_BAD_KEY_STATE, "master key " + store_codec::to_hex(id) + " not found in " +
                                dir_.string() +
                                " (the store was moved or copied without its keyring)");
  }
  return unprotect(dir_, *file);
}

std::shared_ptr<const MasterKey> Keyring::current_or_create() const {
  if (const auto c = read_current(dir_)) {
    return get(c->id);
  }
  auto key = create_key(dir_, plain_protector());
  write_current(dir_, {key->id(), false});
  return key;
}

void Keyring::set_migrated() const {
  const auto c = read_current(dir_);
  require(c.has_value(), NTE_INTERNAL_ERROR, "no master key to mark migrated");
  if (!c->migrated) {
    write_current(dir_, {c->id, true});
  }
}

std::shared_ptr<const MasterKey> Keyring::begin_rekey() const {
  const auto c = read_current(dir_);
  require(c.has_value(), NTE_INTERNAL_ERROR, "no master key to replace");
  Protector protector = protector_of_current(dir_, c->id);
  if ((protector == Protector::kTpmSealed || protector == Protector::kTpmPin) &&
      sealer() == nullptr) {
    fail(NTE_BAD_KEY_STATE, "the master key is sealed to a TPM and no TPM answers");
  }
  return create_key(dir_, protector);
}

void Keyring::commit_rekey(const KeyId& id) const {
  write_current(dir_, {id, true});
  auto d = open_dir(dir_, false);
  const std::string keep = master_file_name(id);
  for (const auto& entry : d.names(&is_master_file_name)) {
    if (entry.name != keep) {
      (void)d.remove(entry.name);
      std::lock_guard lock(cache().mutex);
      cache().keys.erase(dir_.string() + '/' + entry.name.substr(kMasterPrefix.size()));
    }
  }
}

void Keyring::protect_with_kek(std::span<const std::uint8_t, kKekBytes> kek) const {
  auto page = std::make_shared<SecretPage>(kKekBytes);
  std::copy(kek.begin(), kek.end(), page->bytes().begin());
  const auto c = read_current(dir_);
  std::shared_ptr<const MasterKey> key;
  if (c) {
    key = get(c->id);  // must be available: the PIN protects what the account could open
  }
  {
    std::lock_guard lock(cache().mutex);
    cache().keks.insert_or_assign(dir_.string(), page);
  }
  if (!c) {
    key = create_key(dir_, pin_protector());
    write_current(dir_, {key->id(), false});
    return;
  }
  auto d = open_dir(dir_, true);
  (void)d.write(master_file_name(key->id()), codec::encode(protect(dir_, *key, pin_protector())),
                WriteMode::kReplace);
}

void Keyring::unlock_with_kek(std::span<const std::uint8_t, kKekBytes> kek) const {
  const auto c = read_current(dir_);
  require(c.has_value(), NTE_BAD_KEY_STATE, "the scope has no master key");
  const auto file = read_master(dir_, c->id);
  require(file.has_value(), NTE_BAD_KEY_STATE, "the scope's master key file is missing");
  require(is_pin_protector(file->protector), NTE_BAD_KEY_STATE,
          "the scope's master key is not protected by a PIN");
  // kTpmPin: the TPM refuses a wrong PIN's auth (NTE_INCORRECT_PASSWORD) and counts it.
  const std::optional<SecureBytes> key = file->protector == Protector::kTpmPin
                                             ? std::optional<SecureBytes>(open_tpm_pin(kek, *file))
                                             : open_kek_wraps(kek, *file);
  require(key.has_value(), NTE_INCORRECT_PASSWORD, "the PIN does not open the scope's master key");
  auto page = std::make_shared<SecretPage>(kKekBytes);
  std::copy(kek.begin(), kek.end(), page->bytes().begin());
  {
    std::lock_guard lock(cache().mutex);
    cache().keks.insert_or_assign(dir_.string(), page);
  }
  (void)remember(dir_, file->id, *key);
}

void Keyring::wrap_with_keks(std::span<const std::span<const std::uint8_t, kKekBytes>> keks) const {
  require(!keks.empty() && keks.size() <= codec::kMaxKekWraps, NTE_INTERNAL_ERROR, "KEK count");
  const auto c = read_current(dir_);
  require(c.has_value(), NTE_BAD_KEY_STATE, "the scope has no master key");
  const auto key = get(c->id);  // NTE_BAD_KEY_STATE unless available
  codec::MasterKeyFile file{key->id(), pin_protector(), {}};
  if (file.protector == Protector::kTpmPin) {
    file.payload = seal_tpm_pin(*key, keks);
  } else {
    for (const auto& kek : keks) {
      const SecureBytes wrap = seal(kek, key->bytes(), codec::kek_aad(key->id()));
      file.payload.insert(file.payload.end(), wrap.begin(), wrap.end());
    }
  }
  auto d = open_dir(dir_, true);
  (void)d.write(master_file_name(key->id()), codec::encode(file), WriteMode::kReplace);
  auto page = std::make_shared<SecretPage>(kKekBytes);
  std::copy(keks.back().begin(), keks.back().end(), page->bytes().begin());
  std::lock_guard lock(cache().mutex);
  cache().keks.insert_or_assign(dir_.string(), page);
}

void Keyring::remove_kek_protection() const {
  const auto c = read_current(dir_);
  if (!c) {
    return;
  }
  const auto file = read_master(dir_, c->id);
  if (!file || !is_pin_protector(file->protector)) {
    return;
  }
  const auto key = get(c->id);  // NTE_BAD_KEY_STATE unless unlocked
  const Protector next = plain_protector();
  auto d = open_dir(dir_, true);
  (void)d.write(master_file_name(key->id()), codec::encode(protect(dir_, *key, next)),
                WriteMode::kReplace);
  std::lock_guard lock(cache().mutex);
  cache().keks.erase(dir_.string());
}

std::optional<TpmLockout> Keyring::tpm_lockout() const {
  const auto c = read_current(dir_);
  const auto file = c ? read_master(dir_, c->id) : std::nullopt;
  if (!file || file->protector != Protector::kTpmPin) {
    return std::nullopt;  // no TPM probe for a scope the TPM does not guard
  }
  const auto s = sealer();
  if (s == nullptr) {
    return std::nullopt;
  }
  return s->lockout();
}

void Keyring::lock() const {
  std::lock_guard lock(cache().mutex);
  cache().keks.erase(dir_.string());
  const std::string prefix = dir_.string() + '/';
  for (auto it = cache().keys.begin(); it != cache().keys.end();) {
    it = it->first.starts_with(prefix) ? cache().keys.erase(it) : std::next(it);
  }
}

std::unique_ptr<Keyring::Lock> Keyring::acquire(bool exclusive) const {
  (void)open_dir(dir_, true);  // creates the keyring 0700 (and checks its owner and mode)
  const std::string path = (dir_ / kLockName).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    fail(errno == ENOSPC ? NTE_TOKEN_KEYSET_STORAGE_FULL : NTE_PERM,
         "cannot open the keyring lock " + path);
  }
  auto lock = std::make_unique<Lock>(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    fail(NTE_PERM, "keyring lock not trusted (owner or mode): " + path);
  }
  int rc = 0;
  do {
    rc = ::flock(fd, exclusive ? LOCK_EX : LOCK_SH);
  } while (rc != 0 && errno == EINTR);
  require(rc == 0, NTE_SYS_ERR, "cannot lock the keyring");
  return lock;
}

Keyring::Lock::~Lock() { ::close(fd_); }

}  // namespace cng::master_key
