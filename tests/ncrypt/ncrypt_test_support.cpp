#include "ncrypt_test_support.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "api/boundary.h"

namespace ncrypt_test {

std::string status_text(SECURITY_STATUS status) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", static_cast<unsigned>(status));
  std::string text = hex;
  if (status != ERROR_SUCCESS) {
    text += " (";
    text += cng::api::last_failure_cause();
    text += ")";
  }
  return text;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ncrypt-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::size_t file_count(const std::filesystem::path& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) {
      ++n;
    }
  }
  return n;
}

std::vector<std::pair<std::string, Bytes>> snapshot(const std::filesystem::path& dir) {
  std::vector<std::pair<std::string, Bytes>> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(entry.path(), std::ios::binary);
    out.emplace_back(entry.path().filename().string(),
                     Bytes(std::istreambuf_iterator<char>(in), {}));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void NCryptTest::SetUp() {
  root_ = std::make_unique<TempDir>();
  user_dir_ = root_->path() / "user";
  machine_dir_ = root_->path() / "machine";
  ::setenv("CNG_PKCS11_USER_DIR", user_dir_.c_str(), 1);
  ::setenv("CNG_PKCS11_MACHINE_DIR", machine_dir_.c_str(), 1);
  ASSERT_OK(NCryptOpenStorageProvider(&provider_, provider_name(), 0));
}

bool NCryptTest::testing_platform() {
  const char* which = std::getenv("CNG_TEST_PROVIDER");
  return which != nullptr && std::string_view(which) == "platform";
}

const char16_t* NCryptTest::provider_name() {
  return testing_platform() ? MS_PLATFORM_CRYPTO_PROVIDER : MS_KEY_STORAGE_PROVIDER;
}

void NCryptTest::TearDown() {
  if (provider_ != 0) {
    EXPECT_OK(NCryptFreeObject(provider_));
  }
  root_.reset();
}

NCRYPT_KEY_HANDLE NCryptTest::create_key(const char16_t* alg, const char16_t* name, DWORD flags,
                                         bool finalize, DWORD rsa_bits, DWORD export_policy) {
  NCRYPT_KEY_HANDLE key = 0;
  const SECURITY_STATUS s = NCryptCreatePersistedKey(provider_, &key, alg, name, 0, flags);
  EXPECT_EQ(s, ERROR_SUCCESS) << status_text(s);
  if (rsa_bits != 0) {
    EXPECT_OK(set_dword(key, NCRYPT_LENGTH_PROPERTY, rsa_bits));
  }
  if (export_policy != 0) {
    EXPECT_OK(set_dword(key, NCRYPT_EXPORT_POLICY_PROPERTY, export_policy));
  }
  if (finalize) {
    EXPECT_OK(NCryptFinalizeKey(key, 0));
  }
  return key;
}

SECURITY_STATUS get_dword(NCRYPT_HANDLE h, const char16_t* property, DWORD& value, DWORD flags) {
  DWORD size = 0;
  const SECURITY_STATUS s =
      NCryptGetProperty(h, property, reinterpret_cast<PBYTE>(&value), sizeof value, &size, flags);
  if (s == ERROR_SUCCESS) {
    EXPECT_EQ(size, sizeof(DWORD));
  }
  return s;
}

DWORD dword_property(NCRYPT_HANDLE h, const char16_t* property) {
  DWORD value = 0xDEADBEEF;
  EXPECT_OK(get_dword(h, property, value));
  return value;
}

std::u16string string_property(NCRYPT_HANDLE h, const char16_t* property) {
  DWORD size = 0;
  EXPECT_OK(NCryptGetProperty(h, property, nullptr, 0, &size, 0));
  std::u16string value(size / 2, u'\0');
  EXPECT_OK(NCryptGetProperty(h, property, reinterpret_cast<PBYTE>(value.data()), size, &size, 0));
  while (!value.empty() && value.back() == u'\0') {
    value.pop_back();
  }
  return value;
}

SECURITY_STATUS set_dword(NCRYPT_HANDLE h, const char16_t* property, DWORD value, DWORD flags) {
  return NCryptSetProperty(h, property, reinterpret_cast<PBYTE>(&value), sizeof value, flags);
}

SECURITY_STATUS try_export(NCRYPT_KEY_HANDLE h, const char16_t* blob_type, Bytes& out) {
  DWORD size = 0;
  SECURITY_STATUS s = NCryptExportKey(h, 0, blob_type, nullptr, nullptr, 0, &size, 0);
  if (s != ERROR_SUCCESS) {
    return s;
  }
  out.resize(size);
  s = NCryptExportKey(h, 0, blob_type, nullptr, out.data(), size, &size, 0);
  out.resize(size);
  return s;
}

Bytes export_key(NCRYPT_KEY_HANDLE h, const char16_t* blob_type) {
  Bytes out;
  EXPECT_OK(try_export(h, blob_type, out));
  return out;
}

}  // namespace ncrypt_test
