// NCryptDeriveKey's KDFs over an agreed secret (see kdf.h).
//
// Byte order. CNG keeps an agreed secret little-endian internally: "TRUNCATE"
// (BCRYPT_KDF_RAW_SECRET) hands it out as is, i.e. the X coordinate reversed. The other KDFs
// feed the secret in the usual big-endian form Z of SP 800-56A: .NET's ECDiffieHellman
// DeriveKeyFromHash / FromHmac / Tls call BCryptDeriveKey("HASH"/"HMAC"/"TLS_PRF") on Windows
// and compute H(prepend || Z || append) etc. over OpenSSL's big-endian Z on Linux, and one set of
// expected values serves both platforms in dotnet/runtime's tests. So only TRUNCATE reverses.
#include "providers/software/kdf.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "bcrypt.h"
#include "cng_common/ossl_ptr.h"
#include "core/cng_error.h"
#include "core/u16.h"
#include "providers/key_material.h"
#include "providers/software/algorithm_util.h"
#include "providers/software/ossl_error.h"

namespace cng {

namespace {

// TLS protocol versions (KDF_TLS_PRF_PROTOCOL values, as in schannel.h).
constexpr DWORD kTls10 = 0x0301;
constexpr DWORD kTls11 = 0x0302;
constexpr DWORD kTls12 = 0x0303;
constexpr DWORD kDtls10 = 0xfeff;
constexpr DWORD kDtls12 = 0xfefd;
constexpr std::size_t kTlsSeedSize = 64;   // client random || server random
constexpr std::size_t kTlsPrfOutput = 48;  // a master secret
constexpr std::size_t kMaxDerivedLength = 1U << 16U;
constexpr std::size_t kMaxHashNameBytes = 128;

// The KDF parameters of one call, each buffer type at most once except the documented
// concatenating ones (KDF_SECRET_PREPEND / KDF_SECRET_APPEND, in array order).
struct KdfParams {
  std::optional<HashId> hash;
  SecureBytes prepend;
  SecureBytes append;
  std::optional<SecureBytes> hmac_key, tls_label, tls_seed, algorithm_id, party_u, party_v,
      supp_pub, supp_priv, hkdf_salt, hkdf_info;
  std::optional<DWORD> tls_protocol;
};

HashId parse_hash_name(std::span<const std::uint8_t> raw) {
  require(raw.size() >= 2 && raw.size() <= kMaxHashNameBytes, NTE_INVALID_PARAMETER,
          "KDF_HASH_ALGORITHM is not a hash name");
  std::u16string name;
  for (std::size_t i = 0; i + 1 < raw.size(); i += 2) {
    const auto c = static_cast<char16_t>(raw[i] | (raw[i + 1] << 8U));  // UTF-16LE
    if (c == u'\0') {
      break;
    }
    name.push_back(c);
  }
  require(!name.empty(), NTE_INVALID_PARAMETER, "empty KDF_HASH_ALGORITHM");
  const HashId h = hash_from_alg_id(name.c_str());
  return h;
}

void set_once(std::optional<SecureBytes>& slot, std::span<const std::uint8_t> value) {
  require(!slot.has_value(), NTE_INVALID_PARAMETER, "KDF parameter given twice");
  slot.emplace(value.begin(), value.end());
}

KdfParams parse_params(const NCryptBufferDesc* desc) {
  KdfParams p;
  if (desc == nullptr) {
    return p;
  }
  require(desc->ulVersion == NCRYPTBUFFER_VERSION, NTE_INVALID_PARAMETER,
          "unknown NCryptBufferDesc version");
  require(desc->cBuffers == 0 || desc->pBuffers != nullptr, NTE_INVALID_PARAMETER,
          "NCryptBufferDesc without buffers");
  for (ULONG i = 0; i < desc->cBuffers; ++i) {
    const NCryptBuffer& b = desc->pBuffers[i];
    require(b.cbBuffer == 0 || b.pvBuffer != nullptr, NTE_INVALID_PARAMETER,
            "KDF parameter buffer without data");
    const std::span<const std::uint8_t> v(static_cast<const std::uint8_t*>(b.pvBuffer),
                                          b.pvBuffer != nullptr ? b.cbBuffer : 0);
    switch (b.BufferType) {
      case KDF_HASH_ALGORITHM:
        require(!p.hash.has_value(), NTE_INVALID_PARAMETER, "KDF_HASH_ALGORITHM given twice");
        p.hash = parse_hash_name(v);
        require(*p.hash != HashId::kNone, NTE_INVALID_PARAMETER, "no hash");
        break;
      case KDF_SECRET_PREPEND:
        p.prepend.insert(p.prepend.end(), v.begin(), v.end());
        break;
      case KDF_SECRET_APPEND:
        p.append.insert(p.append.end(), v.begin(), v.end());
        break;
      case KDF_HMAC_KEY:
        set_once(p.hmac_key, v);
        break;
      case KDF_TLS_PRF_LABEL:
        set_once(p.tls_label, v);
        break;
      case KDF_TLS_PRF_SEED:
        set_once(p.tls_seed, v);
        break;
      case KDF_ALGORITHMID:
        set_once(p.algorithm_id, v);
        break;
      case KDF_PARTYUINFO:
        set_once(p.party_u, v);
        break;
      case KDF_PARTYVINFO:
        set_once(p.party_v, v);
        break;
      case KDF_SUPPPUBINFO:
        set_once(p.supp_pub, v);
        break;
      case KDF_SUPPPRIVINFO:
        set_once(p.supp_priv, v);
        break;
      case KDF_HKDF_SALT:
        set_once(p.hkdf_salt, v);
        break;
      case KDF_HKDF_INFO:
        set_once(p.hkdf_info, v);
        break;
      case KDF_TLS_PRF_PROTOCOL: {
        require(v.size() == sizeof(DWORD) && !p.tls_protocol.has_value(), NTE_INVALID_PARAMETER,
                "KDF_TLS_PRF_PROTOCOL is not one DWORD");
        p.tls_protocol = static_cast<DWORD>(v[0] | (v[1] << 8U) | (v[2] << 16U) |
                                            (static_cast<DWORD>(v[3]) << 24U));
        break;
      }
      default:
        break;  // a parameter this KDF does not use (as CNG, ignore it)
    }
  }
  return p;
}

std::size_t output_length(std::size_t requested, std::size_t natural) {
  const std::size_t len = requested == 0 ? natural : requested;
  require(len <= kMaxDerivedLength, NTE_INVALID_PARAMETER, "derived key length too large");
  return len;
}

SecureBytes kdf_hash(const KdfParams& p, const SecureBytes& secret) {
  const HashId h = p.hash.value_or(HashId::kSha1);  // BCryptDeriveKey: SHA1 when not given
  const ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  SecureBytes out(hash_size(h));
  unsigned int len = 0;
  soft::check_ossl(ctx && EVP_DigestInit_ex(ctx.get(), soft::evp_md(h), nullptr) == 1 &&
                       EVP_DigestUpdate(ctx.get(), p.prepend.data(), p.prepend.size()) == 1 &&
                       EVP_DigestUpdate(ctx.get(), secret.data(), secret.size()) == 1 &&
                       EVP_DigestUpdate(ctx.get(), p.append.data(), p.append.size()) == 1 &&
                       EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1,
                   NTE_INTERNAL_ERROR, "HASH KDF");
  out.resize(len);
  return out;
}

SecureBytes kdf_hmac(const KdfParams& p, const SecureBytes& secret, DWORD flags) {
  const HashId h = p.hash.value_or(HashId::kSha1);
  const bool secret_is_key = (flags & KDF_USE_SECRET_AS_HMAC_KEY_FLAG) != 0;
  require(secret_is_key || p.hmac_key.has_value(), NTE_INVALID_PARAMETER,
          "HMAC KDF needs KDF_HMAC_KEY or KDF_USE_SECRET_AS_HMAC_KEY_FLAG");
  const SecureBytes& key = secret_is_key ? secret : *p.hmac_key;
  const ossl::MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  const ossl::MacCtxPtr ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
  std::string digest = soft::md_name(h);
  const std::array<OSSL_PARAM, 2> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
      OSSL_PARAM_construct_end()};
  SecureBytes out(hash_size(h));
  std::size_t len = 0;
  // HMAC(key, prepend || Z || append); with the secret as key, Z is still in the message.
  soft::check_ossl(ctx && EVP_MAC_init(ctx.get(), key.data(), key.size(), params.data()) == 1 &&
                       EVP_MAC_update(ctx.get(), p.prepend.data(), p.prepend.size()) == 1 &&
                       EVP_MAC_update(ctx.get(), secret.data(), secret.size()) == 1 &&
                       EVP_MAC_update(ctx.get(), p.append.data(), p.append.size()) == 1 &&
                       EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) == 1,
                   NTE_INTERNAL_ERROR, "HMAC KDF");
  out.resize(len);
  return out;
}

// Runs an OpenSSL EVP_KDF with the given parameters into out.
void run_kdf(const char* name, std::vector<OSSL_PARAM> params, SecureBytes& out) {
  params.push_back(OSSL_PARAM_construct_end());
  const ossl::KdfPtr kdf(EVP_KDF_fetch(nullptr, name, nullptr));
  const ossl::KdfCtxPtr ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  soft::check_ossl(ctx != nullptr, NTE_INTERNAL_ERROR, name);
  soft::check_ossl(EVP_KDF_derive(ctx.get(), out.data(), out.size(), params.data()) == 1,
                   NTE_INVALID_PARAMETER, name);
}

OSSL_PARAM octets(const char* key, const SecureBytes& v) {
  // OpenSSL only reads these buffers; the API takes void*.
  return OSSL_PARAM_construct_octet_string(key, const_cast<std::uint8_t*>(v.data()), v.size());
}

SecureBytes kdf_tls_prf(const KdfParams& p, const SecureBytes& secret) {
  require(p.tls_label.has_value() && p.tls_seed.has_value(), NTE_INVALID_PARAMETER,
          "TLS_PRF needs KDF_TLS_PRF_LABEL and KDF_TLS_PRF_SEED");
  require(p.tls_seed->size() == kTlsSeedSize, NTE_INVALID_PARAMETER,
          "TLS_PRF seed must be 64 bytes");
  // Without KDF_TLS_PRF_PROTOCOL CNG uses the TLS 1.0 PRF (MD5 ⊕ SHA-1), which is what .NET's
  // cross-platform DeriveKeyTls reproduces.
  const DWORD protocol = p.tls_protocol.value_or(kTls10);
  std::string digest;
  if (protocol == kTls10 || protocol == kTls11 || protocol == kDtls10) {
    digest = "MD5-SHA1";
  } else if (protocol == kTls12 || protocol == kDtls12) {
    digest = soft::md_name(p.hash.value_or(HashId::kSha256));
  } else {
    fail(NTE_INVALID_PARAMETER, "unsupported KDF_TLS_PRF_PROTOCOL");
  }
  SecureBytes seed = *p.tls_label;  // PRF(secret, label, seed) = P_hash(secret, label || seed)
  seed.insert(seed.end(), p.tls_seed->begin(), p.tls_seed->end());
  SecureBytes out(kTlsPrfOutput);
  run_kdf("TLS1-PRF",
          {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0),
           octets(OSSL_KDF_PARAM_SECRET, secret), octets(OSSL_KDF_PARAM_SEED, seed)},
          out);
  return out;
}

SecureBytes kdf_sp800_56a(const KdfParams& p, const SecureBytes& secret, std::size_t requested) {
  require(p.algorithm_id && p.party_u && p.party_v, NTE_INVALID_PARAMETER,
          "SP800_56A_CONCAT needs KDF_ALGORITHMID, KDF_PARTYUINFO and KDF_PARTYVINFO");
  // The hash defaults to SHA1 like CNG's other hash-based KDFs (inferred; not documented).
  const HashId h = p.hash.value_or(HashId::kSha1);
  // OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo {|| SuppPubInfo} {|| SuppPrivInfo},
  // each exactly as the caller encoded it.
  SecureBytes other_info = *p.algorithm_id;
  for (const auto* part : {&p.party_u, &p.party_v, &p.supp_pub, &p.supp_priv}) {
    if (part->has_value()) {
      other_info.insert(other_info.end(), (*part)->begin(), (*part)->end());
    }
  }
  std::string digest = soft::md_name(h);
  SecureBytes out(output_length(requested, hash_size(h)));
  // SSKDF with a digest is SP 800-56A's one-step KDF: H(counter32 || Z || OtherInfo)...
  run_kdf("SSKDF",
          {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0),
           octets(OSSL_KDF_PARAM_KEY, secret), octets(OSSL_KDF_PARAM_INFO, other_info)},
          out);
  return out;
}

SecureBytes kdf_hkdf(const KdfParams& p, const SecureBytes& secret, std::size_t requested) {
  const HashId h = p.hash.value_or(HashId::kSha1);
  const std::size_t len = output_length(requested, hash_size(h));
  require(len <= 255 * hash_size(h), NTE_INVALID_PARAMETER, "HKDF output too long");
  std::string digest = soft::md_name(h);
  const SecureBytes empty;
  SecureBytes out(len);
  std::vector<OSSL_PARAM> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0),
      octets(OSSL_KDF_PARAM_KEY, secret),
      octets(OSSL_KDF_PARAM_INFO, p.hkdf_info.has_value() ? *p.hkdf_info : empty)};
  if (p.hkdf_salt.has_value() && !p.hkdf_salt->empty()) {  // none: HashLen zero bytes (RFC 5869)
    params.push_back(octets(OSSL_KDF_PARAM_SALT, *p.hkdf_salt));
  }
  run_kdf("HKDF", std::move(params), out);
  return out;
}

}  // namespace

SecureBytes derive_key(std::u16string_view kdf, const NCryptBufferDesc* params,
                       const SecureBytes& secret, DWORD flags, std::size_t requested_len) {
  const auto is = [&](std::u16string_view name) { return u16_iequals(kdf, name); };
  const bool known = is(BCRYPT_KDF_HASH) || is(BCRYPT_KDF_HMAC) || is(BCRYPT_KDF_TLS_PRF) ||
                     is(BCRYPT_KDF_SP80056A_CONCAT) || is(BCRYPT_KDF_RAW_SECRET) ||
                     is(BCRYPT_KDF_HKDF);
  require(known, NTE_NOT_SUPPORTED, "unknown key derivation function");
  require((flags & ~static_cast<DWORD>(KDF_USE_SECRET_AS_HMAC_KEY_FLAG)) == 0, NTE_BAD_FLAGS,
          "unknown NCryptDeriveKey flags");
  require(!secret.empty(), NTE_INVALID_PARAMETER, "empty secret");
  const KdfParams p = parse_params(params);
  if (is(BCRYPT_KDF_RAW_SECRET)) {
    return SecureBytes(secret.rbegin(), secret.rend());  // CNG's little-endian raw secret
  }
  if (is(BCRYPT_KDF_HASH)) {
    return kdf_hash(p, secret);
  }
  if (is(BCRYPT_KDF_HMAC)) {
    return kdf_hmac(p, secret, flags);
  }
  if (is(BCRYPT_KDF_TLS_PRF)) {
    return kdf_tls_prf(p, secret);
  }
  if (is(BCRYPT_KDF_SP80056A_CONCAT)) {
    return kdf_sp800_56a(p, secret, requested_len);
  }
  return kdf_hkdf(p, secret, requested_len);
}

}  // namespace cng
