// The ABI side of multi-part encryption and decryption (abi/impl_crypto.cpp) over real AES
// operations: C_EncryptUpdate/C_DecryptUpdate return output as it becomes available, a length
// query or a too-small buffer consumes nothing and keeps the operation, C_Encrypt's length
// query depends on the input, and C_DecryptFinal sizes its answer after decrypting. Keys are
// CNG AES keys imported through NCrypt (secret key objects are the object layer's business);
// expected values come from OpenSSL EVP.
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "abi/impl.h"
#include "module_test_support.h"
#include "ncrypt.h"
#include "session/module_state.h"
#include "slots/capabilities.h"
#include "slots/profile.h"

namespace module_test {
namespace {

// The software provider's capabilities, probed as C_Initialize does for slots 0 and 1.
const slots::Capabilities& software_caps() {
  static const slots::Capabilities caps = [] {
    NCRYPT_PROV_HANDLE prov = 0;
    if (NCryptOpenStorageProvider(&prov, MS_KEY_STORAGE_PROVIDER, 0) != ERROR_SUCCESS) {
      throw std::runtime_error("the software provider does not open");
    }
    slots::Capabilities c = slots::probe_capabilities(prov);
    NCryptFreeObject(prov);
    c.declared = slots::provider_profiles().front().abilities;
    return c;
  }();
  return caps;
}

using Bytes = std::vector<std::uint8_t>;
using p11::OpKind;

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes");
  }
  return out;
}

void put_le32(Bytes& out, std::size_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<std::uint8_t>((v >> (8 * i)) & 0xFF));
  }
}

// An ephemeral CNG AES key from known bytes (NCRYPT_CIPHER_KEY_BLOB built by hand).
NCRYPT_KEY_HANDLE import_aes(NCRYPT_PROV_HANDLE provider, const Bytes& key) {
  Bytes blob;
  const std::u16string name = NCRYPT_AES_ALGORITHM;
  put_le32(blob, 16);
  put_le32(blob, NCRYPT_CIPHER_KEY_BLOB_MAGIC);
  put_le32(blob, 2 * (name.size() + 1));
  put_le32(blob, 12 + key.size());
  for (const char16_t c : name) {
    blob.push_back(static_cast<std::uint8_t>(c & 0xFF));
    blob.push_back(static_cast<std::uint8_t>(c >> 8));
  }
  blob.insert(blob.end(), {0, 0});
  put_le32(blob, BCRYPT_KEY_DATA_BLOB_MAGIC);
  put_le32(blob, BCRYPT_KEY_DATA_BLOB_VERSION1);
  put_le32(blob, key.size());
  blob.insert(blob.end(), key.begin(), key.end());
  NCRYPT_KEY_HANDLE h = 0;
  EXPECT_EQ(NCryptImportKey(provider, 0, NCRYPT_CIPHER_KEY_BLOB, nullptr, &h, blob.data(),
                            static_cast<DWORD>(blob.size()), 0),
            ERROR_SUCCESS);
  return h;
}

Bytes ossl_cbc(const Bytes& key, const Bytes& iv, const Bytes& in, bool encrypt) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  Bytes out(in.size() + 16);
  int len = 0;
  int tail = 0;
  const bool ok =
      EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), nullptr, key.data(), iv.data(), encrypt ? 1 : 0) ==
          1 &&
      EVP_CipherUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) == 1 &&
      EVP_CipherFinal_ex(ctx, out.data() + len, &tail) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    throw std::runtime_error("reference cipher failed");
  }
  out.resize(static_cast<std::size_t>(len + tail));
  return out;
}

CK_RV rv_of(const std::function<CK_RV()>& f) {
  try {
    return f();
  } catch (const p11::P11Error& e) {
    return e.rv();
  }
}

class CipherWiring : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(NCryptOpenStorageProvider(&provider_, MS_KEY_STORAGE_PROVIDER, 0), ERROR_SUCCESS);
    key_bytes_ = random_bytes(16);
    handle_ = import_aes(provider_, key_bytes_);
    view_.object_class = CKO_SECRET_KEY;
    view_.key_type = CKK_AES;
    view_.bits = 128;
    view_.ncrypt_key = handle_;
    view_.handle_lock = std::make_shared<std::mutex>();
    view_.can_encrypt = view_.can_decrypt = true;
    iv_ = random_bytes(16);
  }
  void TearDown() override {
    session_.end_all();
    NCryptFreeObject(handle_);
    NCryptFreeObject(provider_);
  }

  void start(OpKind kind, CK_MECHANISM_TYPE type = CKM_AES_CBC_PAD) {
    CK_MECHANISM m{type, iv_.data(), 16};
    session_.start(kind, p11::start_operation(kind, m, &view_, software_caps()));
  }
  CK_RV update(OpKind kind, const Bytes& in, std::uint8_t* out, CK_ULONG* out_len) {
    return rv_of([&] {
      p11::impl::update_with_output(state_, session_, kind, const_cast<std::uint8_t*>(in.data()),
                                    static_cast<CK_ULONG>(in.size()), out, out_len);
      return CKR_OK;
    });
  }
  CK_RV final(OpKind kind, std::uint8_t* out, CK_ULONG* out_len) {
    return rv_of([&] { return p11::impl::final_part(state_, session_, kind, out, out_len); });
  }
  CK_RV single(OpKind kind, const Bytes& in, std::uint8_t* out, CK_ULONG* out_len) {
    return rv_of([&] {
      return p11::impl::single_part(state_, session_, kind, const_cast<std::uint8_t*>(in.data()),
                                    static_cast<CK_ULONG>(in.size()), out, out_len);
    });
  }

  p11::ModuleState state_{p11::make_os_lock_factory()};
  p11::Session session_{1, 0, false, state_.locks().make_mutex(p11::LockLevel::kSession)};
  NCRYPT_PROV_HANDLE provider_ = 0;
  NCRYPT_KEY_HANDLE handle_ = 0;
  Bytes key_bytes_;
  Bytes iv_;
  p11::KeyView view_;
};

TEST_F(CipherWiring, EncryptUpdateReturnsOutputAndHonoursTheSizeProtocol) {
  const Bytes plain = random_bytes(40);
  const Bytes expected = ossl_cbc(key_bytes_, iv_, plain, true);  // 48 bytes
  start(OpKind::kEncrypt);
  const Bytes first(plain.begin(), plain.begin() + 20);
  CK_ULONG len = 0;
  EXPECT_EQ(update(OpKind::kEncrypt, first, nullptr, &len), CKR_OK);  // length query
  EXPECT_EQ(len, 16U);
  Bytes out(64);
  len = 15;
  EXPECT_EQ(update(OpKind::kEncrypt, first, out.data(), &len), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 16U);
  EXPECT_TRUE(session_.has_active(OpKind::kEncrypt));
  len = 64;
  ASSERT_EQ(update(OpKind::kEncrypt, first, out.data(), &len), CKR_OK);  // nothing was consumed
  ASSERT_EQ(len, 16U);
  Bytes got(out.begin(), out.begin() + 16);
  // A single-part call after an update is refused; the operation goes on.
  EXPECT_EQ(single(OpKind::kEncrypt, plain, out.data(), &len), CKR_OPERATION_ACTIVE);
  len = 64;
  ASSERT_EQ(update(OpKind::kEncrypt, Bytes(plain.begin() + 20, plain.end()), out.data(), &len),
            CKR_OK);
  ASSERT_EQ(len, 16U);
  got.insert(got.end(), out.begin(), out.begin() + 16);
  len = 0;
  EXPECT_EQ(final(OpKind::kEncrypt, nullptr, &len), CKR_OK);
  EXPECT_EQ(len, 16U);
  len = 64;
  ASSERT_EQ(final(OpKind::kEncrypt, out.data(), &len), CKR_OK);
  got.insert(got.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(len));
  EXPECT_EQ(got, expected);
  EXPECT_FALSE(session_.has_active(OpKind::kEncrypt));
}

TEST_F(CipherWiring, SinglePartLengthQueryDependsOnTheInput) {
  const Bytes plain = random_bytes(33);
  start(OpKind::kEncrypt);
  CK_ULONG len = 0;
  EXPECT_EQ(single(OpKind::kEncrypt, plain, nullptr, &len), CKR_OK);
  EXPECT_EQ(len, 48U);
  Bytes out(48);
  len = 47;
  EXPECT_EQ(single(OpKind::kEncrypt, plain, out.data(), &len), CKR_BUFFER_TOO_SMALL);
  len = 48;
  ASSERT_EQ(single(OpKind::kEncrypt, plain, out.data(), &len), CKR_OK);
  EXPECT_EQ(out, ossl_cbc(key_bytes_, iv_, plain, true));
  // Decrypt: an upper bound first, then the exact size after a too-small buffer.
  start(OpKind::kDecrypt);
  len = 0;
  EXPECT_EQ(single(OpKind::kDecrypt, out, nullptr, &len), CKR_OK);
  EXPECT_EQ(len, 48U);
  Bytes back(48);
  len = 10;
  EXPECT_EQ(single(OpKind::kDecrypt, out, back.data(), &len), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 33U);
  ASSERT_EQ(single(OpKind::kDecrypt, out, back.data(), &len), CKR_OK);
  back.resize(len);
  EXPECT_EQ(back, plain);
}

TEST_F(CipherWiring, DecryptHoldsBackAndFinalSizesAfterDecrypting) {
  const Bytes plain = random_bytes(20);
  const Bytes cipher = ossl_cbc(key_bytes_, iv_, plain, true);  // 32 bytes
  start(OpKind::kDecrypt);
  Bytes out(64);
  CK_ULONG len = 64;
  ASSERT_EQ(update(OpKind::kDecrypt, cipher, out.data(), &len), CKR_OK);
  ASSERT_EQ(len, 16U);  // the last block waits for C_DecryptFinal
  Bytes got(out.begin(), out.begin() + 16);
  len = 0;
  EXPECT_EQ(final(OpKind::kDecrypt, nullptr, &len), CKR_OK);
  EXPECT_EQ(len, 15U);  // upper bound
  len = 3;
  EXPECT_EQ(final(OpKind::kDecrypt, out.data(), &len), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 4U);  // exact
  ASSERT_EQ(final(OpKind::kDecrypt, out.data(), &len), CKR_OK);
  got.insert(got.end(), out.begin(), out.begin() + 4);
  EXPECT_EQ(got, plain);
  EXPECT_FALSE(session_.has_active(OpKind::kDecrypt));
}

TEST_F(CipherWiring, ErrorsEndTheOperation) {
  start(OpKind::kEncrypt, CKM_AES_CBC);
  Bytes out(64);
  CK_ULONG len = 64;
  ASSERT_EQ(update(OpKind::kEncrypt, random_bytes(20), out.data(), &len), CKR_OK);
  EXPECT_EQ(len, 16U);
  len = 64;
  EXPECT_EQ(final(OpKind::kEncrypt, out.data(), &len), CKR_DATA_LEN_RANGE);
  EXPECT_FALSE(session_.has_active(OpKind::kEncrypt));
  len = 64;
  EXPECT_EQ(update(OpKind::kEncrypt, random_bytes(16), out.data(), &len),
            CKR_OPERATION_NOT_INITIALIZED);
  start(OpKind::kDecrypt);
  EXPECT_EQ(update(OpKind::kDecrypt, random_bytes(16), out.data(), nullptr), CKR_ARGUMENTS_BAD);
  EXPECT_FALSE(session_.has_active(OpKind::kDecrypt));
}

}  // namespace
}  // namespace module_test
