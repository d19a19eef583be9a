// A key's own password (api/key_password.h): wrong passwords are counted per key in its key
// file, across real processes, a process killed during the check has spent its attempt, a
// right password resets the count, and after 10 consecutive wrong ones the key's private use
// is locked (SCARD_W_CHV_BLOCKED, even for the right password) while its public part and its
// deletion still work. Signatures are checked with OpenSSL. The count is read from the key
// file's password record. The binary re-executes itself as `--key-child NAME PIN`: open the
// key, give PIN with NCRYPT_PIN_PROPERTY, sign; exit with the low byte of the first failure.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "ncrypt_test_support.h"
#include "openssl_check.h"
#include "store/key_file.h"
#include "store/key_store.h"
#include "store/pin_file.h"

extern char** environ;

namespace ncrypt_test {
namespace {

constexpr char16_t kName[] = u"pw-key";
constexpr char kPassword[] = "correct horse 7391";
constexpr std::uint32_t kLimit = 10;  // key_password.h
constexpr int kWrongExit = 0x33;      // NTE_INCORRECT_PASSWORD 0x80090033
constexpr int kBlockedExit = 0x6C;    // SCARD_W_CHV_BLOCKED 0x8010006C

std::u16string utf16(const char* text) { return {text, text + std::strlen(text)}; }

SECURITY_STATUS set_pin(NCRYPT_KEY_HANDLE key, const std::u16string& pin) {
  return NCryptSetProperty(key, NCRYPT_PIN_PROPERTY,
                           reinterpret_cast<PBYTE>(const_cast<char16_t*>(pin.c_str())),
                           static_cast<DWORD>((pin.size() + 1) * sizeof(char16_t)), 0);
}

SECURITY_STATUS sign(NCRYPT_KEY_HANDLE key, const Bytes& hash, Bytes& sig) {
  sig.assign(64, 0);
  DWORD size = 0;
  const SECURITY_STATUS s =
      NCryptSignHash(key, nullptr, const_cast<PBYTE>(hash.data()), static_cast<DWORD>(hash.size()),
                     sig.data(), static_cast<DWORD>(sig.size()), &size, 0);
  sig.resize(size);
  return s;
}

pid_t spawn_child(const char* pin) {
  const std::string exe = "/proc/self/exe";
  std::vector<std::string> args = {exe, "--key-child", "pw-key", pin};
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

// A child process gives pin to the key and signs; its exit code (0: signed).
int child(const char* pin) {
  const pid_t pid = spawn_child(pin);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
    return -1;
  }
  return WEXITSTATUS(status);
}

class KeyPasswordTest : public NCryptTest {
 protected:
  void SetUp() override {
    NCryptTest::SetUp();
    if (testing_platform()) {
      GTEST_SKIP() << "the TPM checks a platform key's PIN (its authValue) itself";
    }
    const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", kName, 0, false);
    ASSERT_OK(set_pin(key, utf16(kPassword)));
    ASSERT_OK(NCryptFinalizeKey(key, 0));
    pub_ = pkey_from_bcrypt_public(export_key(key, BCRYPT_ECCPUBLIC_BLOB));
    ASSERT_TRUE(pub_);
    EXPECT_OK(NCryptFreeObject(key));
  }
  // The failure counter in the key file's password record.
  std::uint32_t failures() {
    std::ifstream in(user_dir() / cng::KeyStore::file_name_for(kName), std::ios::binary);
    const Bytes file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const cng::KeyRecord record = cng::key_file::decode(file);
    return cng::pin_file::decode(record.properties.at(u"Key PIN Verifier")).failures;
  }
  NCRYPT_KEY_HANDLE open() {
    NCRYPT_KEY_HANDLE key = 0;
    EXPECT_OK(NCryptOpenKey(provider_, &key, kName, 0, 0));
    return key;
  }
  Pkey pub_;
};

TEST_F(KeyPasswordTest, WrongPasswordsCountAcrossProcessesUntilLocked) {
  EXPECT_EQ(failures(), 0U);
  EXPECT_EQ(child("wrong horse 1"), kWrongExit);
  EXPECT_EQ(child("wrong horse 2"), kWrongExit);
  EXPECT_EQ(failures(), 2U);
  // A right password signs and resets the count.
  EXPECT_EQ(child(kPassword), 0);
  EXPECT_EQ(failures(), 0U);

  // kLimit consecutive wrong passwords, from children and from this process's handle.
  NCRYPT_KEY_HANDLE key = open();
  for (std::uint32_t i = 0; i < kLimit; ++i) {
    if (i % 2 == 0) {
      EXPECT_EQ(child("wrong horse 3"), kWrongExit) << i;
    } else {
      EXPECT_STATUS(NTE_INCORRECT_PASSWORD, set_pin(key, u"wrong horse 4"));
    }
    EXPECT_EQ(failures(), i + 1);
  }
  // Locked: the right password is refused too, nothing more is counted, nothing signs.
  EXPECT_EQ(child(kPassword), kBlockedExit);
  EXPECT_STATUS(SCARD_W_CHV_BLOCKED, set_pin(key, utf16(kPassword)));
  EXPECT_EQ(failures(), kLimit);
  const Bytes hash = digest("SHA256", "locked key");
  Bytes sig;
  EXPECT_STATUS(NTE_SILENT_CONTEXT, sign(key, hash, sig));
  // Its public part still serves, and it can still be deleted.
  EXPECT_TRUE(pkey_from_bcrypt_public(export_key(key, BCRYPT_ECCPUBLIC_BLOB)));
  EXPECT_OK(NCryptDeleteKey(key, 0));
}

TEST_F(KeyPasswordTest, RightPasswordSignsOnceAndResetsTheCount) {
  NCRYPT_KEY_HANDLE key = open();
  for (int i = 0; i < 3; ++i) {
    EXPECT_STATUS(NTE_INCORRECT_PASSWORD, set_pin(key, u"not it"));
  }
  EXPECT_EQ(failures(), 3U);
  // A new handle (as another process would) reads the count from the file.
  NCRYPT_KEY_HANDLE other = open();
  ASSERT_OK(set_pin(other, utf16(kPassword)));
  EXPECT_EQ(failures(), 0U);
  const Bytes hash = digest("SHA256", "after the reset");
  Bytes sig;
  ASSERT_OK(sign(other, hash, sig));
  EXPECT_TRUE(verify_ecdsa_raw(pub_.get(), hash, sig));
  EXPECT_STATUS(NTE_SILENT_CONTEXT, sign(other, hash, sig));
  EXPECT_OK(NCryptFreeObject(other));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(KeyPasswordTest, ProcessKilledDuringTheCheckHasSpentItsAttempt) {
  bool killed_in_check = false;
  for (int round = 0; round < 20 && !killed_in_check; ++round) {
    // The child gives the right password: had its attempt not been counted before the
    // check, the counter would be 0 after the kill.
    const pid_t pid = spawn_child(kPassword);
    ASSERT_GT(pid, 0);
    int st = 0;
    bool reaped = false;
    while (failures() == 0) {
      if (waitpid(pid, &st, WNOHANG) == pid) {
        reaped = true;  // finished before the count was seen (it is 0 again)
        break;
      }
    }
    if (!reaped) {
      ::kill(pid, SIGKILL);
      ASSERT_EQ(waitpid(pid, &st, 0), pid);
    }
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
      killed_in_check = true;
      EXPECT_EQ(failures(), 1U) << "the killed attempt was not counted";
    }
  }
  EXPECT_TRUE(killed_in_check) << "no kill landed during a check in 20 rounds";
  // The key file is whole: the right password still signs (and resets the count).
  EXPECT_EQ(child(kPassword), 0);
  EXPECT_EQ(failures(), 0U);
}

// The key got no UI policy, only a password: finalize records NCRYPT_UI_PROTECT_KEY_FLAG, so a
// reader of the policy (the PKCS#11 module's CKA_ALWAYS_AUTHENTICATE) sees the protection.
TEST_F(KeyPasswordTest, PasswordShowsInTheUiPolicy) {
  const NCRYPT_KEY_HANDLE key = open();
  Bytes value(512);
  DWORD size = 0;
  ASSERT_OK(NCryptGetProperty(key, NCRYPT_UI_POLICY_PROPERTY, value.data(),
                              static_cast<DWORD>(value.size()), &size, 0));
  ASSERT_GE(size, sizeof(NCRYPT_UI_POLICY));
  NCRYPT_UI_POLICY policy{};
  std::memcpy(&policy, value.data(), sizeof policy);
  EXPECT_EQ(policy.dwVersion, 1U);
  EXPECT_EQ(policy.dwFlags, static_cast<DWORD>(NCRYPT_UI_PROTECT_KEY_FLAG));
  EXPECT_EQ(policy.pszFriendlyName, nullptr);
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(KeyPasswordTest, EphemeralKeyCountsInMemory) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", nullptr, 0, false);
  ASSERT_OK(set_pin(key, utf16(kPassword)));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  for (std::uint32_t i = 0; i < kLimit; ++i) {
    EXPECT_STATUS(NTE_INCORRECT_PASSWORD, set_pin(key, u"wrong horse"));
  }
  EXPECT_STATUS(SCARD_W_CHV_BLOCKED, set_pin(key, utf16(kPassword)));
  EXPECT_OK(NCryptFreeObject(key));
}

}  // namespace
}  // namespace ncrypt_test

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--key-child") == 0) {
    NCRYPT_PROV_HANDLE provider = 0;
    if (NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0) != ERROR_SUCCESS) {
      return 255;
    }
    const std::string name(argv[2]);
    NCRYPT_KEY_HANDLE key = 0;
    SECURITY_STATUS s =
        NCryptOpenKey(provider, &key, std::u16string(name.begin(), name.end()).c_str(), 0, 0);
    if (s == ERROR_SUCCESS) {
      s = ncrypt_test::set_pin(key, ncrypt_test::utf16(argv[3]));
    }
    if (s == ERROR_SUCCESS) {
      ncrypt_test::Bytes sig;
      s = ncrypt_test::sign(key, ncrypt_test::Bytes(32, 7), sig);
    }
    return static_cast<int>(static_cast<std::uint32_t>(s) & 0xFF);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
