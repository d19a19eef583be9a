// cngkey pin set|change|remove|status: the real binary with PINs from files and CNGKEY_PIN;
// exit codes from options.h (5 exists, 9 wrong or locked PIN, 2 usage).
#include "cngkey_fixture.h"

namespace cngkey_test {
namespace {

class CngkeyPinTest : public CngkeyTest {
 protected:
  std::string pin_file(const std::string& leaf, const std::string& pin) const {
    write_file(path(leaf), pin + "\n");
    return path(leaf).string();
  }
  std::string status_json(const std::string& scope = "user") const {
    const ProcessResult r = cngkey({"pin", "status", "--json", "--scope", scope});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
};

TEST_F(CngkeyPinTest, SetChangeRemoveWithPinFiles) {
  EXPECT_NE(status_json().find("\"pin_set\": false"), std::string::npos);
  const std::string first = pin_file("first", "first PIN 1");
  const std::string second = pin_file("second", "second PIN 2");
  const std::string wrong = pin_file("wrong", "not the PIN");
  ProcessResult r = cngkey({"pin", "set", "--pin-file", first});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(status_json().find("\"pin_set\": true"), std::string::npos);
  EXPECT_NE(status_json("machine").find("\"pin_set\": false"), std::string::npos);
  EXPECT_EQ(cngkey({"pin", "set", "--pin-file", second}).exit_code, 5);
  EXPECT_EQ(cngkey({"pin", "remove", "--pin-file", wrong}).exit_code, 9);
  EXPECT_NE(status_json().find("\"failures\": 1"), std::string::npos);
  r = cngkey({"pin", "change", "--pin-file", first, "--new-pin-file", second});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(status_json().find("\"failures\": 0"), std::string::npos);
  EXPECT_EQ(cngkey({"pin", "remove", "--pin-file", first}).exit_code, 9);
  r = cngkey({"pin", "remove", "--pin-file", second});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(status_json().find("\"pin_set\": false"), std::string::npos);
}

TEST_F(CngkeyPinTest, LockedAfterTenWrongPinsUntilForcedRemoval) {
  extra_env_.push_back("CNGKEY_PIN=the right PIN");
  ASSERT_EQ(cngkey({"pin", "set"}).exit_code, 0);
  extra_env_.back() = "CNGKEY_PIN=a wrong PIN";
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(cngkey({"pin", "remove"}).exit_code, 9) << "attempt " << i + 1;
  }
  EXPECT_NE(status_json().find("\"locked\": true"), std::string::npos);
  EXPECT_NE(status_json().find("\"attempts_left\": 0"), std::string::npos);
  extra_env_.back() = "CNGKEY_PIN=the right PIN";
  const ProcessResult locked = cngkey({"pin", "remove"});
  EXPECT_EQ(locked.exit_code, 9);
  EXPECT_NE(locked.err.find("SCARD_W_CHV_BLOCKED"), std::string::npos) << locked.err;
  extra_env_.pop_back();
  EXPECT_EQ(cngkey({"pin", "remove", "--force"}).exit_code, 0);
  EXPECT_NE(status_json().find("\"pin_set\": false"), std::string::npos);
  EXPECT_EQ(cngkey({"pin", "remove", "--force"}).exit_code, 4);  // no PIN any more
}

TEST_F(CngkeyPinTest, PinTextIsInNoStoreFile) {
  const std::string pin = "visible-pin-text-42";
  create_key({"--name", "k", "--algorithm", "ECDSA_P256"});
  ASSERT_EQ(cngkey({"pin", "set", "--pin-file", pin_file("p", pin)}).exit_code, 0);
  std::size_t files = 0;
  for (const auto& file : files_under(user_dir_)) {
    ++files;
    EXPECT_EQ(read_file(file).find(pin), std::string::npos) << file;
  }
  EXPECT_GE(files, 2U);
}

// Without a TPM the PIN wraps the scope's master key: cngkey without a PIN cannot write a
// software key until the PIN is removed (cngkey_pin_login_test.cpp: with one it can), and
// `status` shows both.
TEST_F(CngkeyPinTest, PinWrapsTheMasterKeyUntilRemoved) {
  create_key({"--name", "before", "--algorithm", "ECDSA_P256"});
  const std::string file = pin_file("p", "master key PIN");
  ASSERT_EQ(cngkey({"pin", "set", "--pin-file", file}).exit_code, 0);
  ProcessResult status = cngkey({"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  if (status.out.find("tpm-sealed") != std::string::npos) {
    GTEST_SKIP() << "the master key is sealed to a TPM: the PIN does not wrap it";
  }
  EXPECT_NE(status.out.find("protector:        pin"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("PIN:              set"), std::string::npos) << status.out;
  const ProcessResult refused = cngkey({"create", "--name", "after", "--algorithm", "ECDSA_P256"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("master key is wrapped under its PIN"), std::string::npos)
      << refused.err;
  ASSERT_EQ(cngkey({"pin", "remove", "--pin-file", file}).exit_code, 0);
  status = cngkey({"status"});
  EXPECT_NE(status.out.find("protector:        file"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("PIN:              none"), std::string::npos) << status.out;
  create_key({"--name", "after", "--algorithm", "ECDSA_P256"});
  EXPECT_FALSE(show_key("before").empty());
}

TEST_F(CngkeyPinTest, UsageErrors) {
  EXPECT_EQ(cngkey({"pin"}).exit_code, 2);
  EXPECT_EQ(cngkey({"pin", "frobnicate"}).exit_code, 2);
  EXPECT_EQ(cngkey({"pin", "remove", "--force", "--pin-file", "x"}).exit_code, 2);
  EXPECT_EQ(cngkey({"pin", "set", "--new-pin-file", "x"}).exit_code, 2);
  EXPECT_EQ(cngkey({"pin", "set", "--pin-file", path("absent").string()}).exit_code, 3);
  // A new PIN must have 4 to 255 bytes: NTE_INVALID_PARAMETER, exit 1.
  EXPECT_EQ(cngkey({"pin", "set", "--pin-file", pin_file("short", "abc")}).exit_code, 1);
  EXPECT_NE(status_json().find("\"pin_set\": false"), std::string::npos);
}

}  // namespace
}  // namespace cngkey_test
