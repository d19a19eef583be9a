#include "store/master_key_codec.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <string_view>

#include "cng_common/ossl_ptr.h"
#include "store/byte_codec.h"

namespace cng::master_key {

namespace {

using store_codec::LeReader;
using store_codec::LeWriter;

constexpr store_codec::Magic kMasterMagic = {'C', 'N', 'G', 'M', 'K', 'E', 'Y', 0x1a};
constexpr store_codec::Magic kCurrentMagic = {'C', 'N', 'G', 'M', 'C', 'U', 'R', 0x1a};
constexpr std::uint16_t kVersion = 1;
constexpr std::size_t kMaxFile = 8192;
constexpr std::size_t kMaxPayload = 4096;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

KeyId read_id(LeReader& r) {
  const auto raw = r.bytes(kKeyIdBytes);
  require(raw.size() == kKeyIdBytes, NTE_BAD_DATA, "keyring file: malformed key id");
  KeyId id{};
  std::copy(raw.begin(), raw.end(), id.begin());
  return id;
}

const EVP_CIPHER* gcm() {
  // Fetched once and kept (as byte_codec's SHA-256): fetching dominates small operations.
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  require(cipher != nullptr, NTE_INTERNAL_ERROR, "AES-256-GCM is not available");
  return cipher;
}

int int_size(std::size_t n) {
  require(n <= 1U << 30, NTE_INVALID_PARAMETER, "buffer too large");
  return static_cast<int>(n);
}

// HKDF-SHA256(kek, no salt, info = label) of out.size() bytes.
void hkdf(std::span<const std::uint8_t, kKekBytes> kek, std::string_view label,
          std::span<std::uint8_t> out) {
  const ossl::KdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  const ossl::KdfCtxPtr ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(kek.data()),
                                        kek.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(label.data()),
                                        label.size()),
      OSSL_PARAM_construct_end()};
  const bool ok = ctx && EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) == 1;
  require(ok, NTE_INTERNAL_ERROR, "HKDF-SHA256 failed");
}

}  // namespace

const char* protector_name(Protector p) noexcept {
  switch (p) {
    case Protector::kFile:
      return "file";
    case Protector::kTpmSealed:
      return "tpm-sealed";
    case Protector::kKek:
      return "pin";
    case Protector::kTpmPin:
      return "tpm-pin";
  }
  return "unknown";
}

SecureBytes seal(std::span<const std::uint8_t, kKeyBytes> key, std::span<const std::uint8_t> plain,
                 std::span<const std::uint8_t> aad) {
  SecureBytes out(kNonceBytes + plain.size() + kTagBytes);
  require(RAND_bytes(out.data(), kNonceBytes) == 1, NTE_FAIL, "no randomness for a nonce");
  const ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx && EVP_EncryptInit_ex2(ctx.get(), gcm(), key.data(), out.data(), nullptr) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), int_size(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), out.data() + kNonceBytes, &len, plain.data(),
                              int_size(plain.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), out.data() + kNonceBytes + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                                out.data() + kNonceBytes + plain.size()) == 1;
  require(ok, NTE_INTERNAL_ERROR, "AES-256-GCM encryption failed");
  return out;
}

SecureBytes open(std::span<const std::uint8_t, kKeyBytes> key, std::span<const std::uint8_t> sealed,
                 std::span<const std::uint8_t> aad) {
  require(sealed.size() >= kNonceBytes + kTagBytes, NTE_BAD_DATA, "encrypted key too short");
  const std::size_t n = sealed.size() - kNonceBytes - kTagBytes;
  SecureBytes out(n);
  Bytes tag(sealed.end() - kTagBytes, sealed.end());
  const ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  const bool ok =
      ctx && EVP_DecryptInit_ex2(ctx.get(), gcm(), key.data(), sealed.data(), nullptr) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), int_size(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data() + kNonceBytes, int_size(n)) ==
          1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) == 1;
  // A wrong key, name, header or a modified ciphertext: never garbage, always this error.
  require(ok, NTE_BAD_DATA,
          "encrypted key does not authenticate (another key's data, or another master key)");
  return out;
}

namespace codec {

SecureBytes encode(const MasterKeyFile& file) {
  require(file.payload.size() <= kMaxPayload, NTE_INVALID_PARAMETER, "master key too large");
  SecureBytes out;
  LeWriter w(out);
  store_codec::begin_envelope(w, kMasterMagic, kVersion);
  w.bytes(file.id);
  w.u32(static_cast<std::uint32_t>(file.protector));
  w.bytes(file.payload);
  store_codec::finish_envelope(out, kMaxFile);
  return out;
}

MasterKeyFile decode_master(std::span<const std::uint8_t> bytes) {
  LeReader r(store_codec::open_envelope(bytes, kMasterMagic, kVersion, kMaxFile));
  MasterKeyFile file;
  file.id = read_id(r);
  const std::uint32_t protector = r.u32();
  require(protector >= 1 && protector <= 4, NTE_BAD_DATA, "master key file: unknown protector");
  file.protector = static_cast<Protector>(protector);
  const auto payload = r.bytes(kMaxPayload);
  file.payload.assign(payload.begin(), payload.end());
  require(r.remaining() == 0, NTE_BAD_DATA, "master key file: trailing bytes");
  require(file.protector != Protector::kFile || file.payload.size() == kKeyBytes, NTE_BAD_DATA,
          "master key file: wrong key length");
  require(file.protector != Protector::kKek ||
              (!file.payload.empty() && file.payload.size() % kKekWrapBytes == 0 &&
               file.payload.size() / kKekWrapBytes <= kMaxKekWraps),
          NTE_BAD_DATA, "master key file: wrong PIN wrapping length");
  if (file.protector == Protector::kTpmPin) {
    (void)decode_tpm_pin(file.payload);  // NTE_BAD_DATA unless one or two well-formed entries
  }
  return file;
}

Bytes encode(const CurrentFile& file) {
  Bytes out;
  LeWriter w(out);
  store_codec::begin_envelope(w, kCurrentMagic, kVersion);
  w.bytes(file.id);
  w.u32(file.migrated ? 1 : 0);
  store_codec::finish_envelope(out, kMaxFile);
  return out;
}

CurrentFile decode_current(std::span<const std::uint8_t> bytes) {
  LeReader r(store_codec::open_envelope(bytes, kCurrentMagic, kVersion, kMaxFile));
  CurrentFile file;
  file.id = read_id(r);
  const std::uint32_t migrated = r.u32();
  require(migrated <= 1 && r.remaining() == 0, NTE_BAD_DATA, "keyring current file malformed");
  file.migrated = migrated == 1;
  return file;
}

SecureBytes tpm_pin_auth(std::span<const std::uint8_t, kKekBytes> kek) {
  SecureBytes auth(32);
  hkdf(kek, "CNGMKEY-TPM-AUTH-v1", auth);
  return auth;
}

std::array<std::uint8_t, kTpmPinCheckBytes> tpm_pin_check(
    std::span<const std::uint8_t, kKekBytes> kek) {
  std::array<std::uint8_t, kTpmPinCheckBytes> check{};
  hkdf(kek, "CNGMKEY-TPM-CHECK-v1", check);
  return check;
}

SecureBytes encode_tpm_pin(std::span<const TpmPinEntry> entries) {
  require(!entries.empty() && entries.size() <= kMaxKekWraps, NTE_INTERNAL_ERROR,
          "PIN-sealed entry count");
  SecureBytes out;
  LeWriter w(out);
  for (const TpmPinEntry& e : entries) {
    w.bytes(e.check);
    w.bytes(e.sealed);
  }
  return out;
}

std::vector<TpmPinEntry> decode_tpm_pin(std::span<const std::uint8_t> payload) {
  LeReader r(payload);
  std::vector<TpmPinEntry> entries;
  while (r.remaining() > 0) {
    require(entries.size() < kMaxKekWraps, NTE_BAD_DATA, "master key file: too many PIN seals");
    TpmPinEntry e;
    const auto check = r.bytes(kTpmPinCheckBytes);
    require(check.size() == kTpmPinCheckBytes, NTE_BAD_DATA, "master key file: malformed check");
    std::copy(check.begin(), check.end(), e.check.begin());
    const auto sealed = r.bytes(kMaxPayload);
    require(!sealed.empty(), NTE_BAD_DATA, "master key file: empty PIN seal");
    e.sealed.assign(sealed.begin(), sealed.end());
    entries.push_back(std::move(e));
  }
  require(!entries.empty(), NTE_BAD_DATA, "master key file: no PIN seal");
  return entries;
}

Bytes kek_aad(const KeyId& id) {
  constexpr std::string_view kLabel = "CNGMKEY-KEK-v1";
  Bytes aad(kLabel.begin(), kLabel.end());
  aad.insert(aad.end(), id.begin(), id.end());
  return aad;
}

}  // namespace codec

}  // namespace cng::master_key
