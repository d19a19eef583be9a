// The optional scope PIN (cng_scope_pin.h, NCRYPT_PIN_PROPERTY on a provider handle): the
// pin-state format against OpenSSL's own scrypt, wrong-PIN counting and lockout across real
// processes, an attempt spent by a process killed during the check, and no trace of the PIN
// in any file. The binary re-executes itself as a child: `--pin-child login PIN`.
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "cng_key_protection.h"
#include "cng_scope_pin.h"
#include "core/cng_error.h"
#include "ncrypt_test_support.h"
#include "store/pin_file.h"

extern char** environ;

namespace ncrypt_test {
namespace {

using cng::CngChangeScopePin;
using cng::CngForceRemoveScopePin;
using cng::CngGetScopePinStatus;
using cng::CngRemoveScopePin;
using cng::CngSetScopePin;
using cng::PinBytes;
using cng::ScopePinStatus;

constexpr char kPin[] = "correct horse 7391";

PinBytes bytes_of(const char* text) {
  return {reinterpret_cast<const std::uint8_t*>(text), std::strlen(text)};
}

// The PIN as NCRYPT_PIN_PROPERTY takes it: UTF-16LE with a terminating NUL (ASCII here).
std::vector<std::uint8_t> utf16_of(const char* text) {
  std::vector<std::uint8_t> out;
  for (const char* p = text;; ++p) {
    out.push_back(static_cast<std::uint8_t>(*p));
    out.push_back(0);
    if (*p == '\0') {
      break;
    }
  }
  return out;
}

SECURITY_STATUS login(NCRYPT_PROV_HANDLE provider, const char* pin, DWORD flags = 0) {
  auto value = utf16_of(pin);
  return NCryptSetProperty(provider, NCRYPT_PIN_PROPERTY, value.data(),
                           static_cast<DWORD>(value.size()), flags);
}

pid_t spawn_login(const char* pin) {
  const std::string exe = "/proc/self/exe";
  std::vector<std::string> args = {exe, "--pin-child", "login", pin};
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    return -1;
  }
  return pid;
}

// Runs a child that logs in once with pin; returns the status it exits with (the low byte of
// the SECURITY_STATUS' code: 0 success, 0x6B wrong, 0x6C blocked).
int child_login(const char* pin) {
  const pid_t pid = spawn_login(pin);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
    return -1;
  }
  return WEXITSTATUS(status);
}

class ScopePinTest : public NCryptTest {
 protected:
  ScopePinStatus status(DWORD flags = 0) {
    ScopePinStatus s;
    EXPECT_OK(CngGetScopePinStatus(provider_, flags, &s));
    return s;
  }
};

TEST_F(ScopePinTest, NoPinByDefaultAndAnyPinLogsIn) {
  const ScopePinStatus s = status();
  EXPECT_FALSE(s.pin_set);
  EXPECT_FALSE(s.logged_in);
  EXPECT_OK(login(provider_, "anything"));
  EXPECT_TRUE(status().logged_in);
  EXPECT_OK(NCryptSetProperty(provider_, NCRYPT_PIN_PROPERTY, nullptr, 0, 0));
  EXPECT_FALSE(status().logged_in);
}

TEST_F(ScopePinTest, SetLoginChangeRemove) {
  ASSERT_OK(CngSetScopePin(provider_, 0, bytes_of(kPin)));
  EXPECT_STATUS(NTE_EXISTS, CngSetScopePin(provider_, 0, bytes_of("other pin")));
  ScopePinStatus s = status();
  EXPECT_TRUE(s.pin_set);
  EXPECT_EQ(s.failures, 0U);
  EXPECT_EQ(s.attempts_left, 10U);
  EXPECT_FALSE(status(NCRYPT_MACHINE_KEY_FLAG).pin_set);  // scopes are apart
  EXPECT_STATUS(SCARD_W_WRONG_CHV, login(provider_, "wrong pin"));
  EXPECT_EQ(status().failures, 1U);
  EXPECT_OK(login(provider_, kPin));
  EXPECT_EQ(status().failures, 0U);  // a right PIN resets the counter
  EXPECT_STATUS(SCARD_W_WRONG_CHV,
                CngChangeScopePin(provider_, 0, bytes_of("wrong pin"), bytes_of("new pin 1")));
  EXPECT_OK(CngChangeScopePin(provider_, 0, bytes_of(kPin), bytes_of("new pin 1")));
  EXPECT_STATUS(SCARD_W_WRONG_CHV, login(provider_, kPin));
  EXPECT_OK(login(provider_, "new pin 1"));
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                CngChangeScopePin(provider_, 0, bytes_of("new pin 1"), bytes_of("abc")));
  EXPECT_STATUS(SCARD_W_WRONG_CHV, CngRemoveScopePin(provider_, 0, bytes_of(kPin)));
  EXPECT_OK(CngRemoveScopePin(provider_, 0, bytes_of("new pin 1")));
  EXPECT_FALSE(status().pin_set);
}

TEST_F(ScopePinTest, NewPinMustBeUtf8OfFourTo255Bytes) {
  EXPECT_STATUS(NTE_INVALID_PARAMETER, CngSetScopePin(provider_, 0, bytes_of("123")));
  const std::string long_pin(256, 'x');
  EXPECT_STATUS(NTE_INVALID_PARAMETER, CngSetScopePin(provider_, 0, bytes_of(long_pin.c_str())));
  const std::uint8_t not_utf8[] = {'a', 'b', 0xC3, 0x28, 'c'};
  EXPECT_STATUS(NTE_INVALID_PARAMETER, CngSetScopePin(provider_, 0, PinBytes(not_utf8)));
  EXPECT_FALSE(status().pin_set);
  // "Grüße" in UTF-8 and through NCRYPT_PIN_PROPERTY in UTF-16 is the same PIN.
  ASSERT_OK(CngSetScopePin(provider_, 0,
                           bytes_of("Gr\xC3\xBC\xC3\x9F"
                                    "e")));
  const std::uint8_t utf16[] = {'G', 0, 'r', 0, 0xFC, 0, 0xDF, 0, 'e', 0};
  EXPECT_OK(NCryptSetProperty(provider_, NCRYPT_PIN_PROPERTY, const_cast<std::uint8_t*>(utf16),
                              sizeof utf16, 0));
}

TEST_F(ScopePinTest, MachineScopeIsNamedByTheFlag) {
  ASSERT_OK(CngSetScopePin(provider_, NCRYPT_MACHINE_KEY_FLAG, bytes_of(kPin)));
  EXPECT_FALSE(status().pin_set);
  EXPECT_STATUS(SCARD_W_WRONG_CHV, login(provider_, "wrong pin", NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_OK(login(provider_, kPin, NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_STATUS(NTE_BAD_FLAGS, login(provider_, kPin, NCRYPT_PERSIST_FLAG));
}

TEST_F(ScopePinTest, FailuresCountAcrossProcessesUntilLocked) {
  ASSERT_OK(CngSetScopePin(provider_, 0, bytes_of(kPin)));
  for (unsigned i = 1; i <= 10; ++i) {
    ASSERT_EQ(child_login("wrong pin"), 0x6B) << "attempt " << i;
    const ScopePinStatus s = status();
    EXPECT_EQ(s.failures, i);
    EXPECT_EQ(s.attempts_left, 10 - i);
    EXPECT_EQ(s.locked, i == 10);
  }
  // Locked: even the right PIN is refused, in this process and in a fresh one.
  EXPECT_STATUS(SCARD_W_CHV_BLOCKED, login(provider_, kPin));
  EXPECT_EQ(child_login(kPin), 0x6C);
  EXPECT_EQ(status().failures, 10U);
  // The owner's recovery: the PIN is removed, the scope is back to no PIN.
  EXPECT_OK(CngForceRemoveScopePin(provider_, 0));
  EXPECT_FALSE(status().pin_set);
  EXPECT_EQ(child_login("anything"), 0);
}

TEST_F(ScopePinTest, ProcessKilledDuringTheCheckHasSpentItsAttempt) {
  ASSERT_OK(CngSetScopePin(provider_, 0, bytes_of(kPin)));
  bool killed_in_check = false;
  for (int round = 0; round < 20 && !killed_in_check; ++round) {
    // The child gives the right PIN: had its attempt not been counted before the check, the
    // counter would be back at 0 after the kill.
    const pid_t pid = spawn_login(kPin);
    ASSERT_GT(pid, 0);
    int st = 0;
    bool reaped = false;
    while (status().failures == 0) {
      if (waitpid(pid, &st, WNOHANG) == pid) {
        reaped = true;  // finished before we saw the count (the counter is 0 again)
        break;
      }
    }
    if (!reaped) {
      ::kill(pid, SIGKILL);
      ASSERT_EQ(waitpid(pid, &st, 0), pid);
    }
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
      killed_in_check = true;
      EXPECT_EQ(status().failures, 1U) << "the killed attempt was not counted";
    }
  }
  EXPECT_TRUE(killed_in_check) << "no kill landed during a check in 20 rounds";
}

// The store's bytes must contain neither the PIN nor a fast (unsalted, scrypt-free) hash of it.
TEST_F(ScopePinTest, PinIsInNoFile) {
  ASSERT_OK(CngSetScopePin(provider_, 0, bytes_of(kPin)));
  EXPECT_STATUS(SCARD_W_WRONG_CHV, login(provider_, "wrong pin"));
  EXPECT_OK(login(provider_, kPin));
  NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"pin-scan-key");
  EXPECT_OK(NCryptFreeObject(key));
  std::vector<Bytes> needles;
  const PinBytes pin = bytes_of(kPin);
  needles.emplace_back(pin.begin(), pin.end());
  auto utf16 = utf16_of(kPin);
  utf16.resize(utf16.size() - 2);
  needles.push_back(utf16);
  for (const char* md : {"MD5", "SHA1", "SHA256", "SHA512", "SHA3-256"}) {
    Bytes digest(EVP_MAX_MD_SIZE);
    unsigned len = 0;
    ASSERT_EQ(
        EVP_Digest(pin.data(), pin.size(), digest.data(), &len, EVP_get_digestbyname(md), nullptr),
        1);
    digest.resize(len);
    needles.push_back(digest);
    Bytes half(digest.begin(), digest.begin() + 16);  // a truncated hash too
    needles.push_back(half);
  }
  std::size_t files = 0;
  // The scope directories and the keyrings beside them ("<scope dir>.keyring").
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(user_dir().parent_path())) {
    if (!entry.is_regular_file()) {
      continue;
    }
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    const Bytes content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const Bytes& needle : needles) {
      EXPECT_EQ(std::search(content.begin(), content.end(), needle.begin(), needle.end()),
                content.end())
          << entry.path() << " holds the PIN or a hash of it";
    }
  }
  EXPECT_GE(files, 2U);  // the key file and pin-state at least
}

// A child that signs with the persisted key NAME, after logging in with PIN when one is given;
// exits with the low byte of the first failing status (0: signed).
int child_sign(const char* name, const char* pin = nullptr) {
  const std::string exe = "/proc/self/exe";
  std::vector<std::string> args = {exe, "--pin-child", "sign", name};
  if (pin != nullptr) {
    args.emplace_back(pin);
  }
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t pid = -1;
  int status = 0;
  if (posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), environ) != 0 ||
      waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
    return -1;
  }
  return WEXITSTATUS(status);
}

std::string protector(NCRYPT_PROV_HANDLE provider) {
  cng::KeyProtectionStatus status;
  EXPECT_OK(cng::CngGetKeyProtectionStatus(provider, 0, &status));
  return status.protector;
}

// Without a TPM the PIN wraps the master key that encrypts the software keys at rest: a process
// that has not given the PIN cannot use a key; one that has, can; change and remove keep it so.
TEST_F(ScopePinTest, PinWrapsTheMasterKey) {
  NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"mk-key");
  EXPECT_OK(NCryptFreeObject(key));
  ASSERT_OK(CngSetScopePin(provider_, 0, bytes_of(kPin)));
  if (protector(provider_) == "tpm-sealed") {
    GTEST_SKIP() << "the master key is sealed to a TPM: the PIN does not wrap it";
  }
  EXPECT_EQ(protector(provider_), "pin");
  EXPECT_EQ(child_sign("mk-key"), 0x0B);  // NTE_BAD_KEY_STATE: the master key is locked
  EXPECT_EQ(child_sign("mk-key", "wrong pin"), 0x6B);
  EXPECT_EQ(child_sign("mk-key", kPin), 0);
  ASSERT_OK(CngChangeScopePin(provider_, 0, bytes_of(kPin), bytes_of("new pin 1")));
  EXPECT_EQ(protector(provider_), "pin");
  EXPECT_EQ(child_sign("mk-key", "new pin 1"), 0);
  EXPECT_EQ(child_sign("mk-key", kPin), 0x6B);
  ASSERT_OK(CngRemoveScopePin(provider_, 0, bytes_of("new pin 1")));
  EXPECT_EQ(protector(provider_), "file");
  EXPECT_EQ(child_sign("mk-key"), 0);
}

// pin-state's verifier and the KEK against OpenSSL's EVP_PBE_scrypt with the stored parameters.
TEST_F(ScopePinTest, StoredVerifierIsScryptOfThePin) {
  ASSERT_OK(CngSetScopePin(provider_, 0, bytes_of(kPin)));
  std::ifstream in(user_dir() / "pin-state", std::ios::binary);
  const Bytes file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const cng::pin_file::PinRecord record = cng::pin_file::decode(file);
  EXPECT_GE(record.log_n, 14);  // memory-hard: at least 16 MiB with r = 8
  EXPECT_EQ(record.r, 8U);
  std::uint8_t out[64];
  const std::uint64_t n = std::uint64_t{1} << record.log_n;
  ASSERT_EQ(EVP_PBE_scrypt(kPin, std::strlen(kPin), record.salt.data(), record.salt.size(), n,
                           record.r, record.p, 1ULL << 30, out, sizeof out),
            1);
  std::uint8_t hash[SHA256_DIGEST_LENGTH];
  SHA256(out, 32, hash);
  EXPECT_TRUE(std::equal(std::begin(hash), std::end(hash), record.verifier.begin()));
  const auto kek = cng::pin_file::derive(kPin, record).kek;
  EXPECT_TRUE(std::equal(kek.begin(), kek.end(), out + 32));
  // A damaged file is refused, not trusted.
  Bytes bad = file;
  bad[bad.size() / 2] ^= 1;
  EXPECT_THROW((void)cng::pin_file::decode(bad), cng::CngError);
}

}  // namespace
}  // namespace ncrypt_test

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--pin-child") == 0 && std::strcmp(argv[2], "login") == 0) {
    NCRYPT_PROV_HANDLE provider = 0;
    if (NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0) != ERROR_SUCCESS) {
      return 255;
    }
    const SECURITY_STATUS s = ncrypt_test::login(provider, argv[3]);
    return static_cast<int>(static_cast<std::uint32_t>(s) & 0xFF);
  }
  if ((argc == 4 || argc == 5) && std::strcmp(argv[1], "--pin-child") == 0 &&
      std::strcmp(argv[2], "sign") == 0) {
    NCRYPT_PROV_HANDLE provider = 0;
    if (NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0) != ERROR_SUCCESS) {
      return 255;
    }
    SECURITY_STATUS s = argc == 5 ? ncrypt_test::login(provider, argv[4]) : ERROR_SUCCESS;
    const std::string name(argv[3]);
    const std::u16string name16(name.begin(), name.end());
    NCRYPT_KEY_HANDLE key = 0;
    if (s == ERROR_SUCCESS) {
      s = NCryptOpenKey(provider, &key, name16.c_str(), 0, 0);
    }
    if (s == ERROR_SUCCESS) {
      BYTE hash[32] = {1, 2, 3};
      BYTE signature[64];
      DWORD size = 0;
      s = NCryptSignHash(key, nullptr, hash, sizeof hash, signature, sizeof signature, &size, 0);
    }
    return static_cast<int>(static_cast<std::uint32_t>(s) & 0xFF);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
