// RSA-encrypted key blobs (ncrypt.h, NCRYPT_RSA_WRAP_KEY_BLOB): a symmetric key exported
// under an RSA key decrypts with OpenSSL (same padding, hash, label) to the key's bytes; a
// key OpenSSL encrypted imports and computes what OpenSSL computes with those bytes; errors.
#include <openssl/rsa.h>

#include <memory>
#include <string>

#include "openssl_check.h"
#include "symmetric_support.h"

namespace ncrypt_test {
namespace {

// OpenSSL's RSA decryption (PKCS#1 v1.5 when md is null, else OAEP with md for MGF1 too).
Bytes ref_decrypt(EVP_PKEY* key, const Bytes& cipher, const char* md, const Bytes& label) {
  cng::ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1) {
    return {};
  }
  if (md == nullptr) {
    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING);
  } else {
    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING);
    EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_get_digestbyname(md));
    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_get_digestbyname(md));
    if (!label.empty()) {
      auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(label.data(), label.size()));
      EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), copy, static_cast<int>(label.size()));
    }
  }
  Bytes out(EVP_PKEY_get_size(key));
  std::size_t len = out.size();
  if (EVP_PKEY_decrypt(ctx.get(), out.data(), &len, cipher.data(), cipher.size()) != 1) {
    return {};
  }
  out.resize(len);
  return out;
}

// The parameter list of one padding: flag, and for OAEP the hash id and label.
class Padding {
 public:
  Padding(DWORD flag, std::u16string hash = u"", Bytes label = {})
      : flag_(flag), hash_(std::move(hash)), label_(std::move(label)) {
    buffers_[count_++] = {sizeof flag_, NCRYPTBUFFER_RSA_PADDING_FLAG, &flag_};
    if (!hash_.empty()) {
      buffers_[count_++] = {static_cast<ULONG>((hash_.size() + 1) * 2), NCRYPTBUFFER_RSA_OAEP_HASH,
                            hash_.data()};
    }
    if (!label_.empty()) {
      buffers_[count_++] = {static_cast<ULONG>(label_.size()), NCRYPTBUFFER_RSA_OAEP_LABEL,
                            label_.data()};
    }
  }
  Padding(const Padding&) = delete;
  Padding& operator=(const Padding&) = delete;
  // The list, with (for an import) the algorithm id of the unwrapped key first.
  NCryptBufferDesc* list(const char16_t* alg = nullptr) {
    all_.clear();
    if (alg != nullptr) {
      alg_ = alg;
      all_.push_back(
          {static_cast<ULONG>((alg_.size() + 1) * 2), NCRYPTBUFFER_PKCS_ALG_ID, alg_.data()});
    }
    all_.insert(all_.end(), buffers_, buffers_ + count_);
    desc_ = {NCRYPTBUFFER_VERSION, static_cast<ULONG>(all_.size()), all_.data()};
    return &desc_;
  }

 private:
  DWORD flag_;
  std::u16string hash_;
  Bytes label_;
  std::u16string alg_;
  NCryptBuffer buffers_[3] = {};
  ULONG count_ = 0;
  std::vector<NCryptBuffer> all_;
  NCryptBufferDesc desc_{};
};

class RsaKeyWrapTest : public SymmetricTest {
 protected:
  void SetUp() override {
    SymmetricTest::SetUp();
    if (IsSkipped()) {
      return;
    }
    rsa_ = create_key(u"RSA", nullptr, 0, true, 2048,
                      NCRYPT_ALLOW_EXPORT_FLAG | NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
    ossl_ = pkey_from_pkcs8(export_key(rsa_, NCRYPT_PKCS8_PRIVATE_KEY_BLOB));
    ASSERT_TRUE(ossl_);
    Bytes pub = export_key(rsa_, BCRYPT_RSAPUBLIC_BLOB);
    ASSERT_OK(NCryptImportKey(provider_, 0, BCRYPT_RSAPUBLIC_BLOB, nullptr, &public_only_,
                              pub.data(), static_cast<DWORD>(pub.size()), 0));
  }
  void TearDown() override {
    for (const auto h : {rsa_, public_only_}) {
      if (h != 0) {
        EXPECT_OK(NCryptFreeObject(h));
      }
    }
    SymmetricTest::TearDown();
  }
  NCRYPT_KEY_HANDLE secret(std::u16string_view alg, const Bytes& bytes,
                           DWORD policy = NCRYPT_ALLOW_EXPORT_FLAG) {
    Bytes blob = cipher_key_blob(alg, bytes);
    NCRYPT_KEY_HANDLE h = 0;
    EXPECT_OK(NCryptImportKey(provider_, 0, NCRYPT_CIPHER_KEY_BLOB, nullptr, &h, blob.data(),
                              static_cast<DWORD>(blob.size()), NCRYPT_DO_NOT_FINALIZE_FLAG));
    EXPECT_OK(set_dword(h, NCRYPT_EXPORT_POLICY_PROPERTY, policy));
    EXPECT_OK(NCryptFinalizeKey(h, 0));
    return h;
  }
  static SECURITY_STATUS wrap(NCRYPT_KEY_HANDLE key, NCRYPT_KEY_HANDLE kek, NCryptBufferDesc* list,
                              Bytes& out) {
    DWORD size = 0;
    SECURITY_STATUS s =
        NCryptExportKey(key, kek, NCRYPT_RSA_WRAP_KEY_BLOB, list, nullptr, 0, &size, 0);
    if (s != ERROR_SUCCESS) {
      return s;
    }
    out.assign(size, 0);
    s = NCryptExportKey(key, kek, NCRYPT_RSA_WRAP_KEY_BLOB, list, out.data(), size, &size, 0);
    out.resize(size);
    return s;
  }
  SECURITY_STATUS unwrap(NCRYPT_KEY_HANDLE kek, NCryptBufferDesc* list, Bytes data,
                         NCRYPT_KEY_HANDLE& out) {
    return NCryptImportKey(provider_, kek, NCRYPT_RSA_WRAP_KEY_BLOB, list, &out, data.data(),
                           static_cast<DWORD>(data.size()), 0);
  }

  NCRYPT_KEY_HANDLE rsa_ = 0;
  NCRYPT_KEY_HANDLE public_only_ = 0;
  Pkey ossl_;
};

struct Scheme {
  const char* md;  // nullptr: PKCS#1 v1.5
  const char16_t* hash;
};
constexpr Scheme kSchemes[] = {{nullptr, u""},        {"SHA1", u"SHA1"},     {"SHA224", u"SHA224"},
                               {"SHA256", u"SHA256"}, {"SHA384", u"SHA384"}, {"SHA512", u"SHA512"}};

TEST_F(RsaKeyWrapTest, ExportedKeyDecryptsWithOpenSsl) {
  const Bytes value = random_bytes(32);
  const NCRYPT_KEY_HANDLE key = secret(u"AES", value);
  for (const Scheme& scheme : kSchemes) {
    for (const bool labelled : {false, true}) {
      if (scheme.md == nullptr && labelled) {
        continue;
      }
      SCOPED_TRACE(std::string(scheme.md != nullptr ? scheme.md : "PKCS1") +
                   (labelled ? " label" : ""));
      const Bytes label = labelled ? text("a label") : Bytes{};
      Padding padding(scheme.md != nullptr ? NCRYPT_PAD_OAEP_FLAG : NCRYPT_PAD_PKCS1_FLAG,
                      scheme.hash, label);
      // Under the key pair and under its public half alone: each decrypts with OpenSSL.
      for (const NCRYPT_KEY_HANDLE kek : {rsa_, public_only_}) {
        Bytes wrapped;
        ASSERT_OK(wrap(key, kek, padding.list(), wrapped));
        EXPECT_EQ(wrapped.size(), 256u);
        EXPECT_EQ(ref_decrypt(ossl_.get(), wrapped, scheme.md, label), value);
      }
    }
  }
  // The size query answers the modulus length without a buffer.
  Padding pkcs1(NCRYPT_PAD_PKCS1_FLAG);
  DWORD size = 0;
  ASSERT_OK(
      NCryptExportKey(key, rsa_, NCRYPT_RSA_WRAP_KEY_BLOB, pkcs1.list(), nullptr, 0, &size, 0));
  EXPECT_EQ(size, 256u);
  Bytes small(255);
  EXPECT_STATUS(NTE_BUFFER_TOO_SMALL, NCryptExportKey(key, rsa_, NCRYPT_RSA_WRAP_KEY_BLOB,
                                                      pkcs1.list(), small.data(), 255, &size, 0));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(RsaKeyWrapTest, OpenSslEncryptedKeyImportsAndWorks) {
  for (const Scheme& scheme : kSchemes) {
    SCOPED_TRACE(scheme.md != nullptr ? scheme.md : "PKCS1");
    const Bytes label = scheme.md != nullptr ? text("label") : Bytes{};
    Padding padding(scheme.md != nullptr ? NCRYPT_PAD_OAEP_FLAG : NCRYPT_PAD_PKCS1_FLAG,
                    scheme.hash, label);
    // An AES key: ECB of a block equals OpenSSL's under the same bytes.
    const Bytes value = random_bytes(16);
    NCRYPT_KEY_HANDLE aes = 0;
    ASSERT_OK(
        unwrap(rsa_, padding.list(u"AES"), rsa_encrypt(ossl_.get(), value, scheme.md, label), aes));
    EXPECT_EQ(dword_property(aes, NCRYPT_LENGTH_PROPERTY), 128u);
    ASSERT_OK(set_mode(aes, BCRYPT_CHAIN_MODE_ECB));
    const Bytes block = random_bytes(16);
    CipherInfo info({});
    Bytes out;
    ASSERT_OK(aes_call(true, aes, block, info.get(), out));
    EXPECT_EQ(out, ref_cipher("AES-128-ECB", value, {}, block, true, false));
    // A generic secret: its HMAC equals OpenSSL's.
    const Bytes secret_value = random_bytes(20);
    NCRYPT_KEY_HANDLE mac_key = 0;
    ASSERT_OK(unwrap(rsa_, padding.list(u"GENERIC_SECRET"),
                     rsa_encrypt(ossl_.get(), secret_value, scheme.md, label), mac_key));
    NCRYPT_HMAC_PADDING_INFO hmac{NCRYPT_SHA256_ALGORITHM, 0};
    Bytes msg = text("abc");
    Bytes mac(32);
    DWORD size = 0;
    ASSERT_OK(NCryptSignHash(mac_key, &hmac, msg.data(), 3, mac.data(), 32, &size, 0));
    EXPECT_EQ(mac, ref_hmac("SHA256", secret_value, msg));
    EXPECT_OK(NCryptFreeObject(aes));
    EXPECT_OK(NCryptFreeObject(mac_key));
  }
  // A named unwrap is persisted like any imported key.
  Padding oaep(NCRYPT_PAD_OAEP_FLAG, u"SHA256");
  std::u16string name = u"rsa-unwrapped";
  NCryptBufferDesc* list = oaep.list(u"AES");
  std::vector<NCryptBuffer> named(list->pBuffers, list->pBuffers + list->cBuffers);
  named.push_back(
      {static_cast<ULONG>((name.size() + 1) * 2), NCRYPTBUFFER_PKCS_KEY_NAME, name.data()});
  NCryptBufferDesc named_list{NCRYPTBUFFER_VERSION, static_cast<ULONG>(named.size()), named.data()};
  NCRYPT_KEY_HANDLE h = 0;
  ASSERT_OK(unwrap(rsa_, &named_list, rsa_encrypt(ossl_.get(), random_bytes(32), "SHA256"), h));
  EXPECT_EQ(file_count(user_dir()), 1u);
  EXPECT_OK(NCryptFreeObject(h));
}

TEST_F(RsaKeyWrapTest, ParameterErrors) {
  const NCRYPT_KEY_HANDLE key = secret(u"AES", random_bytes(16));
  Bytes out;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, wrap(key, rsa_, nullptr, out));
  NCryptBufferDesc empty{NCRYPTBUFFER_VERSION, 0, nullptr};
  EXPECT_STATUS(NTE_INVALID_PARAMETER, wrap(key, rsa_, &empty, out));
  Padding raw(NCRYPT_NO_PADDING_FLAG);
  EXPECT_STATUS(NTE_INVALID_PARAMETER, wrap(key, rsa_, raw.list(), out));
  Padding both(NCRYPT_PAD_PKCS1_FLAG | NCRYPT_PAD_OAEP_FLAG, u"SHA256");
  EXPECT_STATUS(NTE_INVALID_PARAMETER, wrap(key, rsa_, both.list(), out));
  Padding oaep_no_hash(NCRYPT_PAD_OAEP_FLAG);
  EXPECT_STATUS(NTE_INVALID_PARAMETER, wrap(key, rsa_, oaep_no_hash.list(), out));
  Padding pkcs1_with_hash(NCRYPT_PAD_PKCS1_FLAG, u"SHA256");
  EXPECT_STATUS(NTE_INVALID_PARAMETER, wrap(key, rsa_, pkcs1_with_hash.list(), out));
  Padding pkcs1_with_label(NCRYPT_PAD_PKCS1_FLAG, u"", text("x"));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, wrap(key, rsa_, pkcs1_with_label.list(), out));
  Padding unknown(NCRYPT_PAD_OAEP_FLAG, u"SHA3");
  EXPECT_STATUS(NTE_INVALID_PARAMETER, wrap(key, rsa_, unknown.list(), out));
  Padding md5(NCRYPT_PAD_OAEP_FLAG, u"MD5");
  EXPECT_STATUS(NTE_NOT_SUPPORTED, wrap(key, rsa_, md5.list(), out));
  // The padding flag twice.
  DWORD flag = NCRYPT_PAD_PKCS1_FLAG;
  NCryptBuffer twice[2] = {{sizeof flag, NCRYPTBUFFER_RSA_PADDING_FLAG, &flag},
                           {sizeof flag, NCRYPTBUFFER_RSA_PADDING_FLAG, &flag}};
  NCryptBufferDesc twice_list{NCRYPTBUFFER_VERSION, 2, twice};
  EXPECT_STATUS(NTE_INVALID_PARAMETER, wrap(key, rsa_, &twice_list, out));
  // No wrapping key; the import needs the algorithm of the key inside.
  Padding pkcs1(NCRYPT_PAD_PKCS1_FLAG);
  EXPECT_STATUS(NTE_INVALID_PARAMETER, wrap(key, 0, pkcs1.list(), out));
  NCRYPT_KEY_HANDLE h = 0;
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                unwrap(rsa_, pkcs1.list(), rsa_encrypt(ossl_.get(), random_bytes(16)), h));
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                unwrap(rsa_, pkcs1.list(u"RSA"), rsa_encrypt(ossl_.get(), random_bytes(16)), h));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(RsaKeyWrapTest, KeyAndDataErrors) {
  Padding pkcs1(NCRYPT_PAD_PKCS1_FLAG);
  Padding oaep(NCRYPT_PAD_OAEP_FLAG, u"SHA256", text("L"));
  Bytes out;
  // Export Policy without NCRYPT_ALLOW_EXPORT_FLAG; an RSA key is not wrapped this way.
  const NCRYPT_KEY_HANDLE fixed = secret(u"AES", random_bytes(16), 0);
  EXPECT_STATUS(NTE_NOT_SUPPORTED, wrap(fixed, rsa_, pkcs1.list(), out));
  EXPECT_STATUS(NTE_BAD_TYPE, wrap(rsa_, public_only_, pkcs1.list(), out));
  // Not an RSA wrapping key; not finalized.
  const NCRYPT_KEY_HANDLE aes = secret(u"AES", random_bytes(16));
  EXPECT_STATUS(NTE_BAD_KEY, wrap(aes, aes, pkcs1.list(), out));
  NCRYPT_KEY_HANDLE unfinished = 0;
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &unfinished, u"RSA", nullptr, 0, 0));
  EXPECT_STATUS(NTE_BAD_KEY_STATE, wrap(aes, unfinished, pkcs1.list(), out));
  // Too long for the modulus: 256 - 11 bytes fit PKCS#1, one more does not; OAEP-SHA256 takes
  // 66 bytes of the 256.
  const NCRYPT_KEY_HANDLE fits = secret(u"GENERIC_SECRET", random_bytes(245));
  ASSERT_OK(wrap(fits, rsa_, pkcs1.list(), out));
  const NCRYPT_KEY_HANDLE too_long = secret(u"GENERIC_SECRET", random_bytes(246));
  EXPECT_STATUS(NTE_BAD_LEN, wrap(too_long, rsa_, pkcs1.list(), out));
  const NCRYPT_KEY_HANDLE oaep_max = secret(u"GENERIC_SECRET", random_bytes(190));
  ASSERT_OK(wrap(oaep_max, rsa_, oaep.list(), out));
  const NCRYPT_KEY_HANDLE oaep_over = secret(u"GENERIC_SECRET", random_bytes(191));
  EXPECT_STATUS(NTE_BAD_LEN, wrap(oaep_over, rsa_, oaep.list(), out));

  // Import: a public-only key cannot decrypt; Key Usage must allow decryption.
  const Bytes wrapped = rsa_encrypt(ossl_.get(), random_bytes(16), "SHA256", text("L"));
  NCRYPT_KEY_HANDLE h = 0;
  EXPECT_STATUS(NTE_BAD_KEY, unwrap(public_only_, oaep.list(u"AES"), wrapped, h));
  NCRYPT_KEY_HANDLE sign_only = create_key(u"RSA", nullptr, 0, false, 2048);
  ASSERT_OK(set_dword(sign_only, NCRYPT_KEY_USAGE_PROPERTY, NCRYPT_ALLOW_SIGNING_FLAG));
  ASSERT_OK(NCryptFinalizeKey(sign_only, 0));
  EXPECT_STATUS(NTE_PERM, unwrap(sign_only, oaep.list(u"AES"), wrapped, h));
  // The length must be the modulus length; what does not decrypt is NTE_BAD_DATA.
  EXPECT_STATUS(NTE_BAD_LEN,
                unwrap(rsa_, oaep.list(u"AES"), Bytes(wrapped.begin() + 1, wrapped.end()), h));
  Bytes longer = wrapped;
  longer.push_back(0);
  EXPECT_STATUS(NTE_BAD_LEN, unwrap(rsa_, oaep.list(u"AES"), longer, h));
  Bytes tampered = wrapped;
  tampered[100] ^= 0x40;
  EXPECT_STATUS(NTE_BAD_DATA, unwrap(rsa_, oaep.list(u"AES"), tampered, h));
  Padding other_label(NCRYPT_PAD_OAEP_FLAG, u"SHA256", text("M"));
  EXPECT_STATUS(NTE_BAD_DATA, unwrap(rsa_, other_label.list(u"AES"), wrapped, h));
  Padding other_hash(NCRYPT_PAD_OAEP_FLAG, u"SHA1", text("L"));
  EXPECT_STATUS(NTE_BAD_DATA, unwrap(rsa_, other_hash.list(u"AES"), wrapped, h));
  // 20 bytes are no AES key.
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                unwrap(rsa_, oaep.list(u"AES"),
                       rsa_encrypt(ossl_.get(), random_bytes(20), "SHA256", text("L")), h));
  for (const auto x : {fixed, aes, unfinished, fits, too_long, oaep_max, oaep_over, sign_only}) {
    EXPECT_OK(NCryptFreeObject(x));
  }
}

}  // namespace
}  // namespace ncrypt_test
