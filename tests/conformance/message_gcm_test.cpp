// PKCS#11 3.0 message-based encryption and decryption with CKM_AES_GCM (CK_GCM_MESSAGE_PARAMS)
// through CK_FUNCTION_LIST_3_0. Expected values: the test cases of McGrew and Viega, "The
// Galois/Counter Mode of Operation (GCM)" (the GCM specification submitted to NIST, test cases
// 3, 4 and 16), and OpenSSL's EVP AES-GCM for everything else.
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <set>

#include "p11_fixture.h"

namespace conf {
namespace {

Bytes H(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<CK_BYTE>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

Bytes Random(size_t n) {
  Bytes b(n);
  RAND_bytes(b.data(), static_cast<int>(n));
  return b;
}

// The GCM specification's test cases: K, P and IV of cases 3/4, A of 4 and 16.
const Bytes kKey128 = H("feffe9928665731c6d6a8f9467308308");
const Bytes kKey256 = H("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
const Bytes kIv = H("cafebabefacedbaddecaf888");
const Bytes kPlain3 = H(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b5"
    "25b16aedf5aa0de657ba637b391aafd255");
const Bytes kPlain4(kPlain3.begin(), kPlain3.begin() + 60);
const Bytes kAad = H("feedfacedeadbeeffeedfacedeadbeefabaddad2");
const Bytes kCipher3 = H(
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa"
    "051ba30b396a0aac973d58e091473f5985");
const Bytes kTag3 = H("4d5c2af327cd64a62cf35abd2ba6fab4");
const Bytes kCipher4(kCipher3.begin(), kCipher3.begin() + 60);
const Bytes kTag4 = H("5bc94fbc3221a5db94fae95ae7121a47");
const Bytes kCipher16 = H(
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10568288"
    "38c5f61e6393ba7a0abcc9f662");
const Bytes kTag16 = H("76fc6ece0f4e1768cddf8853bb2d551b");

// OpenSSL's AES-GCM encryption: ciphertext and the tag of tag_len bytes.
std::pair<Bytes, Bytes> OsslGcm(const Bytes& key, const Bytes& iv, const Bytes& aad,
                                const Bytes& in, size_t tag_len) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const EVP_CIPHER* cipher = key.size() == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  EVP_EncryptInit_ex(ctx, cipher, nullptr, nullptr, nullptr);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr);
  EVP_EncryptInit_ex(ctx, nullptr, nullptr, key.data(), iv.data());
  int len = 0;
  if (!aad.empty()) {
    EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size()));
  }
  Bytes out(in.size() + 16);
  EVP_EncryptUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size()));
  int total = len;
  EVP_EncryptFinal_ex(ctx, out.data() + total, &len);
  out.resize(static_cast<size_t>(total + len));
  Bytes tag(tag_len);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_len), tag.data());
  EVP_CIPHER_CTX_free(ctx);
  return {out, tag};
}

class MessageGcmTest : public P11Test {
 protected:
  void SetUp() override {
    P11Test::SetUp();
    ASSERT_NE(f3_, nullptr) << "no PKCS#11 3.0 function list";
    REQUIRE_MECHANISM(CKM_AES_GCM);  // the platform (TPM) slots keep no AES keys
    s_ = OpenSession();
  }

  CK_OBJECT_HANDLE Aes(const Bytes& value, bool usable = true) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Raw(CKA_VALUE, value);
    t.Bool(CKA_TOKEN, false).Bool(CKA_ENCRYPT, usable).Bool(CKA_DECRYPT, usable);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR(CKR_OK, f_->C_CreateObject(s_, t.data(), t.size(), &h));
    return h;
  }

  // A parameter over the test's iv_ and tag_ buffers.
  CK_GCM_MESSAGE_PARAMS Params(CK_GENERATOR_FUNCTION gen = CKG_NO_GENERATE, CK_ULONG fixed = 0,
                               CK_ULONG tag_bits = 128) {
    tag_.assign(tag_bits / 8, 0);
    return CK_GCM_MESSAGE_PARAMS{iv_.data(), iv_.size(), fixed, gen, tag_.data(), tag_bits};
  }

  // C_EncryptMessage with the length query first; the ciphertext (empty on failure).
  Bytes Encrypt(CK_GCM_MESSAGE_PARAMS& p, const Bytes& aad, Bytes plain, CK_RV* rv = nullptr) {
    CK_ULONG len = 0;
    CK_RV r = f3_->C_EncryptMessage(s_, &p, sizeof p, Ptr(aad), Len(aad), plain.data(), Len(plain),
                                    nullptr, &len);
    Bytes out;
    if (r == CKR_OK) {
      EXPECT_EQ(len, plain.size()) << "the ciphertext is as long as the plaintext";
      out.assign(len + 1, 0);  // never a NULL buffer, even for an empty message
      r = f3_->C_EncryptMessage(s_, &p, sizeof p, Ptr(aad), Len(aad), plain.data(), Len(plain),
                                out.data(), &len);
      out.resize(r == CKR_OK ? len : 0);
    }
    if (rv != nullptr) {
      *rv = r;
    }
    return out;
  }
  Bytes Decrypt(CK_GCM_MESSAGE_PARAMS& p, const Bytes& aad, Bytes cipher, CK_RV* rv = nullptr) {
    Bytes out(cipher.size() + 1, 0);
    CK_ULONG len = static_cast<CK_ULONG>(out.size());
    const CK_RV r = f3_->C_DecryptMessage(s_, &p, sizeof p, Ptr(aad), Len(aad), cipher.data(),
                                          Len(cipher), out.data(), &len);
    out.resize(r == CKR_OK ? len : 0);
    if (rv != nullptr) {
      *rv = r;
    }
    return out;
  }
  // Begin, then Next over parts of `chunk` bytes, the last with CKF_END_OF_MESSAGE.
  Bytes MultiPart(bool encrypt, CK_GCM_MESSAGE_PARAMS& p, const Bytes& aad, Bytes in,
                  size_t chunk) {
    const auto begin = encrypt ? f3_->C_EncryptMessageBegin : f3_->C_DecryptMessageBegin;
    const auto next = encrypt ? f3_->C_EncryptMessageNext : f3_->C_DecryptMessageNext;
    EXPECT_CKR(CKR_OK, begin(s_, &p, sizeof p, Ptr(aad), Len(aad)));
    Bytes out;
    for (size_t at = 0;;) {
      const size_t n = std::min(chunk, in.size() - at);
      const bool last = at + n == in.size();
      const CK_FLAGS flags = last ? CKF_END_OF_MESSAGE : 0;
      CK_ULONG len = 0;
      EXPECT_CKR(CKR_OK, next(s_, &p, sizeof p, in.data() + at, static_cast<CK_ULONG>(n), nullptr,
                              &len, flags));
      Bytes part(len + 1, 0);
      EXPECT_CKR(CKR_OK, next(s_, &p, sizeof p, in.data() + at, static_cast<CK_ULONG>(n),
                              part.data(), &len, flags));
      if (!last) {
        EXPECT_EQ(len, 0UL) << "GCM parts are released at the end of the message";
      }
      out.insert(out.end(), part.begin(), part.begin() + static_cast<std::ptrdiff_t>(len));
      at += n;
      if (last) {
        return out;
      }
    }
  }

  static CK_BYTE_PTR Ptr(const Bytes& b) {
    return b.empty() ? nullptr : const_cast<CK_BYTE*>(b.data());
  }
  static CK_ULONG Len(const Bytes& b) { return static_cast<CK_ULONG>(b.size()); }

  CK_SESSION_HANDLE s_ = CK_INVALID_HANDLE;
  Bytes iv_ = kIv;
  Bytes tag_;
  CK_MECHANISM gcm_{CKM_AES_GCM, nullptr, 0};
};

TEST_F(MessageGcmTest, MechanismInfoHasMessageFlags) {
  CK_MECHANISM_INFO info{};
  ASSERT_CKR(CKR_OK, f3_->C_GetMechanismInfo(kUserSlot, CKM_AES_GCM, &info));
  EXPECT_EQ(info.flags & (CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT),
            CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT);
  EXPECT_EQ(info.flags & (CKF_MESSAGE_SIGN | CKF_MESSAGE_VERIFY), 0UL);
}

// Test cases 3 (no AAD) and 4 (AAD) under one key, two messages in one operation each way.
TEST_F(MessageGcmTest, GcmSpecVectors128SeveralMessages) {
  const CK_OBJECT_HANDLE key = Aes(kKey128);
  ASSERT_CKR(CKR_OK, f3_->C_MessageEncryptInit(s_, &gcm_, key));
  auto p = Params();
  EXPECT_EQ(Hex(Encrypt(p, {}, kPlain3)), Hex(kCipher3));
  EXPECT_EQ(Hex(tag_), Hex(kTag3));
  EXPECT_EQ(Hex(iv_), Hex(kIv)) << "CKG_NO_GENERATE leaves the IV alone";
  p = Params();
  EXPECT_EQ(Hex(Encrypt(p, kAad, kPlain4)), Hex(kCipher4));
  EXPECT_EQ(Hex(tag_), Hex(kTag4));
  EXPECT_CKR(CKR_OK, f3_->C_MessageEncryptFinal(s_));

  ASSERT_CKR(CKR_OK, f3_->C_MessageDecryptInit(s_, &gcm_, key));
  p = Params();
  tag_ = kTag4;
  EXPECT_EQ(Hex(Decrypt(p, kAad, kCipher4)), Hex(kPlain4));
  p = Params();
  tag_ = kTag3;
  EXPECT_EQ(Hex(Decrypt(p, {}, kCipher3)), Hex(kPlain3));
  EXPECT_CKR(CKR_OK, f3_->C_MessageDecryptFinal(s_));
}

TEST_F(MessageGcmTest, GcmSpecVector256WithAad) {
  const CK_OBJECT_HANDLE key = Aes(kKey256);
  ASSERT_CKR(CKR_OK, f3_->C_MessageEncryptInit(s_, &gcm_, key));
  auto p = Params();
  EXPECT_EQ(Hex(Encrypt(p, kAad, kPlain4)), Hex(kCipher16));
  EXPECT_EQ(Hex(tag_), Hex(kTag16));
  ASSERT_CKR(CKR_OK, f3_->C_MessageDecryptInit(s_, &gcm_, key));
  p = Params();
  tag_ = kTag16;
  EXPECT_EQ(Hex(MultiPart(false, p, kAad, kCipher16, 7)), Hex(kPlain4));
}

TEST_F(MessageGcmTest, MultiPartEqualsSinglePartAndOpenSsl) {
  for (const size_t key_len : {16U, 32U}) {
    const Bytes value = Random(key_len);
    const CK_OBJECT_HANDLE key = Aes(value);
    const Bytes aad = Random(45);
    const Bytes plain = Random(1000);
    iv_ = Random(12);
    const auto [expected, expected_tag] = OsslGcm(value, iv_, aad, plain, 12);
    ASSERT_CKR(CKR_OK, f3_->C_MessageEncryptInit(s_, &gcm_, key));
    auto p = Params(CKG_NO_GENERATE, 0, 96);
    EXPECT_EQ(Hex(Encrypt(p, aad, plain)), Hex(expected));
    EXPECT_EQ(Hex(tag_), Hex(expected_tag));
    for (const size_t chunk : {1U, 16U, 333U, 1000U}) {
      p = Params(CKG_NO_GENERATE, 0, 96);
      EXPECT_EQ(Hex(MultiPart(true, p, aad, plain, chunk)), Hex(expected)) << chunk;
      EXPECT_EQ(Hex(tag_), Hex(expected_tag)) << chunk;
    }
    EXPECT_CKR(CKR_OK, f3_->C_MessageEncryptFinal(s_));
    ASSERT_CKR(CKR_OK, f3_->C_MessageDecryptInit(s_, &gcm_, key));
    p = Params(CKG_NO_GENERATE, 0, 96);
    tag_ = expected_tag;
    EXPECT_EQ(Hex(MultiPart(false, p, aad, expected, 100)), Hex(plain));
    EXPECT_CKR(CKR_OK, f3_->C_MessageDecryptFinal(s_));
  }
}

TEST_F(MessageGcmTest, CounterGeneratorKeepsFixedPartAndCounts) {
  const Bytes value = Random(16);
  const CK_OBJECT_HANDLE key = Aes(value);
  ASSERT_CKR(CKR_OK, f3_->C_MessageEncryptInit(s_, &gcm_, key));
  const Bytes plain = Random(40);
  for (unsigned i = 0; i < 3; ++i) {
    iv_ = H("a1b2c3d4ffffffffffffffff");  // the 32 fixed bits, then anything
    auto p = Params(CKG_GENERATE_COUNTER, 32);
    if (i == 0) {
      CK_ULONG len = 0;  // a length query makes no IV
      ASSERT_CKR(CKR_OK, f3_->C_EncryptMessage(s_, &p, sizeof p, nullptr, 0,
                                               const_cast<CK_BYTE*>(plain.data()), Len(plain),
                                               nullptr, &len));
      EXPECT_EQ(Hex(iv_), "a1b2c3d4ffffffffffffffff");
    }
    const Bytes cipher = Encrypt(p, {}, plain);
    Bytes expected_iv = H("a1b2c3d40000000000000000");
    expected_iv.back() = static_cast<CK_BYTE>(i);
    EXPECT_EQ(Hex(iv_), Hex(expected_iv)) << "message " << i;
    const auto [expected, expected_tag] = OsslGcm(value, expected_iv, {}, plain, 16);
    EXPECT_EQ(Hex(cipher), Hex(expected));
    EXPECT_EQ(Hex(tag_), Hex(expected_tag));
  }
}

TEST_F(MessageGcmTest, CounterRunsOut) {
  const CK_OBJECT_HANDLE key = Aes(Random(16));
  ASSERT_CKR(CKR_OK, f3_->C_MessageEncryptInit(s_, &gcm_, key));
  std::set<Bytes> seen;
  for (int i = 0; i < 4; ++i) {  // 96 - 94 = 2 free bits: four IVs
    auto p = Params(CKG_GENERATE, 94);
    CK_RV rv = CKR_GENERAL_ERROR;
    Encrypt(p, {}, Random(8), &rv);
    EXPECT_CKR(CKR_OK, rv);
    seen.insert(iv_);
  }
  EXPECT_EQ(seen.size(), 4U);
  auto p = Params(CKG_GENERATE, 94);
  CK_RV rv = CKR_OK;
  Encrypt(p, {}, Random(8), &rv);
  EXPECT_CKR(CKR_DATA_LEN_RANGE, rv);
}

TEST_F(MessageGcmTest, RandomGeneratorKeepsFixedPartAndIsUnique) {
  const Bytes value = Random(32);
  const CK_OBJECT_HANDLE key = Aes(value);
  ASSERT_CKR(CKR_OK, f3_->C_MessageEncryptInit(s_, &gcm_, key));
  const Bytes plain = Random(33);
  std::set<Bytes> ivs;
  std::vector<std::pair<Bytes, Bytes>> messages;  // (iv, cipher || tag)
  for (int i = 0; i < 8; ++i) {
    iv_ = H("0102030400000000000000000000000000");  // 17 bytes, 32 fixed bits
    auto p = Params(CKG_GENERATE_RANDOM, 32);
    Bytes cipher = Encrypt(p, kAad, plain);
    EXPECT_EQ(Hex(Bytes(iv_.begin(), iv_.begin() + 4)), "01020304");
    ivs.insert(iv_);
    const auto [expected, expected_tag] = OsslGcm(value, iv_, kAad, plain, 16);
    EXPECT_EQ(Hex(cipher), Hex(expected));
    EXPECT_EQ(Hex(tag_), Hex(expected_tag));
    cipher.insert(cipher.end(), tag_.begin(), tag_.end());
    messages.emplace_back(iv_, cipher);
  }
  EXPECT_EQ(ivs.size(), 8U) << "every message gets its own IV";
  // A decrypting operation takes pIv as given (ivGenerator is ignored there).
  ASSERT_CKR(CKR_OK, f3_->C_MessageDecryptInit(s_, &gcm_, key));
  for (auto& [iv, both] : messages) {
    iv_ = iv;
    auto p = Params(CKG_GENERATE_RANDOM, 32);
    tag_.assign(both.end() - 16, both.end());
    EXPECT_EQ(Hex(Decrypt(p, kAad, Bytes(both.begin(), both.end() - 16))), Hex(plain));
    EXPECT_EQ(Hex(iv_), Hex(iv));
  }
}

TEST_F(MessageGcmTest, TamperedMessagesAreRefusedAndTheOperationGoesOn) {
  const CK_OBJECT_HANDLE key = Aes(kKey128);
  ASSERT_CKR(CKR_OK, f3_->C_MessageDecryptInit(s_, &gcm_, key));
  const auto refused = [&](Bytes tag, const Bytes& aad, const Bytes& cipher) {
    auto p = Params();
    ASSERT_EQ(tag.size(), tag_.size());
    tag_.assign(tag.begin(), tag.end());  // into the buffer p.pTag points at (no reallocation)
    CK_RV rv = CKR_OK;
    EXPECT_TRUE(Decrypt(p, aad, cipher, &rv).empty());
    EXPECT_CKR(CKR_ENCRYPTED_DATA_INVALID, rv);
  };
  Bytes tag = kTag4;
  tag[5] ^= 0x01;
  refused(tag, kAad, kCipher4);
  Bytes cipher = kCipher4;
  cipher[59] ^= 0x80;
  refused(kTag4, kAad, cipher);
  Bytes aad = kAad;
  aad[0] ^= 0x01;
  refused(kTag4, aad, kCipher4);
  refused(kTag4, {}, kCipher4);
  // Multi-part: a bad tag at the end releases nothing.
  auto p = Params();
  tag_ = kTag4;
  tag_[15] ^= 0x01;
  ASSERT_CKR(CKR_OK, f3_->C_DecryptMessageBegin(s_, &p, sizeof p, Ptr(kAad), Len(kAad)));
  Bytes out(64, 0);
  CK_ULONG len = static_cast<CK_ULONG>(out.size());
  cipher = kCipher4;
  EXPECT_CKR(CKR_ENCRYPTED_DATA_INVALID,
             f3_->C_DecryptMessageNext(s_, &p, sizeof p, cipher.data(), Len(cipher), out.data(),
                                       &len, CKF_END_OF_MESSAGE));
  EXPECT_EQ(out, Bytes(64, 0));
  // The message-based operation is still there: the genuine message decrypts.
  p = Params();
  tag_ = kTag4;
  EXPECT_EQ(Hex(Decrypt(p, kAad, kCipher4)), Hex(kPlain4));
}

TEST_F(MessageGcmTest, BadParametersGetTheirCodes) {
  const CK_OBJECT_HANDLE key = Aes(kKey128);
  CK_MECHANISM with_param{CKM_AES_GCM, iv_.data(), Len(iv_)};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f3_->C_MessageEncryptInit(s_, &with_param, key));
  ASSERT_CKR(CKR_OK, f3_->C_MessageEncryptInit(s_, &gcm_, key));
  Bytes plain = kPlain4;
  Bytes out(64);
  const auto rv_of = [&](CK_GCM_MESSAGE_PARAMS p,
                         CK_ULONG param_len = sizeof(CK_GCM_MESSAGE_PARAMS)) {
    CK_ULONG len = static_cast<CK_ULONG>(out.size());
    return f3_->C_EncryptMessage(s_, &p, param_len, nullptr, 0, plain.data(), Len(plain),
                                 out.data(), &len);
  };
  EXPECT_CKR(CKR_ARGUMENTS_BAD, rv_of(Params(), sizeof(CK_GCM_MESSAGE_PARAMS) - 1));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, rv_of(Params(), sizeof(CK_GCM_MESSAGE_PARAMS) + sizeof(CK_ULONG)));
  CK_ULONG len = static_cast<CK_ULONG>(out.size());
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f3_->C_EncryptMessage(s_, nullptr, 0, nullptr, 0, plain.data(),
                                                      Len(plain), out.data(), &len));
  for (const CK_ULONG bits : {0UL, 24UL, 100UL, 136UL}) {
    EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, rv_of(Params(CKG_NO_GENERATE, 0, bits))) << bits;
  }
  auto p = Params();
  p.ulIvLen = 0;
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, rv_of(p));
  p = Params();
  p.pIv = nullptr;
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, rv_of(p));
  p = Params();
  p.pTag = nullptr;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, rv_of(p));
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, rv_of(Params(0x7F)));  // unknown generator
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, rv_of(Params(CKG_GENERATE_COUNTER, 96)));
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, rv_of(Params(CKG_GENERATE_RANDOM, 64)));  // 32 bits
  // Unknown Next flags (and the message they end).
  p = Params();
  ASSERT_CKR(CKR_OK, f3_->C_EncryptMessageBegin(s_, &p, sizeof p, nullptr, 0));
  len = static_cast<CK_ULONG>(out.size());
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f3_->C_EncryptMessageNext(s_, &p, sizeof p, plain.data(),
                                                          Len(plain), out.data(), &len, 0x2));
  // The operation survives every one of these: a good message still encrypts.
  p = Params();
  EXPECT_EQ(Hex(Encrypt(p, kAad, kPlain4)), Hex(kCipher4));
}

TEST_F(MessageGcmTest, OperationStateRules) {
  const CK_OBJECT_HANDLE key = Aes(kKey128);
  Bytes plain = kPlain4;
  Bytes out(64);
  CK_ULONG len = static_cast<CK_ULONG>(out.size());
  auto p = Params();
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f3_->C_EncryptMessage(s_, &p, sizeof p, nullptr, 0, plain.data(), Len(plain),
                                   out.data(), &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f3_->C_EncryptMessageBegin(s_, &p, sizeof p, nullptr, 0));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_MessageEncryptFinal(s_));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_MessageDecryptFinal(s_));

  ASSERT_CKR(CKR_OK, f3_->C_MessageEncryptInit(s_, &gcm_, key));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f3_->C_MessageEncryptInit(s_, &gcm_, key));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f3_->C_EncryptMessageNext(s_, &p, sizeof p, plain.data(), Len(plain), out.data(), &len,
                                       CKF_END_OF_MESSAGE));
  ASSERT_CKR(CKR_OK, f3_->C_EncryptMessageBegin(s_, &p, sizeof p, Ptr(kAad), Len(kAad)));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f3_->C_EncryptMessageBegin(s_, &p, sizeof p, nullptr, 0));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f3_->C_EncryptMessage(s_, &p, sizeof p, nullptr, 0, plain.data(),
                                                         Len(plain), out.data(), &len));
  // Too small a buffer for the last part changes nothing; the retry completes the message.
  len = 10;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL,
             f3_->C_EncryptMessageNext(s_, &p, sizeof p, plain.data(), Len(plain), out.data(), &len,
                                       CKF_END_OF_MESSAGE));
  EXPECT_EQ(len, plain.size());
  ASSERT_CKR(CKR_OK, f3_->C_EncryptMessageNext(s_, &p, sizeof p, plain.data(), Len(plain),
                                               out.data(), &len, CKF_END_OF_MESSAGE));
  out.resize(len);
  EXPECT_EQ(Hex(out), Hex(kCipher4));
  EXPECT_EQ(Hex(tag_), Hex(kTag4));
  // Encryption and decryption are independent operations of the session.
  ASSERT_CKR(CKR_OK, f3_->C_MessageDecryptInit(s_, &gcm_, key));
  EXPECT_CKR(CKR_OK, f3_->C_MessageEncryptFinal(s_));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_MessageEncryptFinal(s_));
  p = Params();
  tag_ = kTag4;
  EXPECT_EQ(Hex(Decrypt(p, kAad, kCipher4)), Hex(kPlain4));
  // A NULL mechanism ends the running operation; C_SessionCancel ends one too.
  EXPECT_CKR(CKR_OK, f3_->C_MessageDecryptInit(s_, nullptr, key));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_MessageDecryptFinal(s_));
  ASSERT_CKR(CKR_OK, f3_->C_MessageDecryptInit(s_, &gcm_, key));
  EXPECT_CKR(CKR_OK, f3_->C_SessionCancel(s_, CKF_MESSAGE_DECRYPT));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_MessageDecryptFinal(s_));
}

TEST_F(MessageGcmTest, KeyAndMechanismChecksAreTheInitOnes) {
  const CK_OBJECT_HANDLE unusable = Aes(kKey128, false);
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f3_->C_MessageEncryptInit(s_, &gcm_, unusable));
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f3_->C_MessageDecryptInit(s_, &gcm_, unusable));
  EXPECT_CKR(CKR_KEY_HANDLE_INVALID, f3_->C_MessageEncryptInit(s_, &gcm_, 0xFFFFFF));
  const CK_OBJECT_HANDLE key = Aes(kKey128);
  CK_MECHANISM cbc{CKM_AES_CBC, iv_.data(), 16};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f3_->C_MessageEncryptInit(s_, &cbc, key));
  // The operation keeps the key usable after the object is gone from the session.
  ASSERT_CKR(CKR_OK, f3_->C_MessageEncryptInit(s_, &gcm_, key));
  ASSERT_CKR(CKR_OK, f_->C_DestroyObject(s_, key));
  auto p = Params();
  EXPECT_EQ(Hex(Encrypt(p, kAad, kPlain4)), Hex(kCipher4));
}

}  // namespace
}  // namespace conf
