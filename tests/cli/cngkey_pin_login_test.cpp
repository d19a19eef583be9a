// cngkey create/import/rekey on a scope whose master key is wrapped under the scope PIN: the
// commands log the scope in with --pin-file, --pin-fd or CNGKEY_PIN and fail cleanly without
// it or with a wrong one (exit codes from options.h: 2 usage, 9 wrong or locked PIN). What
// they wrote is checked independently: public keys against `openssl pkey`, signatures made
// through the PKCS#11 module verified by OpenSSL. Token flags: PKCS#11 3.0 §5.4
// (CKF_USER_PIN_COUNT_LOW after a wrong PIN, CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED).
#include "cngkey_fixture.h"
#include "p11_view.h"

namespace cngkey_test {
namespace {

constexpr const char* kPin = "scope PIN 1234";

class CngkeyPinLoginTest : public CngkeyTest {
 protected:
  // Sets the scope PIN; false (the test skips) when a TPM seals the master key instead.
  bool set_pin_wrapping_master_key() {
    right_ = pin_file("right", kPin);
    wrong_ = pin_file("wrong", "not the PIN");
    const ProcessResult set = cngkey({"pin", "set", "--pin-file", right_});
    EXPECT_EQ(set.exit_code, 0) << set.err;
    const ProcessResult status = cngkey({"status"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    return status.out.find("protector:        pin") != std::string::npos;
  }
  std::string pin_file(const std::string& leaf, const std::string& pin) const {
    write_file(path(leaf), pin + "\n");
    return path(leaf).string();
  }
  std::string pin_status() const { return cngkey({"pin", "status", "--json"}).out; }
  // cngkey with descriptor 3 open on file (for --pin-fd 3).
  ProcessResult cngkey_with_fd3(const std::string& file, const std::vector<std::string>& args) {
    extra_env_.push_back("PIN_FD_FILE=" + file);
    const ProcessResult r =
        cngkey_with_prefix({"/bin/sh", "-c", "exec \"$0\" \"$@\" 3<\"$PIN_FD_FILE\""}, args);
    extra_env_.pop_back();
    return r;
  }
  bool listed(const std::string& name) const {
    for (const auto& row : list_keys("user")) {
      if (!row.empty() && row[0] == name) {
        return true;
      }
    }
    return false;
  }

  std::string right_;
  std::string wrong_;
};

TEST_F(CngkeyPinLoginTest, WithoutThePinKeyWritesFailCleanly) {
  if (!set_pin_wrapping_master_key()) {
    GTEST_SKIP() << "the master key is sealed to a TPM: the PIN does not wrap it";
  }
  const ProcessResult none = cngkey({"create", "--name", "k", "--algorithm", "ECDSA_P256"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("wrapped under its PIN"), std::string::npos) << none.err;
  EXPECT_EQ(cngkey({"rekey"}).exit_code, 2);
  const auto key_file = generate_key("k.pem", "P-256");
  EXPECT_EQ(cngkey({"import", "--name", "k", key_file.string()}).exit_code, 2);
  EXPECT_FALSE(listed("k"));
  EXPECT_NE(pin_status().find("\"failures\": 0"), std::string::npos) << "nothing was checked";

  const ProcessResult wrong =
      cngkey({"create", "--name", "k", "--algorithm", "ECDSA_P256", "--pin-file", wrong_});
  EXPECT_EQ(wrong.exit_code, 9);
  EXPECT_NE(wrong.err.find("wrong PIN for the user scope (9 attempt(s) left"), std::string::npos)
      << wrong.err;
  EXPECT_NE(pin_status().find("\"failures\": 1"), std::string::npos);
  EXPECT_EQ(cngkey_with_fd3(wrong_, {"rekey", "--pin-fd", "3"}).exit_code, 9);
  EXPECT_NE(pin_status().find("\"failures\": 2"), std::string::npos);
  EXPECT_FALSE(listed("k"));
  // Usage: one PIN source, a descriptor number.
  EXPECT_EQ(cngkey({"rekey", "--pin-file", right_, "--pin-fd", "3"}).exit_code, 2);
  EXPECT_EQ(cngkey({"rekey", "--pin-fd", "three"}).exit_code, 2);
  EXPECT_EQ(cngkey({"show", "--name", "k", "--pin-file", right_}).exit_code, 2);
}

TEST_F(CngkeyPinLoginTest, WithThePinCreateImportRekeyWork) {
  if (!set_pin_wrapping_master_key()) {
    GTEST_SKIP() << "the master key is sealed to a TPM: the PIN does not wrap it";
  }
  // A wrong PIN first: the right one resets the counter.
  EXPECT_EQ(cngkey({"rekey", "--pin-file", wrong_}).exit_code, 9);
  ProcessResult r =
      cngkey({"create", "--name", "made", "--algorithm", "ECDSA_P256", "--pin-file", right_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(pin_status().find("\"failures\": 0"), std::string::npos);

  const auto key_file = generate_key("imported.pem", "P-256");
  extra_env_.push_back(std::string("CNGKEY_PIN=") + kPin);
  r = cngkey({"import", "--name", "imported", key_file.string()});
  extra_env_.pop_back();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cngkey_with_fd3(right_, {"rekey", "--pin-fd", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 key(s) re-encrypted"), std::string::npos) << r.out;

  // The imported key's public half is the file's (openssl is the oracle).
  const auto expected = path("expected.pem");
  openssl_ok({"pkey", "-in", key_file.string(), "-pubout", "-out", expected.string()});
  r = cngkey({"export-public", "--name", "imported"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, read_file(expected));

  // Both keys sign through the module after C_Login, and OpenSSL verifies the signatures.
  const auto made_pem = path("made.pem");
  ASSERT_EQ(cngkey({"export-public", "--name", "made", "--out", made_pem.string()}).exit_code, 0);
  use_stores_in_this_process();
  P11View p11;
  ASSERT_TRUE(p11.open(0));
  ASSERT_EQ(p11.login(kPin), CKR_OK);
  const std::string data = "signed after a scope login";
  for (const auto& [label, pem] : {std::pair{"made", made_pem}, std::pair{"imported", expected}}) {
    const auto keys = p11.objects(CKO_PRIVATE_KEY, label);
    ASSERT_EQ(keys.size(), 1u) << label;
    CK_RV rv = CKR_OK;
    const Bytes sig =
        p11.sign(keys[0].handle, CKM_ECDSA_SHA256, Bytes(data.begin(), data.end()), &rv);
    ASSERT_EQ(rv, CKR_OK) << label;
    EXPECT_TRUE(verify_sha256_signature(pem, data, sig)) << label;
  }
}

TEST_F(CngkeyPinLoginTest, WrongPinsLockTheScope) {
  if (!set_pin_wrapping_master_key()) {
    GTEST_SKIP() << "the master key is sealed to a TPM: the PIN does not wrap it";
  }
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(cngkey({"rekey", "--pin-file", wrong_}).exit_code, 9) << "attempt " << i + 1;
  }
  const ProcessResult locked = cngkey({"rekey", "--pin-file", right_});
  EXPECT_EQ(locked.exit_code, 9);
  EXPECT_NE(locked.err.find("locked after 10 wrong PINs"), std::string::npos) << locked.err;
  EXPECT_NE(locked.err.find("pin remove --force"), std::string::npos) << locked.err;
}

// Another process's wrong PINs show in this process's C_GetTokenInfo at the next call (the
// module keeps the PIN state between calls and must notice the pin-state file changed).
TEST_F(CngkeyPinLoginTest, OtherProcessesWrongPinsShowInTokenFlags) {
  right_ = pin_file("right", kPin);
  wrong_ = pin_file("wrong", "not the PIN");
  ASSERT_EQ(cngkey({"pin", "set", "--pin-file", right_}).exit_code, 0);
  use_stores_in_this_process();
  P11View p11;
  ASSERT_TRUE(p11.open(0));
  const CK_FLAGS pin_bits = CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | CKF_USER_PIN_COUNT_LOW |
                            CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED;
  const CK_FLAGS base = CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED;
  EXPECT_EQ(p11.token_flags(0) & pin_bits, base);
  EXPECT_EQ(p11.token_flags(0) & pin_bits, base);  // the unchanged state, again
  ASSERT_EQ(cngkey({"create", "--name", "k", "--pin-file", wrong_}).exit_code, 9);
  EXPECT_EQ(p11.token_flags(0) & pin_bits, base | CKF_USER_PIN_COUNT_LOW);
  // The right PIN in another process resets the counter.
  ASSERT_EQ(cngkey({"create", "--name", "k", "--pin-file", right_}).exit_code, 0);
  EXPECT_EQ(p11.token_flags(0) & pin_bits, base);
  for (int i = 0; i < 9; ++i) {
    ASSERT_EQ(cngkey({"pin", "remove", "--pin-file", wrong_}).exit_code, 9);
  }
  EXPECT_EQ(p11.token_flags(0) & pin_bits, base | CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
  ASSERT_EQ(cngkey({"rekey", "--pin-file", wrong_}).exit_code, 9);
  EXPECT_EQ(p11.token_flags(0) & pin_bits, base | CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED);
  ASSERT_EQ(cngkey({"pin", "remove", "--force"}).exit_code, 0);
  EXPECT_EQ(p11.token_flags(0) & pin_bits, 0u);
}

}  // namespace
}  // namespace cngkey_test
