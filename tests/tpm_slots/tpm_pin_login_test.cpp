// The user PIN of the software slot 0 with a TPM answering (CNG_PKCS11_TCTI): the scope's master
// key is sealed to the TPM under the PIN (store/master_key.h, kTpmPin), so wrong PINs given to
// C_Login raise the TPM's dictionary-attack counter (read back by the test through its own ESYS
// context, swtpm_da.h), the token flags follow the TPM's budget when it is the smaller
// (PKCS#11 3.0 §5.4: CKF_USER_PIN_COUNT_LOW, FINAL_TRY, LOCKED) and the lock holds in a fresh
// process. Each step is a fresh process (fork) that dlopen()s the module; the parent only reads
// the TPM (swtpm serves one connection at a time). Run by ctest, each test in its own process.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <vector>

#include "p11_fixture.h"
#include "swtpm_da.h"
#include "swtpm_process.h"

namespace {

using Rvs = std::vector<CK_RV>;

constexpr std::uint32_t kMaxTries = 4;  // the TPM's, well below the module's own 10
constexpr char kPin[] = "tpm-login 1357";
constexpr char kWrong[] = "not the PIN 99";
constexpr CK_FLAGS kRetryFlags =
    CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED;

CK_UTF8CHAR_PTR utf8(const char* text) {
  return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(text));
}
CK_ULONG len(const char* text) { return static_cast<CK_ULONG>(std::strlen(text)); }

// Runs body(function list, session on slot 0) in a child that loads and initialises the module.
Rvs in_child(const std::function<void(CK_FUNCTION_LIST*, CK_SESSION_HANDLE, Rvs&)>& body) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    ::close(fds[0]);
    Rvs out;
    CK_FUNCTION_LIST* f = conf::FunctionList();
    CK_SESSION_HANDLE s = 0;
    out.push_back(f->C_Initialize(nullptr));
    out.push_back(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s));
    body(f, s, out);
    out.push_back(f->C_Finalize(nullptr));
    const auto n = static_cast<ssize_t>(out.size() * sizeof(CK_RV));
    _exit(::write(fds[1], out.data(), static_cast<std::size_t>(n)) == n ? 0 : 1);
  }
  ::close(fds[1]);
  Rvs out;
  CK_RV rv = 0;
  while (::read(fds[0], &rv, sizeof rv) == static_cast<ssize_t>(sizeof rv)) {
    out.push_back(rv);
  }
  ::close(fds[0]);
  int wstatus = 0;
  EXPECT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  // C_Initialize, C_OpenSession ... C_Finalize: only body's part is returned.
  EXPECT_GE(out.size(), 3u);
  if (out.size() >= 3) {
    EXPECT_EQ(out[0], CKR_OK);
    EXPECT_EQ(out[1], CKR_OK);
    EXPECT_EQ(out.back(), CKR_OK);
    out = Rvs(out.begin() + 2, out.end() - 1);
  }
  return out;
}

CK_RV login(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, const char* pin) {
  return f->C_Login(s, CKU_USER, utf8(pin), len(pin));
}

// The slot's retry flags, as a CK_RV-sized value in the child's answers.
CK_RV retry_flags(CK_FUNCTION_LIST* f) {
  CK_TOKEN_INFO info{};
  return f->C_GetTokenInfo(0, &info) == CKR_OK ? info.flags & kRetryFlags : ~CK_RV{0};
}

TEST(TpmPinLoginTest, WrongUserPinsRaiseTheTpmLockoutCounterUntilItLocks) {
  if (!platform_test::swtpm_available()) {
    GTEST_SKIP() << "swtpm is not installed";
  }
  const conf::TempDir temp("tpm-pin-login");
  const std::filesystem::path dirs(temp.path());
  platform_test::SwtpmProcess tpm(dirs / "tpm");
  ASSERT_TRUE(platform_test::set_dictionary_attack(tpm.tcti(), kMaxTries, 3600, 0));
  ::setenv("CNG_PKCS11_TCTI", tpm.tcti().c_str(), 1);
  ::setenv("CNG_PKCS11_USER_DIR", (dirs / "user").c_str(), 1);
  ::setenv("CNG_PKCS11_MACHINE_DIR", (dirs / "machine").c_str(), 1);
  const auto counter = [&] {
    const auto da = platform_test::read_dictionary_attack(tpm.tcti());
    EXPECT_TRUE(da.has_value());
    return da.value_or(platform_test::DaState{}).counter;
  };

  // The SO sets the user PIN (the SO logs in without a PIN of its own).
  const Rvs set = in_child([](CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, Rvs& out) {
    out.push_back(f->C_Login(s, CKU_SO, utf8("so"), 2));
    out.push_back(f->C_InitPIN(s, utf8(kPin), len(kPin)));
    out.push_back(f->C_Logout(s));
    out.push_back(retry_flags(f));
  });
  EXPECT_EQ(set, (Rvs{CKR_OK, CKR_OK, CKR_OK, 0}));
  EXPECT_EQ(counter(), 0u);

  const Rvs first = in_child([](CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, Rvs& out) {
    out.push_back(login(f, s, kWrong));
  });
  EXPECT_EQ(first, (Rvs{CKR_PIN_INCORRECT}));
  EXPECT_EQ(counter(), 1u);

  // The right PIN works; it clears the module's count, not the TPM's, which the flags show.
  const Rvs right = in_child([](CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, Rvs& out) {
    out.push_back(login(f, s, kPin));
    out.push_back(retry_flags(f));
  });
  EXPECT_EQ(right, (Rvs{CKR_OK, CKF_USER_PIN_COUNT_LOW}));
  EXPECT_EQ(counter(), 1u);

  const Rvs wrong = in_child([](CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, Rvs& out) {
    out.push_back(login(f, s, kWrong));
    out.push_back(login(f, s, kWrong));
    out.push_back(retry_flags(f));
    out.push_back(login(f, s, kWrong));
    out.push_back(retry_flags(f));
    out.push_back(login(f, s, kPin));
  });
  EXPECT_EQ(wrong, (Rvs{CKR_PIN_INCORRECT, CKR_PIN_INCORRECT,
                        CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY, CKR_PIN_INCORRECT,
                        CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED, CKR_PIN_LOCKED}));
  EXPECT_EQ(counter(), kMaxTries);

  // A fresh process: still locked, the right PIN refused.
  const Rvs later = in_child([](CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, Rvs& out) {
    out.push_back(retry_flags(f));
    out.push_back(login(f, s, kPin));
  });
  EXPECT_EQ(later, (Rvs{CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED, CKR_PIN_LOCKED}));
  EXPECT_EQ(counter(), kMaxTries);
}

}  // namespace
