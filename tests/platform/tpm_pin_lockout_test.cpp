// The scope PIN over a TPM-sealed master key (store/master_key.h, kTpmPin): the PIN is the
// sealed object's authValue, so the TPM's dictionary-attack counter sees every wrong PIN given
// through NCryptSetProperty(NCRYPT_PIN_PROPERTY), and its lockout holds across process and TPM
// restarts. The oracle is the TPM itself (TPM2_GetCapability through an ESYS context of the
// test, swtpm_da.h). Each NCrypt step runs in a fresh child process (ncrypt_child.h).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "cng_key_protection.h"
#include "cng_scope_pin.h"
#include "ncrypt.h"
#include "ncrypt_child.h"
#include "ncrypt_test_support.h"
#include "openssl_check.h"
#include "swtpm_da.h"
#include "swtpm_process.h"

namespace platform_test {
namespace {

using ncrypt_test::Bytes;

constexpr std::uint32_t kMaxTries = 4;  // the TPM's, well below our own counter's 10
constexpr char kPin[] = "right pin 1234";
constexpr char16_t kPin16[] = u"right pin 1234";
constexpr char16_t kWrong16[] = u"wrong pin 5678";
constexpr SECURITY_STATUS kVerifyFailed = NTE_FAIL;  // a signature OpenSSL does not accept

SECURITY_STATUS give_pin(NCRYPT_PROV_HANDLE prov, const char16_t* pin) {
  const auto bytes = static_cast<DWORD>(std::char_traits<char16_t>::length(pin) * 2);
  return NCryptSetProperty(prov, NCRYPT_PIN_PROPERTY,
                           reinterpret_cast<PBYTE>(const_cast<char16_t*>(pin)), bytes, 0);
}

// Signs a hash with the persisted key "pinned" and checks it with OpenSSL.
SECURITY_STATUS sign_and_verify(NCRYPT_PROV_HANDLE prov) {
  NCRYPT_KEY_HANDLE key = 0;
  SECURITY_STATUS st = NCryptOpenKey(prov, &key, u"pinned", 0, 0);
  if (st != ERROR_SUCCESS) {
    return st;
  }
  const Bytes hash(32, 0x5a);
  Bytes sig(64);
  DWORD size = 0;
  st = NCryptSignHash(key, nullptr, const_cast<PBYTE>(hash.data()), 32, sig.data(), 64, &size, 0);
  if (st == ERROR_SUCCESS) {
    sig.resize(size);
    const auto pub =
        ncrypt_test::pkey_from_bcrypt_public(ncrypt_test::export_key(key, BCRYPT_ECCPUBLIC_BLOB));
    st = ncrypt_test::verify_ecdsa_raw(pub.get(), hash, sig) ? ERROR_SUCCESS : kVerifyFailed;
  }
  (void)NCryptFreeObject(key);
  return st;
}

class TpmPinLockoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!swtpm_available()) {
      GTEST_SKIP() << "swtpm is not installed";
    }
    dirs_ = std::make_unique<ncrypt_test::TempDir>();
    tpm_ = std::make_unique<SwtpmProcess>(dirs_->path() / "tpm");
    // Long recovery: no failure is forgiven while the test runs.
    ASSERT_TRUE(set_dictionary_attack(tpm_->tcti(), kMaxTries, 3600, 0));
  }

  // The TPM's lockout counter, read by the test itself.
  std::uint32_t tpm_counter() {
    const auto da = read_dictionary_attack(tpm_->tcti());
    EXPECT_TRUE(da.has_value());
    EXPECT_EQ(da.value_or(DaState{}).max_tries, kMaxTries);
    return da.value_or(DaState{}).counter;
  }

  Statuses in_child(const std::function<void(NCRYPT_PROV_HANDLE, Statuses&)>& body) {
    return platform_test::in_child(dirs_->path() / "user", tpm_->tcti(), body);
  }

  std::unique_ptr<ncrypt_test::TempDir> dirs_;
  std::unique_ptr<SwtpmProcess> tpm_;
};

TEST_F(TpmPinLockoutTest, WrongPinsCountInTheTpmWhoseLockoutOutlivesRestarts) {
  // A key under a TPM-sealed master key, then a PIN: the master key is resealed under it.
  const Statuses made = in_child([](NCRYPT_PROV_HANDLE prov, Statuses& out) {
    NCRYPT_KEY_HANDLE key = 0;
    out.push_back(NCryptCreatePersistedKey(prov, &key, u"ECDSA_P256", u"pinned", 0, 0));
    out.push_back(NCryptFinalizeKey(key, 0));
    (void)NCryptFreeObject(key);
    cng::KeyProtectionStatus before;
    out.push_back(cng::CngGetKeyProtectionStatus(prov, 0, &before));
    out.push_back(before.protector == "tpm-sealed" ? ERROR_SUCCESS : NTE_BAD_KEY_STATE);
    const std::string pin = kPin;
    out.push_back(cng::CngSetScopePin(
        prov, 0, {reinterpret_cast<const std::uint8_t*>(pin.data()), pin.size()}));
    cng::KeyProtectionStatus after;
    out.push_back(cng::CngGetKeyProtectionStatus(prov, 0, &after));
    out.push_back(after.protector == "tpm-pin" ? ERROR_SUCCESS : NTE_BAD_KEY_STATE);
    out.push_back(sign_and_verify(prov));
  });
  EXPECT_EQ(made, Statuses(8, ERROR_SUCCESS));
  EXPECT_EQ(tpm_counter(), 0u);

  // A fresh process: no PIN, no key; a wrong PIN is counted by the TPM.
  const Statuses first = in_child([](NCRYPT_PROV_HANDLE prov, Statuses& out) {
    out.push_back(sign_and_verify(prov) == ERROR_SUCCESS ? NTE_FAIL : ERROR_SUCCESS);
    out.push_back(give_pin(prov, kWrong16));
  });
  EXPECT_EQ(first, (Statuses{ERROR_SUCCESS, SCARD_W_WRONG_CHV}));
  EXPECT_EQ(tpm_counter(), 1u);

  // The right PIN works before the lock (and leaves the TPM's counter as it is); the status
  // shows the TPM's budget, closer to the lock than ours.
  const Statuses right = in_child([](NCRYPT_PROV_HANDLE prov, Statuses& out) {
    out.push_back(give_pin(prov, kPin16));
    out.push_back(sign_and_verify(prov));
    cng::ScopePinStatus status;
    out.push_back(cng::CngGetScopePinStatus(prov, 0, &status));
    out.push_back(static_cast<SECURITY_STATUS>(status.attempts_left));
    out.push_back(status.locked ? NTE_FAIL : ERROR_SUCCESS);
  });
  EXPECT_EQ(right,
            (Statuses{ERROR_SUCCESS, ERROR_SUCCESS, ERROR_SUCCESS, kMaxTries - 1, ERROR_SUCCESS}));
  EXPECT_EQ(tpm_counter(), 1u);

  // Wrong PINs up to the TPM's maximum: the last try is shown, then the lock.
  const Statuses wrong = in_child([](NCRYPT_PROV_HANDLE prov, Statuses& out) {
    cng::ScopePinStatus status;
    for (int i = 0; i < 2; ++i) {
      out.push_back(give_pin(prov, kWrong16));
    }
    out.push_back(cng::CngGetScopePinStatus(prov, 0, &status));
    out.push_back(static_cast<SECURITY_STATUS>(status.attempts_left));
    out.push_back(give_pin(prov, kWrong16));
    out.push_back(cng::CngGetScopePinStatus(prov, 0, &status));
    out.push_back(static_cast<SECURITY_STATUS>(status.attempts_left));
    out.push_back(status.locked ? ERROR_SUCCESS : NTE_FAIL);
    out.push_back(give_pin(prov, kPin16));  // the right PIN, refused during the lock
  });
  EXPECT_EQ(wrong,
            (Statuses{SCARD_W_WRONG_CHV, SCARD_W_WRONG_CHV, ERROR_SUCCESS, 1, SCARD_W_WRONG_CHV,
                      ERROR_SUCCESS, 0, ERROR_SUCCESS, SCARD_W_CHV_BLOCKED}));
  EXPECT_EQ(tpm_counter(), kMaxTries);

  // A restart of the process and of the TPM: still locked, our own counter (3) is not.
  tpm_->stop();
  tpm_->start();
  const Statuses restarted = in_child([](NCRYPT_PROV_HANDLE prov, Statuses& out) {
    out.push_back(give_pin(prov, kPin16));
    out.push_back(sign_and_verify(prov) == ERROR_SUCCESS ? NTE_FAIL : ERROR_SUCCESS);
    cng::ScopePinStatus status;
    out.push_back(cng::CngGetScopePinStatus(prov, 0, &status));
    out.push_back(status.locked ? ERROR_SUCCESS : NTE_FAIL);
  });
  EXPECT_EQ(restarted,
            (Statuses{SCARD_W_CHV_BLOCKED, ERROR_SUCCESS, ERROR_SUCCESS, ERROR_SUCCESS}));
  EXPECT_GE(tpm_counter(), kMaxTries);

  // The TPM's lockout-auth holder clears it: the right PIN works again.
  ASSERT_TRUE(reset_dictionary_attack(tpm_->tcti()));
  const Statuses recovered = in_child([](NCRYPT_PROV_HANDLE prov, Statuses& out) {
    out.push_back(give_pin(prov, kPin16));
    out.push_back(sign_and_verify(prov));
  });
  EXPECT_EQ(recovered, (Statuses{ERROR_SUCCESS, ERROR_SUCCESS}));
  EXPECT_EQ(tpm_counter(), 0u);
}

}  // namespace
}  // namespace platform_test
