// Shared helpers for the store tests: temporary store directories, sample records, error
// capture, whole-file I/O and a self-signed test certificate.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/cng_error.h"
#include "store/key_record.h"

namespace cng::test {

// A fresh directory under $TMPDIR (or /tmp), removed with its content at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// Sets an environment variable for the scope, restoring the previous value afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> previous_;
};

// Points CNG_PKCS11_USER_DIR / CNG_PKCS11_MACHINE_DIR at "user" and "machine" in a temp dir.
class StoreEnv {
 public:
  StoreEnv();
  [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_.path(); }
  [[nodiscard]] std::filesystem::path user_dir() const { return root() / "user"; }
  [[nodiscard]] std::filesystem::path machine_dir() const { return root() / "machine"; }

 private:
  TempDir root_;
  ScopedEnv user_;
  ScopedEnv machine_;
};

// A plausible record; the private blob is private_size bytes derived from seed.
KeyRecord sample_record(const std::u16string& name, std::size_t private_size = 1200,
                        std::uint32_t seed = 1);
void expect_same_record(const KeyRecord& a, const KeyRecord& b);

// The status a call throws: ERROR_SUCCESS (0) when it returns, NTE_FAIL for a non-CngError.
SECURITY_STATUS status_of(const std::function<void()>& call);

Bytes read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const Bytes& bytes);
// Names in a directory (no recursion), sorted; without the store's listing index (the
// ".listing-index" subdirectory, listing_cache.h: a cache of what the store lists, not a
// stored object).
std::vector<std::string> entries(const std::filesystem::path& dir);
// Every regular file below dir with its content, for "nothing changed" checks; without the
// listing index.
std::vector<std::pair<std::string, Bytes>> snapshot(const std::filesystem::path& dir);

// Whether needle (non-empty) occurs in haystack.
bool contains(const Bytes& haystack, std::span<const std::uint8_t> needle);
// Every regular file below root (recursively, listing index included) that contains needle.
std::vector<std::string> files_containing(const std::filesystem::path& root,
                                          std::span<const std::uint8_t> needle);
// AES-256-GCM decryption with OpenSSL directly, the oracle for the sealed at-rest format
// (nonce 12 || ciphertext || tag 16); nullopt when it does not authenticate.
std::optional<Bytes> open_with_openssl(std::span<const std::uint8_t> key, const Bytes& sealed,
                                       const Bytes& aad);

// A self-signed P-256 certificate, DER.
std::vector<std::uint8_t> make_certificate(const std::string& common_name);

// Runs body in a forked child and returns its exit status (-1 when it did not exit normally).
// body's return value is the exit code; the child never returns into the test framework.
int run_in_child(const std::function<int()>& body);

}  // namespace cng::test
