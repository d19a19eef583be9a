// cngkey failure handling: usage errors (exit 2), NCrypt errors (one clean line; exit 4 for a
// missing key, 5 for an existing one, 7 without a TPM),
// --overwrite semantics, the platform provider, help, and the PKCS#11 custom properties.
#include <regex>
#include <string>
#include <vector>

#include "cngkey_fixture.h"
#include "ncrypt.h"

namespace cngkey_test {
namespace {

const std::regex kNcryptFailureLine(
    R"(cngkey: NCrypt[A-Za-z]+ failed: NTE_[A-Z0-9_]+ \(0x[0-9A-F]{8}\)\n)");

TEST_F(CngkeyTest, HelpIsPrintedForEveryCommand) {
  const ProcessResult general = cngkey({"--help"});
  EXPECT_EQ(general.exit_code, 0);
  EXPECT_NE(general.out.find("Usage: cngkey <command>"), std::string::npos);
  for (const std::string command : {"list", "create", "show", "delete", "export-public"}) {
    const ProcessResult topic = cngkey({"help", command});
    EXPECT_EQ(topic.exit_code, 0) << command;
    EXPECT_NE(topic.out.find("Usage: cngkey " + command), std::string::npos) << topic.out;
    EXPECT_EQ(cngkey({command, "--help"}).out, topic.out);
  }
}

TEST_F(CngkeyTest, BadCommandLinesExitTwoAndCreateNothing) {
  const std::vector<std::vector<std::string>> bad_lines = {
      {},
      {"frobnicate"},
      {"help", "frobnicate"},
      {"list", "--name", "x"},
      {"list", "--scope", "global"},
      {"list", "--provider", "smartcard"},
      {"list", "extra"},
      {"create"},
      {"create", "--name"},
      {"create", "--name", ""},
      {"create", "--name", "k", "--algorithm", "DSA"},
      {"create", "--name", "k", "--length", "abc"},
      {"create", "--name", "k", "--length", "0"},
      {"create", "--name", "k", "--length", "99999999999"},
      {"create", "--name", "k", "--usage", "sign,fly"},
      {"create", "--name", "k", "--usage", ""},
      {"create", "--name", "k", "--legacy-spec", "3"},
      {"create", "--name", "k", "--overwrite=yes"},
      {"create", "--name", "k", "--name", "j"},
      {"create", "--name", "k", "--ephemeral"},
      {"create", "--ephemeral", "--overwrite"},
      {"create", "--name", "bad\xFF"},
      {"show"},
      {"show", "--name", "k", "--format", "pem"},
      {"delete", "--name", "k", "--long"},
      {"export-public", "--name", "k", "--format", "jwk"},
      {"export-public", "--name", "k", "--out", ""},
  };
  for (const auto& args : bad_lines) {
    const ProcessResult result = cngkey(args);
    std::string shown;
    for (const auto& a : args) {
      shown += " '" + a + "'";
    }
    EXPECT_EQ(result.exit_code, 2) << "cngkey" << shown << "\n" << result.err;
    EXPECT_TRUE(result.err.starts_with("cngkey: ")) << shown << ": " << result.err;
    EXPECT_EQ(result.out, "") << shown;
  }
  EXPECT_TRUE(files_under(user_dir_).empty());
  EXPECT_TRUE(files_under(machine_dir_).empty());
}

TEST_F(CngkeyTest, UnknownKeyIsNteBadKeyset) {
  for (const std::string command : {"show", "delete", "export-public"}) {
    for (const std::string scope : {"user", "machine"}) {
      const ProcessResult result = cngkey({command, "--name", "missing", "--scope", scope});
      EXPECT_EQ(result.exit_code, 4) << command;
      EXPECT_EQ(result.err, "cngkey: NCryptOpenKey failed: NTE_BAD_KEYSET (0x80090016)\n")
          << command;
      EXPECT_EQ(result.out, "") << command;
    }
  }
}

TEST_F(CngkeyTest, SecondCreateNeedsOverwrite) {
  const auto first = create_key({"--name", "dup", "--algorithm", "ECDSA_P256"});

  const ProcessResult again = cngkey({"create", "--name", "dup", "--algorithm", "ECDSA_P256"});
  EXPECT_EQ(again.exit_code, 5);
  EXPECT_TRUE(std::regex_match(again.err, kNcryptFailureLine)) << again.err;
  EXPECT_NE(again.err.find("NTE_EXISTS (0x8009000F)"), std::string::npos) << again.err;
  EXPECT_EQ(show_key("dup").at("Public key SHA-1"), first.at("Public key SHA-1"))
      << "a refused create must leave the old key alone";

  const auto replaced = create_key({"--name", "dup", "--algorithm", "ECDSA_P384", "--overwrite"});
  EXPECT_NE(replaced.at("Public key SHA-1"), first.at("Public key SHA-1"));
  const auto shown = show_key("dup");
  EXPECT_EQ(shown.at("Algorithm"), "ECDSA_P384");
  EXPECT_EQ(shown.at("Public key SHA-1"), replaced.at("Public key SHA-1"));
  const auto rows = list_keys("user");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "dup");

  // --overwrite on a fresh name simply creates the key.
  create_key({"--name", "fresh", "--algorithm", "ECDH_P256", "--overwrite"});
  EXPECT_EQ(list_keys("user").size(), 2u);
}

TEST_F(CngkeyTest, PlatformProviderFailsCleanlyWithoutATpm) {
  // No TPM answers on this TCTI (nothing listens on port 1): every platform command fails
  // with exit 7 and one line that says so, before any output.
  extra_env_ = {"CNG_PKCS11_TCTI=swtpm:host=127.0.0.1,port=1"};
  const ProcessResult result = cngkey({"list", "--provider", "platform"});
  EXPECT_EQ(result.exit_code, 7);
  EXPECT_TRUE(std::regex_match(
      result.err, std::regex(R"(cngkey: no TPM: .*NTE_DEVICE_NOT_FOUND \(0x80090035\)\n)")))
      << result.err;
  EXPECT_NE(result.err.find("swtpm:host=127.0.0.1,port=1"), std::string::npos) << result.err;
  EXPECT_EQ(result.out, "");
  for (const std::string command : {"show", "delete", "export-public"}) {
    const ProcessResult other = cngkey({command, "--provider", "platform", "--name", "k"});
    EXPECT_EQ(other.exit_code, 7) << command;
    EXPECT_EQ(other.err, result.err) << command;
  }
}

// A key made through the NCrypt API the way the PKCS#11 module makes one, with the
// "PKCS11 Label" and "PKCS11 Id" custom properties, shows them.
TEST_F(CngkeyTest, ShowsPkcs11CustomProperties) {
  ASSERT_EQ(setenv("CNG_PKCS11_USER_DIR", user_dir_.c_str(), 1), 0);
  ASSERT_EQ(setenv("CNG_PKCS11_MACHINE_DIR", machine_dir_.c_str(), 1), 0);
  NCRYPT_PROV_HANDLE provider = 0;
  ASSERT_EQ(NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0), ERROR_SUCCESS);
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_EQ(
      NCryptCreatePersistedKey(provider, &key, NCRYPT_ECDSA_P256_ALGORITHM, u"from-p11", 0, 0),
      ERROR_SUCCESS);
  std::string label = "Mail signing \xE2\x9C\x89";  // ends in U+2709
  std::vector<BYTE> id = {0x01, 0x02, 0xAB, 0xCD, 0xEF};
  EXPECT_EQ(NCryptSetProperty(key, u"PKCS11 Label", reinterpret_cast<PBYTE>(label.data()),
                              static_cast<DWORD>(label.size()), NCRYPT_PERSIST_FLAG),
            ERROR_SUCCESS);
  EXPECT_EQ(NCryptSetProperty(key, u"PKCS11 Id", id.data(), static_cast<DWORD>(id.size()),
                              NCRYPT_PERSIST_FLAG),
            ERROR_SUCCESS);
  EXPECT_EQ(NCryptFinalizeKey(key, 0), ERROR_SUCCESS);
  EXPECT_EQ(NCryptFreeObject(key), ERROR_SUCCESS);
  EXPECT_EQ(NCryptFreeObject(provider), ERROR_SUCCESS);

  const auto shown = show_key("from-p11");
  EXPECT_EQ(shown.at("PKCS11 Label"), label);
  EXPECT_EQ(shown.at("PKCS11 Id"), "0102abcdef");
  EXPECT_EQ(shown.at("Algorithm"), "ECDSA_P256");

  // A key made by cngkey has neither property.
  create_key({"--name", "plain", "--algorithm", "ECDSA_P256"});
  const auto plain = show_key("plain");
  EXPECT_FALSE(plain.contains("PKCS11 Label"));
  EXPECT_FALSE(plain.contains("PKCS11 Id"));
}

}  // namespace
}  // namespace cngkey_test
