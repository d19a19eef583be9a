#include "store_test_util.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>

#include "cng_common/ossl_ptr.h"
#include "store/listing_cache.h"

namespace cng::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && base[0] != '\0' ? base : "/tmp") + "/cng-store-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ScopedEnv::ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
  if (const char* old = std::getenv(name)) {
    previous_ = old;
  }
  if (value) {
    ::setenv(name, value->c_str(), 1);
  } else {
    ::unsetenv(name);
  }
}

ScopedEnv::~ScopedEnv() {
  if (previous_) {
    ::setenv(name_.c_str(), previous_->c_str(), 1);
  } else {
    ::unsetenv(name_.c_str());
  }
}

StoreEnv::StoreEnv()
    : user_("CNG_PKCS11_USER_DIR", (root_.path() / "user").string()),
      machine_("CNG_PKCS11_MACHINE_DIR", (root_.path() / "machine").string()) {}

KeyRecord sample_record(const std::u16string& name, std::size_t private_size, std::uint32_t seed) {
  KeyRecord r;
  r.name = name;
  r.provider = MS_KEY_STORAGE_PROVIDER;
  r.algorithm = u"ECDSA_P256";
  r.curve_name = u"nistP256";
  r.legacy_key_spec = AT_SIGNATURE;
  r.length_bits = 256;
  r.export_policy = NCRYPT_ALLOW_EXPORT_FLAG;
  r.key_usage = NCRYPT_ALLOW_SIGNING_FLAG;
  r.created_unix_ns = 1'700'000'000'000'000'000ULL + seed;
  r.properties[u"PKCS11 Label"] = Bytes{'l', 'a', 'b', 'e', 'l'};
  r.properties[u"PKCS11 Id"] = Bytes{1, 2, 3, static_cast<std::uint8_t>(seed)};
  r.properties[u"Empty"] = Bytes{};
  r.public_blob.assign(72, static_cast<std::uint8_t>(seed * 7U));
  r.private_blob.resize(private_size);
  for (std::size_t i = 0; i < private_size; ++i) {
    r.private_blob[i] = static_cast<std::uint8_t>((i * 131U) ^ seed);
  }
  return r;
}

void expect_same_record(const KeyRecord& a, const KeyRecord& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.provider, b.provider);
  EXPECT_EQ(a.algorithm, b.algorithm);
  EXPECT_EQ(a.curve_name, b.curve_name);
  EXPECT_EQ(a.legacy_key_spec, b.legacy_key_spec);
  EXPECT_EQ(a.length_bits, b.length_bits);
  EXPECT_EQ(a.export_policy, b.export_policy);
  EXPECT_EQ(a.key_usage, b.key_usage);
  EXPECT_EQ(a.created_unix_ns, b.created_unix_ns);
  EXPECT_EQ(a.properties, b.properties);
  EXPECT_EQ(a.public_blob, b.public_blob);
  EXPECT_TRUE(a.private_blob == b.private_blob);
}

SECURITY_STATUS status_of(const std::function<void()>& call) {
  try {
    call();
    return 0;
  } catch (const CngError& e) {
    return e.status();
  } catch (...) {
    return NTE_FAIL;
  }
}

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::string> entries(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename() != store_index::kIndexDirectory) {
      out.push_back(e.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<std::string, Bytes>> snapshot(const std::filesystem::path& dir) {
  std::vector<std::pair<std::string, Bytes>> out;
  for (auto it = std::filesystem::recursive_directory_iterator(dir);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    const auto& e = *it;
    if (e.path().filename() == store_index::kIndexDirectory) {
      it.disable_recursion_pending();
      continue;
    }
    const auto rel = std::filesystem::relative(e.path(), dir).string();
    out.emplace_back(rel, e.is_regular_file() ? read_file(e.path()) : Bytes{});
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool contains(const Bytes& haystack, std::span<const std::uint8_t> needle) {
  return !needle.empty() && std::search(haystack.begin(), haystack.end(), needle.begin(),
                                        needle.end()) != haystack.end();
}

std::vector<std::string> files_containing(const std::filesystem::path& root,
                                          std::span<const std::uint8_t> needle) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && contains(read_file(entry.path()), needle)) {
      out.push_back(entry.path().string());
    }
  }
  return out;
}

std::optional<Bytes> open_with_openssl(std::span<const std::uint8_t> key, const Bytes& sealed,
                                       const Bytes& aad) {
  if (sealed.size() < 28) {
    return std::nullopt;
  }
  const cng::ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes plain(sealed.size() - 28);
  Bytes tag(sealed.end() - 16, sealed.end());
  int len = 0;
  const bool ok =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed.data()) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), plain.data(), &len, sealed.data() + 12,
                        static_cast<int>(plain.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), plain.data() + len, &len) == 1;
  return ok ? std::optional<Bytes>(plain) : std::nullopt;
}

std::vector<std::uint8_t> make_certificate(const std::string& common_name) {
  const cng::ossl::PkeyPtr key(EVP_EC_gen("P-256"));
  const cng::ossl::X509Ptr cert(X509_new());
  if (!key || !cert) {
    throw std::runtime_error("OpenSSL allocation failed");
  }
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    throw std::runtime_error("X509_sign failed");
  }
  const int len = i2d_X509(cert.get(), nullptr);
  std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_X509(cert.get(), &p);
  return der;
}

int run_in_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    return -1;
  }
  if (pid == 0) {
    int code = 125;
    try {
      code = body();
    } catch (...) {
      code = 126;
    }
    ::_exit(code);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
    return -1;
  }
  return WEXITSTATUS(status);
}

}  // namespace cng::test
