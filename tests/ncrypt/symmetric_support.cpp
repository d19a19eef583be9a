#include "symmetric_support.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "cng_common/ossl_ptr.h"
namespace ncrypt_test {

namespace {

using CipherCtx = cng::ossl::CipherCtxPtr;

void put_le32(Bytes& out, std::size_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<std::uint8_t>((v >> (8 * i)) & 0xFF));
  }
}

}  // namespace

Bytes hex(std::string_view h) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  if (n != 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes");
  }
  return out;
}

Bytes ref_cipher(const char* cipher, const Bytes& key, const Bytes& iv, const Bytes& in,
                 bool encrypt, bool pad) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  Bytes out(in.size() + 16);
  int n = 0;
  int tail = 0;
  if (EVP_CipherInit_ex(ctx.get(), EVP_get_cipherbyname(cipher), nullptr, key.data(),
                        iv.empty() ? nullptr : iv.data(), encrypt ? 1 : 0) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), pad ? 1 : 0) != 1 ||
      EVP_CipherUpdate(ctx.get(), out.data(), &n, in.data(), static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + n, &tail) != 1) {
    throw std::runtime_error("reference cipher failed");
  }
  out.resize(static_cast<std::size_t>(n + tail));
  return out;
}

Bytes ref_gcm_encrypt(const Bytes& key, const Bytes& nonce, const Bytes& aad, const Bytes& plain,
                      std::size_t tag_len, Bytes& tag) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  const EVP_CIPHER* cipher = key.size() == 16   ? EVP_aes_128_gcm()
                             : key.size() == 24 ? EVP_aes_192_gcm()
                                                : EVP_aes_256_gcm();
  Bytes out(plain.size() + 16);
  int n = 0;
  int tail = 0;
  tag.assign(tag_len, 0);
  if (EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                          nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce.data()) != 1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &n, plain.data(), static_cast<int>(plain.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + n, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_len), tag.data()) !=
          1) {
    throw std::runtime_error("reference GCM failed");
  }
  out.resize(static_cast<std::size_t>(n + tail));
  return out;
}

Bytes ref_hmac(const char* md, const Bytes& key, const Bytes& data) {
  Bytes out(EVP_MAX_MD_SIZE);
  std::size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, md, nullptr, key.data(), key.size(), data.data(),
                data.size(), out.data(), out.size(), &len) == nullptr) {
    throw std::runtime_error("reference HMAC failed");
  }
  out.resize(len);
  return out;
}

Bytes cipher_key_blob(std::u16string_view algorithm, const Bytes& key) {
  Bytes out;
  const std::size_t name_bytes = 2 * (algorithm.size() + 1);
  put_le32(out, 16);
  put_le32(out, 0x52485043);  // 'CPHR'
  put_le32(out, name_bytes);
  put_le32(out, 12 + key.size());
  for (const char16_t c : algorithm) {
    out.push_back(static_cast<std::uint8_t>(c & 0xFF));
    out.push_back(static_cast<std::uint8_t>(c >> 8));
  }
  out.insert(out.end(), {0, 0});
  put_le32(out, 0x4d42444b);  // 'KDBM'
  put_le32(out, 1);
  put_le32(out, key.size());
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

SECURITY_STATUS aes_call(bool encrypt, NCRYPT_KEY_HANDLE key, const Bytes& in,
                         NCRYPT_CIPHER_PADDING_INFO* info, Bytes& out) {
  const auto fn = encrypt ? NCryptEncrypt : NCryptDecrypt;
  Bytes input = in;
  DWORD size = 0;
  SECURITY_STATUS s = fn(key, input.data(), static_cast<DWORD>(input.size()), info, nullptr, 0,
                         &size, NCRYPT_PAD_CIPHER_FLAG);
  if (s != ERROR_SUCCESS) {
    return s;
  }
  // A non-NULL pbOutput even for an empty result: NULL always means a size query (a GCM
  // encryption of an empty message must still run to produce its tag).
  out.assign(size + 1, 0);
  s = fn(key, input.data(), static_cast<DWORD>(input.size()), info, out.data(), size, &size,
         NCRYPT_PAD_CIPHER_FLAG);
  out.resize(size);
  return s;
}

CipherInfo::CipherInfo(Bytes iv_in, DWORD flags) : iv(std::move(iv_in)) {
  info.cbSize = sizeof info;
  info.dwFlags = flags;
  info.pbIV = iv.empty() ? nullptr : iv.data();
  info.cbIV = static_cast<ULONG>(iv.size());
}

GcmInfo::GcmInfo(Bytes nonce_in, Bytes aad_in, std::size_t tag_len)
    : nonce(std::move(nonce_in)), aad(std::move(aad_in)), tag(tag_len, 0) {
  auth.cbSize = sizeof auth;
  auth.dwInfoVersion = BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO_VERSION;
  auth.pbNonce = nonce.data();
  auth.cbNonce = static_cast<ULONG>(nonce.size());
  auth.pbAuthData = aad.empty() ? nullptr : aad.data();
  auth.cbAuthData = static_cast<ULONG>(aad.size());
  auth.pbTag = tag.data();
  auth.cbTag = static_cast<ULONG>(tag.size());
  info.cbSize = sizeof info;
  info.dwFlags = NCRYPT_CIPHER_OTHER_PADDING_FLAG;
  info.pbOtherInfo = reinterpret_cast<PUCHAR>(&auth);
  info.cbOtherInfo = sizeof auth;
}

void SymmetricTest::SetUp() {
  NCryptTest::SetUp();
  if (testing_platform()) {
    GTEST_SKIP() << "the platform provider keeps no symmetric keys";
  }
}

NCRYPT_KEY_HANDLE SymmetricTest::import_secret(std::u16string_view algorithm, const Bytes& key,
                                               const char16_t* name, DWORD flags) {
  Bytes blob = cipher_key_blob(algorithm, key);
  std::u16string key_name = name != nullptr ? name : u"";
  NCryptBuffer buffer{static_cast<ULONG>((key_name.size() + 1) * 2), NCRYPTBUFFER_PKCS_KEY_NAME,
                      key_name.data()};
  NCryptBufferDesc params{NCRYPTBUFFER_VERSION, 1, &buffer};
  NCRYPT_KEY_HANDLE h = 0;
  EXPECT_OK(NCryptImportKey(provider_, 0, NCRYPT_CIPHER_KEY_BLOB,
                            name != nullptr ? &params : nullptr, &h, blob.data(),
                            static_cast<DWORD>(blob.size()), flags));
  return h;
}

NCRYPT_KEY_HANDLE SymmetricTest::import_aes(const Bytes& key, const char16_t* mode) {
  const NCRYPT_KEY_HANDLE h = import_secret(NCRYPT_AES_ALGORITHM, key);
  EXPECT_OK(set_mode(h, mode));
  return h;
}

SECURITY_STATUS SymmetricTest::set_mode(NCRYPT_KEY_HANDLE key, const char16_t* mode) {
  const std::u16string m(mode);
  return NCryptSetProperty(key, NCRYPT_CHAINING_MODE_PROPERTY,
                           reinterpret_cast<PBYTE>(const_cast<char16_t*>(m.c_str())),
                           static_cast<DWORD>((m.size() + 1) * 2), 0);
}

}  // namespace ncrypt_test
