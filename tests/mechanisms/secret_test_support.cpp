#include "secret_test_support.h"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <stdexcept>

namespace mechtest {

namespace {

void check_ok(SECURITY_STATUS status, const char* what) {
  if (status != ERROR_SUCCESS) {
    throw std::runtime_error(std::string(what) + " failed: " + std::to_string(status));
  }
}

void put_le32(Bytes& out, std::size_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<std::uint8_t>((v >> (8 * i)) & 0xFF));
  }
}

// NCRYPT_CIPHER_KEY_BLOB from the layout documented in ncrypt.h, built by hand.
Bytes cipher_key_blob(std::u16string_view algorithm, const Bytes& key) {
  Bytes out;
  put_le32(out, 16);
  put_le32(out, NCRYPT_CIPHER_KEY_BLOB_MAGIC);
  put_le32(out, 2 * (algorithm.size() + 1));
  put_le32(out, 12 + key.size());
  for (const char16_t c : algorithm) {
    out.push_back(static_cast<std::uint8_t>(c & 0xFF));
    out.push_back(static_cast<std::uint8_t>(c >> 8));
  }
  out.insert(out.end(), {0, 0});
  put_le32(out, BCRYPT_KEY_DATA_BLOB_MAGIC);
  put_le32(out, BCRYPT_KEY_DATA_BLOB_VERSION1);
  put_le32(out, key.size());
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

}  // namespace

Bytes hex(std::string_view h) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Bytes text(std::string_view s) { return {s.begin(), s.end()}; }

Bytes concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

p11::KeyView SecretKey::view() const {
  p11::KeyView v;
  v.object_class = CKO_SECRET_KEY;
  v.key_type = key_type;
  v.bits = static_cast<CK_ULONG>(8 * value.size());
  v.ncrypt_key = handle;
  v.ncrypt_provider = test_provider();
  v.key_owner = owner;
  v.handle_lock = lock;
  v.can_sign = v.can_verify = v.can_encrypt = v.can_decrypt = true;
  return v;
}

std::shared_ptr<SecretKey> import_secret(CK_KEY_TYPE type, const Bytes& value, DWORD key_usage) {
  auto key = std::make_shared<SecretKey>();
  key->key_type = type;
  key->value = value;
  Bytes blob = cipher_key_blob(
      type == CKK_AES ? NCRYPT_AES_ALGORITHM : NCRYPT_GENERIC_SECRET_ALGORITHM, value);
  NCRYPT_KEY_HANDLE h = 0;
  check_ok(NCryptImportKey(test_provider(), 0, NCRYPT_CIPHER_KEY_BLOB, nullptr, &h, blob.data(),
                           static_cast<DWORD>(blob.size()), NCRYPT_DO_NOT_FINALIZE_FLAG),
           "NCryptImportKey");
  DWORD usage = key_usage;
  check_ok(NCryptSetProperty(h, NCRYPT_KEY_USAGE_PROPERTY, reinterpret_cast<PBYTE>(&usage),
                             sizeof(usage), 0),
           "set Key Usage");
  check_ok(NCryptFinalizeKey(h, 0), "NCryptFinalizeKey");
  key->handle = h;
  key->owner = std::shared_ptr<const void>(new int(0), [h](const int* p) {
    NCryptFreeObject(h);
    delete p;
  });
  key->lock = std::make_shared<std::mutex>();
  return key;
}

std::shared_ptr<SecretKey> random_aes(std::size_t bytes) {
  return import_secret(CKK_AES, random_bytes(bytes));
}

std::string aes_name(std::size_t key_bytes, const char* mode) {
  return "AES-" + std::to_string(key_bytes * 8) + "-" + mode;
}

Bytes ossl_cipher(const char* cipher, const Bytes& key, const Bytes& iv, const Bytes& in,
                  bool encrypt, bool pad) {
  EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, cipher, nullptr);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  Bytes out(in.size() + 32);
  int len = 0;
  int tail = 0;
  const bool ok =
      c != nullptr &&
      EVP_CipherInit_ex2(ctx, c, key.data(), iv.empty() ? nullptr : iv.data(), encrypt ? 1 : 0,
                         nullptr) == 1 &&
      EVP_CIPHER_CTX_set_padding(ctx, pad ? 1 : 0) == 1 &&
      EVP_CipherUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) == 1 &&
      EVP_CipherFinal_ex(ctx, out.data() + len, &tail) == 1;
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(c);
  if (!ok) {
    throw std::runtime_error(std::string("reference cipher failed: ") + cipher);
  }
  out.resize(static_cast<std::size_t>(len + tail));
  return out;
}

Bytes ossl_gcm_encrypt(const Bytes& key, const Bytes& iv, const Bytes& aad, const Bytes& plain,
                       std::size_t tag_len) {
  const std::string name = aes_name(key.size(), "GCM");
  EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, name.c_str(), nullptr);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::size_t iv_len = iv.size();
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &iv_len),
                               OSSL_PARAM_END};
  Bytes out(plain.size() + tag_len);
  int aad_len = 0;
  int len = 0;
  int tail = 0;
  bool ok = EVP_EncryptInit_ex2(ctx, c, nullptr, nullptr, params) == 1 &&
            EVP_EncryptInit_ex2(ctx, nullptr, key.data(), iv.data(), nullptr) == 1 &&
            (aad.empty() || EVP_EncryptUpdate(ctx, nullptr, &aad_len, aad.data(),
                                              static_cast<int>(aad.size())) == 1) &&
            (plain.empty() || EVP_EncryptUpdate(ctx, out.data(), &len, plain.data(),
                                                static_cast<int>(plain.size())) == 1) &&
            EVP_EncryptFinal_ex(ctx, out.data() + len, &tail) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_len),
                                out.data() + plain.size()) == 1;
  ok = ok && static_cast<std::size_t>(len + tail) == plain.size();
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(c);
  if (!ok) {
    throw std::runtime_error("reference GCM failed");
  }
  return out;
}

Bytes ossl_hmac(const char* md_name, const Bytes& key, const Bytes& data) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(md_name), 0),
      OSSL_PARAM_END};
  Bytes out(EVP_MAX_MD_SIZE);
  std::size_t len = 0;
  const bool ok = EVP_MAC_init(ctx, key.data(), key.size(), params) == 1 &&
                  EVP_MAC_update(ctx, data.data(), data.size()) == 1 &&
                  EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  if (!ok) {
    throw std::runtime_error("reference HMAC failed");
  }
  out.resize(len);
  return out;
}

Bytes one_shot(p11::OpKind kind, const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& in) {
  auto op = start_sw(kind, m, &key);
  const std::size_t announced = op->one_shot_output_size(in.size());
  Bytes out = op->one_shot(in);
  if (kind == p11::OpKind::kDecrypt) {
    EXPECT_LE(out.size(), announced) << "decrypt size must be an upper bound";
    EXPECT_EQ(op->one_shot_output_size(in.size()), out.size()) << "exact once decrypted";
    EXPECT_EQ(op->one_shot(in), out) << "a repeated C_Decrypt returns the same plaintext";
  } else {
    EXPECT_EQ(out.size(), announced) << "size must be exact";
  }
  return out;
}

Bytes multi_part(p11::OpKind kind, const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& in,
                 const std::vector<std::size_t>& chunks) {
  auto op = start_sw(kind, m, &key);
  EXPECT_TRUE(op->multi_part());
  Bytes out;
  std::size_t pos = 0;
  for (std::size_t i = 0; pos < in.size(); ++i) {
    const std::size_t n = std::min(chunks[i % chunks.size()], in.size() - pos);
    const std::span<const std::uint8_t> part(in.data() + pos, n);
    pos += n;
    if (kind == p11::OpKind::kSign) {
      op->update(part);
      continue;
    }
    const std::size_t announced = op->update_output_size(n);
    EXPECT_EQ(op->update_output_size(n), announced) << "a size query changes nothing";
    const Bytes got = op->update_output(part);
    EXPECT_EQ(got.size(), announced) << "update output size must be exact";
    out.insert(out.end(), got.begin(), got.end());
  }
  const std::size_t announced = op->output_size();
  const Bytes tail = op->final();
  if (kind == p11::OpKind::kDecrypt) {
    EXPECT_LE(tail.size(), announced);
    EXPECT_EQ(op->output_size(), tail.size());
    EXPECT_EQ(op->final(), tail) << "a repeated C_DecryptFinal returns the same output";
  } else {
    EXPECT_EQ(tail.size(), announced);
    EXPECT_EQ(rv_of([&] { static_cast<void>(op->final()); }), CKR_OPERATION_NOT_INITIALIZED);
  }
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

const std::vector<std::size_t>& odd_chunks() {
  static const std::vector<std::size_t> chunks{1, 7, 16, 3, 17, 31, 0, 5, 33, 15, 2, 64};
  return chunks;
}

CK_RV verify_multi(const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& data,
                   const Bytes& mac, std::size_t chunk) {
  return rv_of([&] {
    auto op = start_sw(p11::OpKind::kVerify, m, &key);
    for (std::size_t pos = 0; pos < data.size(); pos += chunk) {
      op->update(
          std::span<const std::uint8_t>(data).subspan(pos, std::min(chunk, data.size() - pos)));
    }
    op->verify_final(mac);
  });
}

}  // namespace mechtest
