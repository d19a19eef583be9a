// cngkey create / list / show / export-public / delete round trips, run as real processes
// against private stores; exported keys are checked with the openssl tool and OpenSSL.
#include <ostream>
#include <string>
#include <vector>

#include "cngkey_fixture.h"

namespace cngkey_test {
namespace {

class CngkeyScopeTest : public CngkeyTest, public ::testing::WithParamInterface<std::string> {
 protected:
  [[nodiscard]] std::string scope() const { return GetParam(); }
  [[nodiscard]] std::string other_scope() const {
    return GetParam() == "user" ? "machine" : "user";
  }
};

TEST_P(CngkeyScopeTest, RsaKeyRoundTrip) {
  const auto created = create_key({"--name", "rsa key", "--length", "2048", "--scope", scope()});
  EXPECT_EQ(created.at("Name"), "rsa key");
  EXPECT_EQ(created.at("Length"), "2048");

  const auto shown = show_key("rsa key", scope());
  EXPECT_EQ(shown.at("Name"), "rsa key");
  EXPECT_EQ(shown.at("Algorithm"), "RSA");
  EXPECT_EQ(shown.at("Algorithm group"), "RSA");
  EXPECT_EQ(shown.at("Length"), "2048");
  EXPECT_EQ(shown.at("Legacy key spec"), "none (0)");
  // Appended in place: "(" + scope() (a temporary) trips GCC 12 -O3 -Wrestrict.
  std::string scope_in_parens = "(";
  scope_in_parens += scope();
  scope_in_parens += ')';
  EXPECT_NE(shown.at("Key type").find(scope_in_parens), std::string::npos) << shown.at("Key type");
  EXPECT_FALSE(shown.at("Unique name").empty());
  EXPECT_TRUE(shown.contains("Modified"));
  EXPECT_EQ(shown.at("Public key SHA-1"), created.at("Public key SHA-1"));

  const auto rows = list_keys(scope());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"rsa key", "RSA", scope(), "none"}));
  EXPECT_TRUE(list_keys(other_scope()).empty()) << "scopes must be disjoint";

  // PEM: the openssl tool reads it as a 2048-bit RSA key, and the modulus hashes to the id
  // `show` printed.
  const auto pem_file = path("rsa.pem");
  ASSERT_EQ(
      cngkey({"export-public", "--name", "rsa key", "--scope", scope(), "--out", pem_file.string()})
          .exit_code,
      0);
  const ProcessResult text =
      openssl({"pkey", "-pubin", "-in", pem_file.string(), "-noout", "-text"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Public-Key: (2048 bit)"), std::string::npos) << text.out;
  EXPECT_EQ(public_value_sha1(pem_file), shown.at("Public key SHA-1"));

  // DER on stdout is the same SubjectPublicKeyInfo as openssl's conversion of the PEM.
  const ProcessResult der =
      cngkey({"export-public", "--name", "rsa key", "--scope", scope(), "--format", "der"});
  ASSERT_EQ(der.exit_code, 0) << der.err;
  const auto converted = path("converted.der");
  ASSERT_EQ(openssl({"pkey", "-pubin", "-in", pem_file.string(), "-outform", "DER", "-out",
                     converted.string()})
                .exit_code,
            0);
  EXPECT_EQ(der.out, read_file(converted));

  // The raw blob is a BCRYPT_RSAKEY_BLOB with magic RSA1 and the 2048-bit length.
  const ProcessResult blob =
      cngkey({"export-public", "--name", "rsa key", "--scope", scope(), "--format", "blob"});
  ASSERT_EQ(blob.exit_code, 0) << blob.err;
  ASSERT_GE(blob.out.size(), 24u);
  EXPECT_EQ(blob.out.substr(0, 4), "RSA1");
  unsigned bit_length = 0;  // little-endian ULONG at offset 4
  for (int i = 7; i >= 4; --i) {
    bit_length =
        (bit_length << 8) | static_cast<unsigned char>(blob.out[static_cast<std::size_t>(i)]);
  }
  EXPECT_EQ(bit_length, 2048u);

  const ProcessResult deleted = cngkey({"delete", "--name", "rsa key", "--scope", scope()});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_TRUE(list_keys(scope()).empty());
  const ProcessResult gone = cngkey({"show", "--name", "rsa key", "--scope", scope()});
  EXPECT_EQ(gone.exit_code, 4);  // not found
  EXPECT_EQ(gone.err, "cngkey: NCryptOpenKey failed: NTE_BAD_KEYSET (0x80090016)\n");
}

TEST_P(CngkeyScopeTest, SameNameInBothScopesAreDistinctKeys) {
  const auto here =
      create_key({"--name", "shared", "--algorithm", "ECDSA_P256", "--scope", scope()});
  const auto there =
      create_key({"--name", "shared", "--algorithm", "ECDSA_P384", "--scope", other_scope()});
  EXPECT_EQ(show_key("shared", scope()).at("Algorithm"), "ECDSA_P256");
  EXPECT_EQ(show_key("shared", other_scope()).at("Algorithm"), "ECDSA_P384");
  ASSERT_EQ(cngkey({"delete", "--name", "shared", "--scope", scope()}).exit_code, 0);
  EXPECT_TRUE(list_keys(scope()).empty());
  EXPECT_EQ(list_keys(other_scope()).size(), 1u);
  EXPECT_EQ(show_key("shared", other_scope()).at("Public key SHA-1"), there.at("Public key SHA-1"));
  EXPECT_NE(here.at("Public key SHA-1"), there.at("Public key SHA-1"));
}

INSTANTIATE_TEST_SUITE_P(Scopes, CngkeyScopeTest, ::testing::Values("user", "machine"));

struct CurveCase {
  std::string algorithm;
  std::string group;
  std::string bits;
  std::string nist_curve;
};

// gtest prints a failing parameter with this instead of its raw bytes.
void PrintTo(const CurveCase& c, std::ostream* os) { *os << c.algorithm; }

class CngkeyCurveTest : public CngkeyTest, public ::testing::WithParamInterface<CurveCase> {};

TEST_P(CngkeyCurveTest, EcKeyExportsNamedCurve) {
  const CurveCase& c = GetParam();
  create_key({"--name", "ec", "--algorithm", c.algorithm});
  const auto shown = show_key("ec");
  EXPECT_EQ(shown.at("Algorithm"), c.algorithm);
  EXPECT_EQ(shown.at("Algorithm group"), c.group);
  EXPECT_EQ(shown.at("Length"), c.bits);

  const auto pem_file = path("ec.pem");
  ASSERT_EQ(cngkey({"export-public", "--name", "ec", "--out", pem_file.string()}).exit_code, 0);
  const ProcessResult text =
      openssl({"pkey", "-pubin", "-in", pem_file.string(), "-noout", "-text"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("NIST CURVE: " + c.nist_curve), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Public-Key: (" + c.bits + " bit)"), std::string::npos) << text.out;
  EXPECT_EQ(public_value_sha1(pem_file), shown.at("Public key SHA-1"));

  const auto rows = list_keys("user");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], c.algorithm);
}

INSTANTIATE_TEST_SUITE_P(Curves, CngkeyCurveTest,
                         ::testing::Values(CurveCase{"ECDSA_P256", "ECDSA", "256", "P-256"},
                                           CurveCase{"ECDSA_P384", "ECDSA", "384", "P-384"},
                                           CurveCase{"ECDSA_P521", "ECDSA", "521", "P-521"},
                                           CurveCase{"ECDH_P256", "ECDH", "256", "P-256"},
                                           CurveCase{"ECDH_P384", "ECDH", "384", "P-384"},
                                           CurveCase{"ECDH_P521", "ECDH", "521", "P-521"}),
                         [](const ::testing::TestParamInfo<CurveCase>& param_info) {
                           return param_info.param.algorithm;
                         });

TEST_F(CngkeyTest, DefaultRsaLengthIsTheProvidersDefault) {
  const auto created = create_key({"--name", "default"});
  EXPECT_EQ(created.at("Algorithm"), "RSA");
  const auto pem_file = path("default.pem");
  ASSERT_EQ(cngkey({"export-public", "--name", "default", "--out", pem_file.string()}).exit_code,
            0);
  const ProcessResult text =
      openssl({"pkey", "-pubin", "-in", pem_file.string(), "-noout", "-text"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  // cngkey sets no Length, so the key has whatever length the provider reports as its own.
  EXPECT_NE(text.out.find("Public-Key: (" + created.at("Length") + " bit)"), std::string::npos)
      << text.out;
}

TEST_F(CngkeyTest, UsageExportPolicyAndLegacySpecAreApplied) {
  create_key({"--name", "signer", "--algorithm", "ECDSA_P256", "--usage", "sign", "--exportable",
              "--legacy-spec", "signature"});
  const auto shown = show_key("signer");
  EXPECT_EQ(shown.at("Key usage"), "0x00000002 (sign)");
  EXPECT_EQ(shown.at("Export policy"), "0x00000003 (export,plaintext-export)");
  EXPECT_EQ(shown.at("Legacy key spec"), "signature (2)");

  create_key({"--name", "plain", "--algorithm", "RSA", "--length", "2048", "--usage",
              "sign,decrypt", "--legacy-spec", "exchange"});
  const auto plain = show_key("plain");
  EXPECT_EQ(plain.at("Key usage"), "0x00000003 (sign,decrypt)");
  EXPECT_EQ(plain.at("Export policy"), "0x00000000 (none)");

  const auto rows = list_keys("user", /*long_listing=*/true);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0],
            (std::vector<std::string>{"plain", "RSA", "user", "exchange", "2048", "sign,decrypt"}));
  EXPECT_EQ(rows[1],
            (std::vector<std::string>{"signer", "ECDSA_P256", "user", "signature", "256", "sign"}));
}

TEST_F(CngkeyTest, ListIsSortedAndKeepsUnicodeNames) {
  const std::string unicode_name = "cl\xC3\xA9-\xCF\x80";  // "clé-π"
  for (const std::string& name : {std::string("zeta"), unicode_name, std::string("alpha")}) {
    create_key({"--name", name, "--algorithm", "ECDH_P256"});
  }
  const auto rows = list_keys("user");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "alpha");
  EXPECT_EQ(rows[1][0], unicode_name);
  EXPECT_EQ(rows[2][0], "zeta");
  for (const auto& row : rows) {
    EXPECT_EQ(row.size(), 4u);
  }
  EXPECT_EQ(show_key(unicode_name).at("Name"), unicode_name);
}

TEST_F(CngkeyTest, EphemeralKeyLeavesTheStoreEmpty) {
  const ProcessResult result = cngkey({"create", "--ephemeral", "--algorithm", "ECDSA_P384"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = parse_report(result.out);
  EXPECT_FALSE(report.contains("Name"));
  EXPECT_EQ(report.at("Algorithm"), "ECDSA_P384");

  const auto begin = result.out.find("-----BEGIN PUBLIC KEY-----");
  ASSERT_NE(begin, std::string::npos) << result.out;
  const auto pem_file = path("ephemeral.pem");
  write_file(pem_file, result.out.substr(begin));
  const ProcessResult text =
      openssl({"pkey", "-pubin", "-in", pem_file.string(), "-noout", "-text"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("NIST CURVE: P-384"), std::string::npos) << text.out;
  EXPECT_EQ(public_value_sha1(pem_file), report.at("Public key SHA-1"));

  EXPECT_TRUE(files_under(user_dir_).empty());
  EXPECT_TRUE(files_under(machine_dir_).empty());
  EXPECT_TRUE(list_keys("user").empty());
  EXPECT_TRUE(list_keys("machine").empty());
}

}  // namespace
}  // namespace cngkey_test
