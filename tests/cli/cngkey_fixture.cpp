#include "cngkey_fixture.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "cng_common/ossl_ptr.h"

namespace cngkey_test {
namespace {

using cng::ossl::BioPtr;
using cng::ossl::BnPtr;
using cng::ossl::PkeyPtr;

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0F]);
  }
  return out;
}

// The child's complete environment: store paths, an empty HOME, and the sanitizer settings.
std::vector<std::string> child_environment(const std::filesystem::path& root,
                                           const std::filesystem::path& user_dir,
                                           const std::filesystem::path& machine_dir,
                                           const std::vector<std::string>& extra) {
  std::vector<std::string> env = {
      "CNG_PKCS11_USER_DIR=" + user_dir.string(),
      "CNG_PKCS11_MACHINE_DIR=" + machine_dir.string(),
      "HOME=" + (root / "home").string(),
      "LC_ALL=C.UTF-8",
  };
  for (const char* name : {"PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS",
                           "LD_LIBRARY_PATH"}) {
    if (const char* value = std::getenv(name)) {
      env.push_back(std::string(name) + "=" + value);
    }
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

}  // namespace

void CngkeyTest::SetUp() {
  std::string pattern = (std::filesystem::temp_directory_path() / "cngkey-test-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  root_ = pattern;
  user_dir_ = root_ / "user";
  machine_dir_ = root_ / "machine";
  std::filesystem::create_directory(root_ / "home");
}

void CngkeyTest::TearDown() {
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

ProcessResult CngkeyTest::cngkey(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {CNGKEY_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, child_environment(root_, user_dir_, machine_dir_, extra_env_));
}

ProcessResult CngkeyTest::cngkey_with_prefix(const std::vector<std::string>& prefix,
                                             const std::vector<std::string>& args) const {
  std::vector<std::string> argv = prefix;
  argv.emplace_back(CNGKEY_PATH);
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, child_environment(root_, user_dir_, machine_dir_, extra_env_));
}

ProcessResult CngkeyTest::openssl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {OPENSSL_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, child_environment(root_, user_dir_, machine_dir_, extra_env_));
}

void CngkeyTest::openssl_ok(const std::vector<std::string>& args) const {
  const ProcessResult result = openssl(args);
  ASSERT_EQ(result.exit_code, 0) << "openssl " << args.at(0) << ": " << result.err;
}

std::filesystem::path CngkeyTest::generate_key(const std::string& leaf,
                                               const std::string& kind) const {
  const auto file = path(leaf);
  if (kind == "RSA") {
    openssl_ok({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                file.string()});
  } else {
    openssl_ok({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:" + kind, "-out",
                file.string()});
  }
  return file;
}

std::filesystem::path CngkeyTest::make_certificate(const std::string& leaf,
                                                   const std::filesystem::path& key,
                                                   const std::string& subject, bool der) const {
  const auto file = path(leaf);
  openssl_ok({"req", "-new", "-x509", "-key", key.string(), "-subj", subject, "-days", "30",
              "-outform", der ? "DER" : "PEM", "-out", file.string()});
  return file;
}

void CngkeyTest::use_stores_in_this_process() const {
  ASSERT_EQ(setenv("CNG_PKCS11_USER_DIR", user_dir_.c_str(), 1), 0);
  ASSERT_EQ(setenv("CNG_PKCS11_MACHINE_DIR", machine_dir_.c_str(), 1), 0);
}

std::map<std::string, std::string> CngkeyTest::create_key(
    const std::vector<std::string>& args) const {
  std::vector<std::string> full = {"create"};
  full.insert(full.end(), args.begin(), args.end());
  const ProcessResult result = cngkey(full);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  return parse_report(result.out);
}

std::map<std::string, std::string> CngkeyTest::show_key(const std::string& name,
                                                        const std::string& scope) const {
  const ProcessResult result = cngkey({"show", "--name", name, "--scope", scope});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  return parse_report(result.out);
}

std::vector<std::vector<std::string>> CngkeyTest::list_keys(const std::string& scope,
                                                            bool long_listing) const {
  std::vector<std::string> args = {"list", "--scope", scope};
  if (long_listing) {
    args.emplace_back("--long");
  }
  const ProcessResult result = cngkey(args);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string>& fields = rows.emplace_back();
    std::istringstream cells(line);
    for (std::string field; std::getline(cells, field, '\t');) {
      fields.push_back(field);
    }
  }
  return rows;
}

std::vector<std::filesystem::path> CngkeyTest::files_under(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    return files;
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) {
      files.push_back(entry.path());
    }
  }
  return files;
}

std::map<std::string, std::string> parse_report(const std::string& text) {
  std::map<std::string, std::string> fields;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || line.starts_with("-----")) {
      continue;  // PEM lines of an ephemeral key's output
    }
    const auto value_start = line.find_first_not_of(' ', colon + 1);
    fields[line.substr(0, colon)] =
        value_start == std::string::npos ? "" : line.substr(value_start);
  }
  return fields;
}

std::string public_value_sha1(const std::filesystem::path& pem_file) {
  const std::string pem = read_file(pem_file);
  const BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  const PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ADD_FAILURE() << "OpenSSL cannot read " << pem_file;
    return {};
  }
  std::vector<unsigned char> value;
  if (EVP_PKEY_is_a(key.get(), "RSA") != 0) {
    BIGNUM* raw_n = nullptr;
    EXPECT_EQ(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &raw_n), 1);
    const BnPtr n(raw_n);
    value.resize(static_cast<std::size_t>(BN_num_bytes(n.get())));
    BN_bn2bin(n.get(), value.data());
  } else {
    std::size_t size = 0;
    EXPECT_EQ(
        EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &size), 1);
    value.resize(size);
    EXPECT_EQ(EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, value.data(),
                                              value.size(), &size),
              1);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  EXPECT_EQ(
      EVP_Digest(value.data(), value.size(), digest.data(), &digest_size, EVP_sha1(), nullptr), 1);
  return hex(digest.data(), digest_size);
}

bool verify_sha256_signature(const std::filesystem::path& pem_file, const std::string& data,
                             const std::vector<unsigned char>& signature) {
  const std::string pem = read_file(pem_file);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    bio.reset(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!key) {
    ADD_FAILURE() << "OpenSSL cannot read " << pem_file;
    return false;
  }
  std::vector<unsigned char> der_signature = signature;
  if (EVP_PKEY_is_a(key.get(), "EC") != 0) {
    // PKCS#11 ECDSA signatures are r || s; OpenSSL verifies the DER ECDSA-Sig-Value.
    const std::size_t half = signature.size() / 2;
    ECDSA_SIG* sig = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(signature.data(), static_cast<int>(half), nullptr);
    BIGNUM* s = BN_bin2bn(signature.data() + half, static_cast<int>(half), nullptr);
    if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
      ADD_FAILURE() << "cannot build ECDSA_SIG";
      return false;
    }
    unsigned char* der = nullptr;
    const int length = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (length <= 0) {
      return false;
    }
    der_signature.assign(der, der + length);
    OPENSSL_free(der);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
      EVP_DigestVerify(ctx, der_signature.data(), der_signature.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string hex_of(const std::vector<unsigned char>& bytes) {
  return hex(bytes.data(), bytes.size());
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void write_file(const std::filesystem::path& file, const std::string& content) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << content;
}

}  // namespace cngkey_test
