// cngkey --provider platform against a real TPM 2.0 simulator (swtpm, started by the test on
// free loopback ports, CNG_PKCS11_TCTI for the children and for the module in this process).
// Skipped when swtpm is not installed. Expected values come from OpenSSL and the PKCS#11 module.
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "cngkey_fixture.h"
#include "json_reader.h"
#include "p11_view.h"
#include "swtpm_process.h"

namespace cngkey_test {
namespace {

class CngkeyPlatformTest : public CngkeyTest {
 protected:
  static void SetUpTestSuite() {
    if (!platform_test::swtpm_available()) {
      return;
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "cngkey-swtpm-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return;
    }
    state_dir_ = new std::filesystem::path(pattern);
    tpm_ = new platform_test::SwtpmProcess(*state_dir_);
  }
  static void TearDownTestSuite() {
    delete tpm_;
    tpm_ = nullptr;
    if (state_dir_ != nullptr) {
      std::error_code ignored;
      std::filesystem::remove_all(*state_dir_, ignored);
      delete state_dir_;
      state_dir_ = nullptr;
    }
  }
  void SetUp() override {
    CngkeyTest::SetUp();
    if (tpm_ == nullptr) {
      GTEST_SKIP() << "swtpm is not installed";
    }
    extra_env_ = {"CNG_PKCS11_TCTI=" + tpm_->tcti()};
  }

  static platform_test::SwtpmProcess* tpm_;
  static std::filesystem::path* state_dir_;
};

platform_test::SwtpmProcess* CngkeyPlatformTest::tpm_ = nullptr;
std::filesystem::path* CngkeyPlatformTest::state_dir_ = nullptr;

JsonValue parsed(const ProcessResult& result) {
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::string error;
  auto value = parse_json(result.out, &error);
  EXPECT_TRUE(value.has_value()) << error << "\n" << result.out;
  return value.value_or(JsonValue{});
}

TEST_F(CngkeyPlatformTest, TpmKeyLifecycleWithCertificate) {
  const ProcessResult created =
      cngkey({"create", "--provider", "platform", "--name", "tpm ec", "--algorithm", "ECDSA_P256"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string id = parse_report(created.out).at("Public key SHA-1");

  const JsonValue list = parsed(cngkey({"list", "--provider", "platform", "--json"}));
  ASSERT_EQ(list.array.size(), 1u);
  EXPECT_EQ(list.array[0].at("name").str(), "tpm ec");
  EXPECT_EQ(list.array[0].at("provider").str(), "platform");
  EXPECT_TRUE(list_keys("user").empty()) << "the software provider has its own keys";
  const JsonValue shown =
      parsed(cngkey({"show", "--provider", "platform", "--name", "tpm ec", "--json"}));
  EXPECT_EQ(shown.at("algorithm").str(), "ECDSA_P256");
  EXPECT_EQ(shown.at("public_key_sha1").str(), id);

  const auto pub = path("tpm.pem");
  ASSERT_EQ(
      cngkey({"export-public", "--provider", "platform", "--name", "tpm ec", "--out", pub.string()})
          .exit_code,
      0);
  EXPECT_EQ(public_value_sha1(pub), id);

  // A certificate for the TPM key, issued by a CA key openssl holds.
  const auto ca = generate_key("ca.pem", "P-256");
  const auto cert = path("tpm.crt");
  openssl_ok({"req", "-new", "-key", ca.string(), "-subj", "/CN=unused", "-out",
              path("tpm.csr").string()});
  openssl_ok({"x509", "-req", "-in", path("tpm.csr").string(), "-signkey", ca.string(),
              "-force_pubkey", pub.string(), "-subj", "/CN=TPM device", "-out", cert.string()});
  const ProcessResult added = cngkey({"cert", "add", "--provider", "platform", cert.string()});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(parse_report(added.out).at("Linked key"), "tpm ec");
  EXPECT_EQ(parse_report(added.out).at("Key id"), id);
  EXPECT_EQ(cngkey({"cert", "list"}).out, "") << "the software store is another store";
  const JsonValue certs = parsed(cngkey({"cert", "list", "--provider", "platform", "--json"}));
  ASSERT_EQ(certs.array.size(), 1u);
  EXPECT_EQ(certs.array[0].at("key").str(), "tpm ec");

  // The module's TPM user slot (2) shows key and certificate with one CKA_ID, and the TPM
  // key's signature verifies with OpenSSL against the exported public key.
  use_stores_in_this_process();
  ASSERT_EQ(setenv("CNG_PKCS11_TCTI", tpm_->tcti().c_str(), 1), 0);
  {
    P11View p11;
    ASSERT_TRUE(p11.open(2));
    const auto keys = p11.objects(CKO_PRIVATE_KEY, "tpm ec");
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(hex_of(keys[0].id), id);
    const auto p11_certs = p11.objects(CKO_CERTIFICATE);
    ASSERT_EQ(p11_certs.size(), 1u);
    EXPECT_EQ(p11_certs[0].id, keys[0].id);
    EXPECT_EQ(p11_certs[0].label, "TPM device");
    const std::string data = "signed inside the TPM";
    CK_RV rv = CKR_OK;
    const Bytes signature =
        p11.sign(keys[0].handle, CKM_ECDSA_SHA256, Bytes(data.begin(), data.end()), &rv);
    ASSERT_EQ(rv, CKR_OK);
    EXPECT_TRUE(verify_sha256_signature(pub, data, signature));
  }

  const std::string cert_id = certs.array[0].at("id").str();
  ASSERT_EQ(cngkey({"cert", "remove", "--provider", "platform", cert_id}).exit_code, 0);
  ASSERT_EQ(cngkey({"delete", "--provider", "platform", "--name", "tpm ec"}).exit_code, 0);
  const ProcessResult gone = cngkey({"show", "--provider", "platform", "--name", "tpm ec"});
  EXPECT_EQ(gone.exit_code, 4);
  EXPECT_TRUE(parsed(cngkey({"list", "--provider", "platform", "--json"})).array.empty());
}

TEST_F(CngkeyPlatformTest, ImportsPublicKeysButNotPrivateOnes) {
  const auto key = generate_key("key.pem", "P-384");
  const auto pub = path("pub.pem");
  openssl_ok({"pkey", "-in", key.string(), "-pubout", "-out", pub.string()});
  const ProcessResult refused =
      cngkey({"import", "--provider", "platform", "--name", "private", key.string()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("cannot import a private key"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("NTE_NOT_SUPPORTED"), std::string::npos) << refused.err;

  const ProcessResult imported =
      cngkey({"import", "--provider", "platform", "--name", "verifier", pub.string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(parse_report(imported.out).at("Public key SHA-1"), public_value_sha1(pub));
  const JsonValue list = parsed(cngkey({"list", "--provider", "platform", "--json"}));
  ASSERT_EQ(list.array.size(), 1u);
  EXPECT_EQ(list.array[0].at("name").str(), "verifier");
  const ProcessResult again =
      cngkey({"import", "--provider", "platform", "--name", "verifier", pub.string()});
  EXPECT_EQ(again.exit_code, 5) << again.err;
  ASSERT_EQ(cngkey({"delete", "--provider", "platform", "--name", "verifier"}).exit_code, 0);
}

}  // namespace
}  // namespace cngkey_test
