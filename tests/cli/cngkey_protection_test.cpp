// `cngkey status` and `cngkey rekey`: the at-rest protection of the software keys, as the
// user sees it (protector, master key file outside the key directory, counts, the statement of
// the file protector's limit), and a rekey after which the keys still open.
#include <map>
#include <sstream>
#include <string>

#include "cngkey_fixture.h"

namespace cngkey_test {
namespace {

// "field:  value" lines of `cngkey status`.
std::map<std::string, std::string> parse_status(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || line.starts_with("note")) {
      continue;
    }
    const auto value = line.find_first_not_of(' ', colon + 1);
    out[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
  }
  return out;
}

class CngkeyProtectionTest : public CngkeyTest {
 protected:
  void SetUp() override {
    CngkeyTest::SetUp();
    // No TPM answers here: the file protector, whatever the machine has.
    extra_env_.push_back("CNG_PKCS11_TCTI=swtpm:host=127.0.0.1,port=1");
  }
};

TEST_F(CngkeyProtectionTest, StatusShowsTheFileProtectorAndItsLimit) {
  auto result = cngkey({"status"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(parse_status(result.out)["protector"], "none");

  create_key({"--name", "one", "--algorithm", "ECDSA_P256"});
  create_key({"--name", "two", "--algorithm", "RSA", "--length", "2048"});
  result = cngkey({"status", "--scope", "user"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto status = parse_status(result.out);
  EXPECT_EQ(status["protector"], "file");
  EXPECT_EQ(status["encrypted keys"], "2");
  EXPECT_EQ(status["clear keys"], "0");
  EXPECT_EQ(status["master key id"].size(), 32U);
  const std::filesystem::path file = status["master key file"];
  EXPECT_TRUE(std::filesystem::exists(file));
  // Outside the key directory: beside it.
  EXPECT_EQ(file.parent_path(), std::filesystem::path(user_dir_.string() + ".keyring"));
  EXPECT_NE(result.out.find("not against a copy of the whole account"), std::string::npos)
      << result.out;
  // The machine scope is separate.
  result = cngkey({"status", "--scope", "machine"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(parse_status(result.out)["protector"], "none");
  EXPECT_EQ(cngkey({"status", "--name", "x"}).exit_code, 2);  // usage error
}

TEST_F(CngkeyProtectionTest, RekeyReplacesTheMasterKeyAndKeysStillWork) {
  create_key({"--name", "signer", "--algorithm", "ECDSA_P256"});
  const std::string before = parse_status(cngkey({"status"}).out)["master key id"];
  const auto rekey = cngkey({"rekey"});
  ASSERT_EQ(rekey.exit_code, 0) << rekey.err;
  auto status = parse_status(cngkey({"status"}).out);
  EXPECT_NE(status["master key id"], before);
  EXPECT_EQ(status["encrypted keys"], "1");
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(user_dir_.string() + ".keyring") /
                                       ("master-" + before)));
  // The key still opens (show reads its properties and public key through NCryptOpenKey).
  EXPECT_EQ(show_key("signer")["Algorithm"], "ECDSA_P256");
}

}  // namespace
}  // namespace cngkey_test
