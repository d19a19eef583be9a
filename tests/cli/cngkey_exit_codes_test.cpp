// The documented exit codes (options.h, `cngkey help`), each provoked for real, and the import
// error paths: malformed files, encrypted PKCS#8, unsupported curves and key types, existing
// names, missing arguments. Failures leave the stores without a key.
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "cngkey_fixture.h"

namespace cngkey_test {
namespace {

struct Expected {
  std::vector<std::string> args;
  int exit_code;
  std::string message;  // a substring of stderr
};

class CngkeyExitTest : public CngkeyTest {
 protected:
  void expect_failure(const Expected& e) const {
    std::string shown;
    for (const auto& a : e.args) {
      shown += " '" + a + "'";
    }
    const ProcessResult result = cngkey(e.args);
    EXPECT_EQ(result.exit_code, e.exit_code) << "cngkey" << shown << "\n" << result.err;
    EXPECT_TRUE(result.err.starts_with("cngkey: ")) << shown << ": " << result.err;
    EXPECT_NE(result.err.find(e.message), std::string::npos) << shown << ": " << result.err;
    EXPECT_EQ(result.out, "") << shown;
  }
};

TEST_F(CngkeyExitTest, HelpDocumentsEveryExitCode) {
  const ProcessResult help = cngkey({"help"});
  ASSERT_EQ(help.exit_code, 0);
  for (const std::string line : {"  0  success", "  1  an NCrypt call failed", "  2  usage error",
                                 "  3  other failure", "  4  not found", "  5  already exists",
                                 "  6  permission denied", "  7  no TPM", "  8  bad input file"}) {
    EXPECT_NE(help.out.find(line), std::string::npos) << line;
  }
  for (const std::string topic : {"import", "cert"}) {
    const ProcessResult text = cngkey({"help", topic});
    EXPECT_EQ(text.exit_code, 0) << topic;
    EXPECT_NE(text.out.find("Usage: cngkey " + topic), std::string::npos) << text.out;
  }
  EXPECT_EQ(cngkey({"cert", "add", "--help"}).out, cngkey({"help", "cert"}).out);
  EXPECT_EQ(cngkey({"import", "--help"}).out, cngkey({"help", "import"}).out);
}

TEST_F(CngkeyExitTest, ImportRefusesBadFiles) {
  const auto rsa = generate_key("rsa.pem", "RSA");
  const auto k1 = generate_key("k1.pem", "secp256k1");
  const auto k1_pub = path("k1-pub.pem");
  openssl_ok({"pkey", "-in", k1.string(), "-pubout", "-out", k1_pub.string()});
  const auto ed = path("ed.pem");
  openssl_ok({"genpkey", "-algorithm", "ED25519", "-out", ed.string()});
  const auto enc_pem = path("enc.pem");
  const auto enc_der = path("enc.der");
  openssl_ok({"pkcs8", "-topk8", "-in", rsa.string(), "-passout", "pass:secret", "-out",
              enc_pem.string()});
  openssl_ok({"pkcs8", "-topk8", "-in", rsa.string(), "-passout", "pass:secret", "-outform", "DER",
              "-out", enc_der.string()});
  const auto traditional = path("traditional.pem");
  openssl_ok({"pkey", "-in", rsa.string(), "-traditional", "-out", traditional.string()});
  const auto der = path("rsa.der");
  openssl_ok({"pkcs8", "-topk8", "-nocrypt", "-in", rsa.string(), "-outform", "DER", "-out",
              der.string()});
  const std::string der_bytes = read_file(der);
  const auto truncated = path("truncated.der");
  write_file(truncated, der_bytes.substr(0, der_bytes.size() / 2));
  const auto trailing = path("trailing.der");
  write_file(trailing, der_bytes + "x");
  const auto garbage = path("garbage.bin");
  write_file(garbage, "this is not a key\n");
  const auto bad_pem = path("bad.pem");
  write_file(bad_pem, "-----BEGIN PRIVATE KEY-----\n!!!not base64!!!\n-----END PRIVATE KEY-----\n");
  const auto empty = path("empty.pem");
  write_file(empty, "");
  const auto cert = make_certificate("cert.pem", rsa, "/CN=not a key");

  const std::vector<Expected> cases = {
      {{"import", "--name", "k", garbage.string()}, 8, "not an unencrypted PKCS#8"},
      {{"import", "--name", "k", bad_pem.string()}, 8, "malformed PEM"},
      {{"import", "--name", "k", truncated.string()}, 8, "not an unencrypted PKCS#8"},
      {{"import", "--name", "k", trailing.string()}, 8, "not an unencrypted PKCS#8"},
      {{"import", "--name", "k", empty.string()}, 8, "empty file"},
      {{"import", "--name", "k", enc_pem.string()}, 8, "encrypted"},
      {{"import", "--name", "k", enc_der.string()}, 8, "encrypted PKCS#8"},
      {{"import", "--name", "k", traditional.string()}, 8, "not PKCS#8"},
      {{"import", "--name", "k", k1.string()}, 8, "unsupported curve secp256k1"},
      {{"import", "--name", "k", k1_pub.string()}, 8, "unsupported curve secp256k1"},
      {{"import", "--name", "k", ed.string()}, 8, "unsupported key type"},
      {{"import", "--name", "k", cert.string()}, 8, "PEM block 'CERTIFICATE'"},
      {{"import", "--name", "k", path("missing.pem").string()}, 3, "cannot open"},
      {{"import", rsa.string()}, 2, "import needs --name"},
      {{"import", "--name", "k"}, 2, "import needs a FILE"},
      {{"import", "--name", "k", rsa.string(), rsa.string()}, 2, "unexpected argument"},
      {{"import", "--name", "k", "--length", "2048", rsa.string()}, 2, "unknown option"},
      {{"import", "--name", "k", "--exportable", k1_pub.string()}, 8, "unsupported curve"},
      {{"cert", "add"}, 2, "cert add needs a FILE"},
      {{"cert", "remove"}, 2, "cert remove needs a certificate ID"},
      {{"cert"}, 2, "cert needs a subcommand"},
      {{"cert", "frob"}, 2, "cert needs a subcommand"},
      {{"cert", "list", "--name", "k"}, 2, "unknown option"},
      {{"cert", "add", "--label", "x", rsa.string()}, 8, "no CERTIFICATE block"},
      {{"cert", "add", garbage.string()}, 8, "not an X.509 certificate"},
      {{"show", "--name", "k", "--json", "--long"}, 2, "unknown option"},
  };
  for (const Expected& e : cases) {
    expect_failure(e);
  }
  EXPECT_TRUE(files_under(user_dir_).empty());
  EXPECT_TRUE(files_under(machine_dir_).empty());

  // --exportable on a public key is a usage error.
  const auto rsa_pub = path("rsa-pub.pem");
  openssl_ok({"pkey", "-in", rsa.string(), "-pubout", "-out", rsa_pub.string()});
  expect_failure({{"import", "--name", "k", "--exportable", rsa_pub.string()}, 2, "--exportable"});
  EXPECT_TRUE(files_under(user_dir_).empty());
}

TEST_F(CngkeyExitTest, EachCodeHasItsCause) {
  const auto key = generate_key("key.pem", "P-256");
  // 0
  ASSERT_EQ(cngkey({"import", "--name", "k", key.string()}).exit_code, 0);
  // 1: an NCrypt failure of no more specific kind (a length the provider refuses)
  const ProcessResult bad_length = cngkey({"create", "--name", "odd", "--length", "1000001"});
  EXPECT_EQ(bad_length.exit_code, 1) << bad_length.err;
  EXPECT_TRUE(std::regex_search(bad_length.err, std::regex("failed: NTE_[A-Z_]+ \\(0x8009")))
      << bad_length.err;
  // 2
  expect_failure({{"list", "--bogus"}, 2, "unknown option"});
  // 3: the --out file cannot be written
  expect_failure({{"export-public", "--name", "k", "--out", path("no/such/dir/k.pem").string()},
                  3,
                  "cannot open"});
  // 4: no such key, no such certificate
  for (const std::string command : {"show", "delete", "export-public"}) {
    expect_failure({{command, "--name", "missing"}, 4, "NTE_BAD_KEYSET"});
  }
  expect_failure({{"cert", "remove", "0123456789abcdef"}, 4, "no certificate with id"});
  // 5
  expect_failure({{"import", "--name", "k", key.string()}, 5, "NTE_EXISTS"});
  expect_failure({{"create", "--name", "k"}, 5, "NTE_EXISTS"});
  // 6: PermissionDeniedIsSix, below
  // 7: a TCTI where no TPM answers
  extra_env_ = {"CNG_PKCS11_TCTI=swtpm:host=127.0.0.1,port=1"};
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"list", "--provider", "platform"},
        {"create", "--provider", "platform", "--name", "t"},
        {"import", "--provider", "platform", "--name", "t", key.string()},
        {"cert", "list", "--provider", "platform"}}) {
    expect_failure({args, 7, "no TPM"});
  }
  // 3 for a FILE that cannot be read, 8 for one that is not a key
  expect_failure({{"import", "--name", "j", path("key.pem").string() + "x"}, 3, "cannot open"});
  write_file(path("junk"), "junk");
  expect_failure({{"import", "--name", "j", path("junk").string()}, 8, "junk"});
}

// 6: the machine store may not be used: a directory without permissions for an ordinary user;
// as root (whom modes do not stop) cngkey runs as nobody, who cannot enter the test's 0700
// root directory either.
TEST_F(CngkeyExitTest, PermissionDeniedIsSix) {
  std::filesystem::create_directories(machine_dir_);
  std::filesystem::permissions(machine_dir_, std::filesystem::perms::none);
  std::vector<std::string> prefix;
  if (geteuid() == 0) {
    prefix = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
    const ProcessResult probe = cngkey_with_prefix(prefix, {"help"});
    if (access(prefix[0].c_str(), X_OK) != 0 || probe.exit_code != 0) {
      std::filesystem::permissions(machine_dir_, std::filesystem::perms::owner_all);
      GTEST_SKIP() << "running as root and cannot run cngkey as nobody: " << probe.err;
    }
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"create", "--name", "m", "--scope", "machine"},
        {"delete", "--name", "m", "--scope", "machine"},
        {"list", "--scope", "machine"}}) {
    const ProcessResult denied = cngkey_with_prefix(prefix, args);
    EXPECT_EQ(denied.exit_code, 6) << args[0] << ": " << denied.err;
    EXPECT_NE(denied.err.find("NTE_PERM"), std::string::npos) << denied.err;
    EXPECT_EQ(denied.out, "") << args[0];
  }
  std::filesystem::permissions(machine_dir_, std::filesystem::perms::owner_all);
  EXPECT_TRUE(files_under(machine_dir_).empty());
}

}  // namespace
}  // namespace cngkey_test
