// CKM_AES_ECB, CKM_AES_CBC and CKM_AES_CBC_PAD over CNG AES keys: NIST SP 800-38A vectors,
// OpenSSL EVP references for random keys and lengths, multi-part against single-part with odd
// chunk sizes, the size protocol, and every error path.
#include <thread>

#include "secret_test_support.h"

namespace mechtest {
namespace {

using p11::OpKind;

const Bytes kKey128 = hex("2b7e151628aed2a6abf7158809cf4f3c");
const Bytes kKey256 = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
const Bytes kIv = hex("000102030405060708090a0b0c0d0e0f");
const Bytes kPlain =
    hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");

struct Sp800Case {
  const Bytes* key;
  CK_MECHANISM_TYPE mech;
  const char* cipher;
};

TEST(AesBlock, Sp800_38aVectors) {
  const Sp800Case cases[] = {
      // F.1.1 ECB-AES128, F.1.5 ECB-AES256, F.2.1 CBC-AES128, F.2.5 CBC-AES256
      {&kKey128, CKM_AES_ECB,
       "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf"
       "43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4"},
      {&kKey256, CKM_AES_ECB,
       "f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870"
       "b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff067d8d8f9e24ecc7"},
      {&kKey128, CKM_AES_CBC,
       "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
       "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"},
      {&kKey256, CKM_AES_CBC,
       "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
       "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.cipher);
    const auto key = import_secret(CKK_AES, *c.key);
    Bytes iv = kIv;
    const CK_MECHANISM m =
        c.mech == CKM_AES_ECB ? mechanism(CKM_AES_ECB) : mechanism(c.mech, iv.data(), 16);
    const Bytes expected = hex(c.cipher);
    EXPECT_EQ(one_shot(OpKind::kEncrypt, m, key->view(), kPlain), expected);
    EXPECT_EQ(multi_part(OpKind::kEncrypt, m, key->view(), kPlain, odd_chunks()), expected);
    EXPECT_EQ(one_shot(OpKind::kDecrypt, m, key->view(), expected), kPlain);
    EXPECT_EQ(multi_part(OpKind::kDecrypt, m, key->view(), expected, odd_chunks()), kPlain);
    EXPECT_EQ(iv, kIv) << "the caller's IV is never written";
  }
}

TEST(AesBlock, MatchesOpenSslForRandomKeysAndLengths) {
  const std::vector<std::vector<std::size_t>> chunkings{odd_chunks(), {1}, {16}, {5, 27}};
  for (const std::size_t key_len : {16U, 24U, 32U}) {
    const auto key = random_aes(key_len);
    for (const CK_MECHANISM_TYPE type : {CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD}) {
      Bytes iv = random_bytes(16);
      const CK_MECHANISM m = type == CKM_AES_ECB ? mechanism(type) : mechanism(type, iv.data(), 16);
      const bool pad = type == CKM_AES_CBC_PAD;
      const std::string name = aes_name(key_len, type == CKM_AES_ECB ? "ECB" : "CBC");
      for (const std::size_t n : {0U, 1U, 15U, 16U, 17U, 31U, 32U, 48U, 100U, 160U, 1000U}) {
        if (!pad && n % 16 != 0) {
          continue;
        }
        SCOPED_TRACE(name + " type " + std::to_string(type) + " n " + std::to_string(n));
        const Bytes plain = random_bytes(n);
        const Bytes expected = ossl_cipher(name.c_str(), key->value,
                                           type == CKM_AES_ECB ? Bytes{} : iv, plain, true, pad);
        EXPECT_EQ(one_shot(OpKind::kEncrypt, m, key->view(), plain), expected);
        EXPECT_EQ(one_shot(OpKind::kDecrypt, m, key->view(), expected), plain);
        for (const auto& chunks : chunkings) {
          EXPECT_EQ(multi_part(OpKind::kEncrypt, m, key->view(), plain, chunks), expected);
          EXPECT_EQ(multi_part(OpKind::kDecrypt, m, key->view(), expected, chunks), plain);
        }
      }
    }
  }
}

TEST(AesBlock, UpdateOutputAndHoldBack) {
  const auto key = random_aes(16);
  Bytes iv = random_bytes(16);
  const Bytes plain = random_bytes(40);
  const Bytes cipher = ossl_cipher("AES-128-CBC", key->value, iv, plain, true, true);  // 48 bytes
  const p11::KeyView view = key->view();

  // Encryption returns whole blocks as soon as they are complete.
  auto enc = start_sw(OpKind::kEncrypt, mechanism(CKM_AES_CBC_PAD, iv.data(), 16), &view);
  EXPECT_EQ(enc->update_output_size(15), 0U);
  EXPECT_TRUE(enc->update_output(Bytes(plain.begin(), plain.begin() + 15)).empty());
  EXPECT_EQ(enc->update_output_size(1), 16U);
  EXPECT_EQ(enc->update_output(Bytes(plain.begin() + 15, plain.begin() + 16)),
            Bytes(cipher.begin(), cipher.begin() + 16));
  EXPECT_EQ(enc->update_output(Bytes(plain.begin() + 16, plain.end())),
            Bytes(cipher.begin() + 16, cipher.begin() + 32));
  EXPECT_EQ(enc->output_size(), 16U);
  EXPECT_EQ(enc->final(), Bytes(cipher.begin() + 32, cipher.end()));

  // CBC_PAD decryption keeps the last block back, even a complete one.
  auto dec = start_sw(OpKind::kDecrypt, mechanism(CKM_AES_CBC_PAD, iv.data(), 16), &view);
  EXPECT_EQ(dec->update_output_size(16), 0U);
  EXPECT_TRUE(dec->update_output(Bytes(cipher.begin(), cipher.begin() + 16)).empty());
  EXPECT_EQ(dec->update_output_size(32), 32U);
  EXPECT_EQ(dec->update_output(Bytes(cipher.begin() + 16, cipher.end())),
            Bytes(plain.begin(), plain.begin() + 32));
  EXPECT_EQ(dec->output_size(), 15U);  // an upper bound: a padded block holds 0..15 bytes
  Bytes rest = dec->update_output({});
  EXPECT_TRUE(rest.empty());
  const Bytes tail = dec->final();
  EXPECT_EQ(tail, Bytes(plain.begin() + 32, plain.end()));
  EXPECT_EQ(dec->output_size(), 8U);
  EXPECT_EQ(dec->final(), tail);
  EXPECT_EQ(rv_of([&] { static_cast<void>(dec->update_output(plain)); }),
            CKR_OPERATION_NOT_INITIALIZED);

  // Plain CBC decryption returns every complete block at once.
  const Bytes raw = ossl_cipher("AES-128-CBC", key->value, iv,
                                Bytes(plain.begin(), plain.begin() + 32), true, false);
  auto cbc = start_sw(OpKind::kDecrypt, mechanism(CKM_AES_CBC, iv.data(), 16), &view);
  EXPECT_EQ(cbc->update_output_size(20), 16U);
  EXPECT_EQ(cbc->update_output(Bytes(raw.begin(), raw.begin() + 20)),
            Bytes(plain.begin(), plain.begin() + 16));
  EXPECT_EQ(cbc->update_output_size(12), 16U);
  EXPECT_EQ(cbc->update_output(Bytes(raw.begin() + 20, raw.end())),
            Bytes(plain.begin() + 16, plain.begin() + 32));
  EXPECT_EQ(cbc->output_size(), 0U);
  EXPECT_TRUE(cbc->final().empty());
}

TEST(AesBlock, LengthErrors) {
  const auto key = random_aes(32);
  const p11::KeyView view = key->view();
  Bytes iv = random_bytes(16);
  for (const CK_MECHANISM_TYPE type : {CKM_AES_ECB, CKM_AES_CBC}) {
    const CK_MECHANISM m = type == CKM_AES_ECB ? mechanism(type) : mechanism(type, iv.data(), 16);
    for (const std::size_t n : {1U, 15U, 17U, 33U}) {
      SCOPED_TRACE(std::to_string(type) + " n " + std::to_string(n));
      const Bytes data = random_bytes(n);
      EXPECT_EQ(rv_of([&] { one_shot(OpKind::kEncrypt, m, view, data); }), CKR_DATA_LEN_RANGE);
      EXPECT_EQ(rv_of([&] { one_shot(OpKind::kDecrypt, m, view, data); }),
                CKR_ENCRYPTED_DATA_LEN_RANGE);
      // Multi-part: the partial block waits, C_*Final reports it.
      auto enc = start_sw(OpKind::kEncrypt, m, &view);
      EXPECT_EQ(enc->update_output(data).size(), n / 16 * 16);
      EXPECT_EQ(rv_of([&] { static_cast<void>(enc->final()); }), CKR_DATA_LEN_RANGE);
      auto dec = start_sw(OpKind::kDecrypt, m, &view);
      EXPECT_EQ(dec->update_output(data).size(), n / 16 * 16);
      EXPECT_EQ(rv_of([&] { static_cast<void>(dec->final()); }), CKR_ENCRYPTED_DATA_LEN_RANGE);
    }
  }
  const CK_MECHANISM pad = mechanism(CKM_AES_CBC_PAD, iv.data(), 16);
  for (const std::size_t n : {0U, 1U, 15U, 17U, 40U}) {
    SCOPED_TRACE("CBC_PAD decrypt n " + std::to_string(n));
    const Bytes data = random_bytes(n);
    EXPECT_EQ(rv_of([&] { one_shot(OpKind::kDecrypt, pad, view, data); }),
              CKR_ENCRYPTED_DATA_LEN_RANGE);
    EXPECT_EQ(rv_of([&] { multi_part(OpKind::kDecrypt, pad, view, data, {7}); }),
              CKR_ENCRYPTED_DATA_LEN_RANGE);
  }
}

TEST(AesBlock, BadPaddingIsEncryptedDataInvalid) {
  const auto key = random_aes(16);
  const p11::KeyView view = key->view();
  Bytes iv = random_bytes(16);
  const CK_MECHANISM pad = mechanism(CKM_AES_CBC_PAD, iv.data(), 16);
  // Last plaintext blocks whose PKCS#7 padding is wrong: 0x00, 0x11 (> 16), and
  // inconsistent bytes (…01 02).
  Bytes zero(32, 0xAB);
  zero.back() = 0x00;
  Bytes big(16, 0x11);
  Bytes mixed(16, 0x02);
  mixed[14] = 0x01;
  for (const Bytes& plain : {zero, big, mixed}) {
    const Bytes cipher = ossl_cipher("AES-128-CBC", key->value, iv, plain, true, false);
    EXPECT_EQ(rv_of([&] { one_shot(OpKind::kDecrypt, pad, view, cipher); }),
              CKR_ENCRYPTED_DATA_INVALID);
    EXPECT_EQ(rv_of([&] { multi_part(OpKind::kDecrypt, pad, view, cipher, {5}); }),
              CKR_ENCRYPTED_DATA_INVALID);
  }
}

TEST(AesBlock, ParameterAndKeyErrors) {
  const auto key = random_aes(16);
  const p11::KeyView view = key->view();
  Bytes iv = random_bytes(17);
  auto start = [](OpKind kind, const CK_MECHANISM& m, const p11::KeyView& k) {
    return rv_of([&] { static_cast<void>(start_sw(kind, m, &k)); });
  };
  for (const CK_MECHANISM_TYPE type : {CKM_AES_CBC, CKM_AES_CBC_PAD}) {
    for (const OpKind kind : {OpKind::kEncrypt, OpKind::kDecrypt}) {
      EXPECT_EQ(start(kind, mechanism(type), view), CKR_MECHANISM_PARAM_INVALID);
      EXPECT_EQ(start(kind, mechanism(type, iv.data(), 15), view), CKR_MECHANISM_PARAM_INVALID);
      EXPECT_EQ(start(kind, mechanism(type, iv.data(), 17), view), CKR_MECHANISM_PARAM_INVALID);
      EXPECT_EQ(start(kind, mechanism(type, nullptr, 16), view), CKR_MECHANISM_PARAM_INVALID);
      EXPECT_EQ(start(kind, mechanism(type, iv.data(), 16), view), CKR_OK);
    }
  }
  EXPECT_EQ(start(OpKind::kEncrypt, mechanism(CKM_AES_ECB, iv.data(), 16), view),
            CKR_MECHANISM_PARAM_INVALID);
  const CK_MECHANISM ecb = mechanism(CKM_AES_ECB);
  EXPECT_EQ(start(OpKind::kSign, ecb, view), CKR_MECHANISM_INVALID);
  p11::KeyView no_enc = view;
  no_enc.can_encrypt = false;
  EXPECT_EQ(start(OpKind::kEncrypt, ecb, no_enc), CKR_KEY_FUNCTION_NOT_PERMITTED);
  EXPECT_EQ(start(OpKind::kDecrypt, ecb, no_enc), CKR_OK);
  p11::KeyView no_dec = view;
  no_dec.can_decrypt = false;
  EXPECT_EQ(start(OpKind::kDecrypt, ecb, no_dec), CKR_KEY_FUNCTION_NOT_PERMITTED);
  p11::KeyView allowed = view;
  allowed.allowed_mechanisms = {CKM_AES_CBC};
  EXPECT_EQ(start(OpKind::kEncrypt, ecb, allowed), CKR_MECHANISM_INVALID);
  const auto generic = import_secret(CKK_GENERIC_SECRET, random_bytes(16));
  EXPECT_EQ(start(OpKind::kEncrypt, ecb, generic->view()), CKR_KEY_TYPE_INCONSISTENT);
  p11::KeyView wrong_class = view;
  wrong_class.object_class = CKO_PRIVATE_KEY;
  EXPECT_EQ(start(OpKind::kDecrypt, ecb, wrong_class), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(start(OpKind::kEncrypt, ecb, rsa2048().public_view()), CKR_KEY_TYPE_INCONSISTENT);
  for (const CK_ULONG bits : {64UL, 160UL, 129UL, 384UL}) {
    p11::KeyView odd = view;
    odd.bits = bits;
    EXPECT_EQ(start(OpKind::kEncrypt, ecb, odd), CKR_KEY_SIZE_RANGE) << bits;
  }
  p11::KeyView no_handle = view;
  no_handle.ncrypt_key = 0;
  EXPECT_EQ(start(OpKind::kEncrypt, ecb, no_handle), CKR_KEY_HANDLE_INVALID);
  // Not a TPM mechanism.
  EXPECT_EQ(rv_of([&] { static_cast<void>(start_sw(OpKind::kEncrypt, ecb, &view, true)); }),
            CKR_MECHANISM_INVALID);
}

// The CNG key's own Key Usage is enforced by NCrypt: AES needs NCRYPT_ALLOW_DECRYPT_FLAG for
// both directions (CTR and GCM included), HMAC needs NCRYPT_ALLOW_SIGNING_FLAG.
TEST(SecretKeys, CngKeyUsageIsKeyFunctionNotPermitted) {
  const auto aes = import_secret(CKK_AES, random_bytes(16), NCRYPT_ALLOW_SIGNING_FLAG);
  Bytes iv = random_bytes(16);
  CK_AES_CTR_PARAMS ctr{128, {}};
  CK_GCM_PARAMS gcm{iv.data(), 12, 96, nullptr, 0, 128};
  for (const CK_MECHANISM& m :
       {mechanism(CKM_AES_ECB), mechanism(CKM_AES_CBC_PAD, iv.data(), 16),
        mechanism(CKM_AES_CTR, &ctr, sizeof(ctr)), mechanism(CKM_AES_GCM, &gcm, sizeof(gcm))}) {
    for (const OpKind kind : {OpKind::kEncrypt, OpKind::kDecrypt}) {
      EXPECT_EQ(rv_of([&] { one_shot(kind, m, aes->view(), Bytes(32, 1)); }),
                CKR_KEY_FUNCTION_NOT_PERMITTED)
          << m.mechanism;
    }
  }
  const auto generic =
      import_secret(CKK_GENERIC_SECRET, random_bytes(16), NCRYPT_ALLOW_DECRYPT_FLAG);
  const CK_MECHANISM hmac = mechanism(CKM_SHA256_HMAC);
  EXPECT_EQ(rv_of([&] { one_shot(OpKind::kSign, hmac, generic->view(), Bytes(3, 1)); }),
            CKR_KEY_FUNCTION_NOT_PERMITTED);
  EXPECT_EQ(verify(hmac, generic->view(), Bytes(3, 1), Bytes(32, 0)),
            CKR_KEY_FUNCTION_NOT_PERMITTED);
}

TEST(AesBlock, FinishedOperations) {
  const auto key = random_aes(16);
  const p11::KeyView view = key->view();
  const CK_MECHANISM ecb = mechanism(CKM_AES_ECB);
  const Bytes block = random_bytes(16);
  auto enc = start_sw(OpKind::kEncrypt, ecb, &view);
  const Bytes c = enc->one_shot(block);
  EXPECT_EQ(rv_of([&] { static_cast<void>(enc->one_shot(block)); }), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(rv_of([&] { static_cast<void>(enc->final()); }), CKR_OPERATION_NOT_INITIALIZED);
  auto dec = start_sw(OpKind::kDecrypt, ecb, &view);
  EXPECT_EQ(dec->one_shot(c), block);
  EXPECT_EQ(dec->one_shot(c), block);
  EXPECT_EQ(rv_of([&] { static_cast<void>(dec->final()); }), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(rv_of([&] { dec->update(c); }), CKR_GENERAL_ERROR);
}

// The chaining mode is per handle: interleaved operations in different modes over one key
// (one CNG handle) each get their own mode and chaining value.
TEST(AesBlock, InterleavedModesOnOneHandle) {
  const auto key = random_aes(24);
  const p11::KeyView view = key->view();
  Bytes iv = random_bytes(16);
  const Bytes plain = random_bytes(96);
  auto ecb = start_sw(OpKind::kEncrypt, mechanism(CKM_AES_ECB), &view);
  auto cbc = start_sw(OpKind::kEncrypt, mechanism(CKM_AES_CBC, iv.data(), 16), &view);
  Bytes ecb_out;
  Bytes cbc_out;
  for (std::size_t pos = 0; pos < plain.size(); pos += 16) {
    const Bytes part(plain.begin() + static_cast<std::ptrdiff_t>(pos),
                     plain.begin() + static_cast<std::ptrdiff_t>(pos + 16));
    const Bytes a = ecb->update_output(part);
    const Bytes b = cbc->update_output(part);
    ecb_out.insert(ecb_out.end(), a.begin(), a.end());
    cbc_out.insert(cbc_out.end(), b.begin(), b.end());
  }
  EXPECT_EQ(ecb_out, ossl_cipher("AES-192-ECB", key->value, {}, plain, true, false));
  EXPECT_EQ(cbc_out, ossl_cipher("AES-192-CBC", key->value, iv, plain, true, false));
}

// Threads sharing one CNG handle in different modes: the handle lock keeps each call's mode.
TEST(AesBlock, ConcurrentModesOnOneHandle) {
  const auto key = random_aes(16);
  const p11::KeyView view = key->view();
  Bytes iv = random_bytes(16);
  const Bytes plain = random_bytes(64);
  const Bytes ecb_ref = ossl_cipher("AES-128-ECB", key->value, {}, plain, true, false);
  const Bytes cbc_ref = ossl_cipher("AES-128-CBC", key->value, iv, plain, true, false);
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < wrong.size(); ++t) {
    threads.emplace_back([&, t] {
      const bool ecb = t % 2 == 0;
      const CK_MECHANISM m = ecb ? mechanism(CKM_AES_ECB) : mechanism(CKM_AES_CBC, iv.data(), 16);
      for (int i = 0; i < 200; ++i) {
        auto op = start_sw(OpKind::kEncrypt, m, &view);
        Bytes out = op->update_output(Bytes(plain.begin(), plain.begin() + 32));
        const Bytes rest = op->update_output(Bytes(plain.begin() + 32, plain.end()));
        out.insert(out.end(), rest.begin(), rest.end());
        if (out != (ecb ? ecb_ref : cbc_ref)) {
          ++wrong[t];
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(AesBlock, OperationsHoldTheKeyOwner) {
  auto key = random_aes(16);
  std::weak_ptr<const void> owner = key->owner;
  Bytes iv = random_bytes(16);
  auto view = std::make_unique<p11::KeyView>(key->view());
  const Bytes value = key->value;
  key.reset();
  auto op = start_sw(OpKind::kEncrypt, mechanism(CKM_AES_CBC, iv.data(), 16), view.get());
  view.reset();
  EXPECT_FALSE(owner.expired());
  const Bytes plain = random_bytes(32);
  EXPECT_EQ(op->one_shot(plain), ossl_cipher("AES-128-CBC", value, iv, plain, true, false));
  op.reset();
  EXPECT_TRUE(owner.expired());
}

}  // namespace
}  // namespace mechtest
