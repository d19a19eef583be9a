// TpmKey's private-key operations: TPM2_Sign, TPM2_RSA_Decrypt, TPM2_ECDH_ZGen.
#include <openssl/crypto.h>

#include <algorithm>
#include <array>

#include "core/cng_error.h"
#include "providers/platform/tpm_key.h"
#include "providers/platform/tss_error.h"
#include "providers/software/algorithm_util.h"
#include "providers/software/bcrypt_blobs.h"
#include "providers/usage_auth.h"

namespace cng::tpm {

namespace {

using ByteView = std::span<const std::uint8_t>;

constexpr std::size_t kPkcs1Overhead = 11;  // 00 01 PS(>= 8 x FF) 00

// DER DigestInfo prefixes (RFC 8017 §9.2, note 1), for PKCS#1 v1.5 built outside the TPM.
constexpr std::array<std::uint8_t, 18> kMd5Prefix = {0x30, 0x20, 0x30, 0x0c, 0x06, 0x08,
                                                     0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                                     0x02, 0x05, 0x05, 0x00, 0x04, 0x10};
constexpr std::array<std::uint8_t, 15> kSha1Prefix = {
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
// SHA-2: the same 19 bytes but for the length bytes and the last OID arc.
std::array<std::uint8_t, 19> sha2_prefix(std::uint8_t total_len, std::uint8_t arc,
                                         std::uint8_t digest_len) {
  return {0x30, total_len, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,      0x01,
          0x65, 0x03,      0x04, 0x02, arc,  0x05, 0x00, 0x04, digest_len};
}

Bytes digest_info_prefix(HashId h) {
  switch (h) {
    case HashId::kMd5:
      return {kMd5Prefix.begin(), kMd5Prefix.end()};
    case HashId::kSha1:
      return {kSha1Prefix.begin(), kSha1Prefix.end()};
    case HashId::kSha224: {
      const auto p = sha2_prefix(0x2d, 0x04, 0x1c);
      return {p.begin(), p.end()};
    }
    case HashId::kSha256: {
      const auto p = sha2_prefix(0x31, 0x01, 0x20);
      return {p.begin(), p.end()};
    }
    case HashId::kSha384: {
      const auto p = sha2_prefix(0x41, 0x02, 0x30);
      return {p.begin(), p.end()};
    }
    case HashId::kSha512: {
      const auto p = sha2_prefix(0x51, 0x03, 0x40);
      return {p.begin(), p.end()};
    }
    case HashId::kNone:
      break;
  }
  return {};
}

template <class Out>
Out left_pad(ByteView value, std::size_t len, const char* what) {
  // Strip leading zeros beyond len (a TPM may return a fixed-size buffer).
  while (value.size() > len && value.front() == 0) {
    value = value.subspan(1);
  }
  require(value.size() <= len, NTE_INTERNAL_ERROR, what);
  Out out(len - value.size(), 0);
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

template <class T2B>
void copy_into(T2B& dest, ByteView src, SECURITY_STATUS status, const char* what) {
  require(src.size() <= sizeof dest.buffer, status, what);
  dest.size = static_cast<UINT16>(src.size());
  std::copy(src.begin(), src.end(), dest.buffer);
}

// ECDSA uses the leftmost order-bits of the digest (FIPS 186-4 §6.4).
Bytes truncate_to_order(ByteView digest, Curve curve) {
  const std::size_t order_bits = curve == Curve::kP521 ? 521 : soft::field_bytes(curve) * 8;
  const std::size_t order_bytes = (order_bits + 7) / 8;
  if (digest.size() * 8 <= order_bits) {
    return {digest.begin(), digest.end()};
  }
  Bytes out(digest.begin(), digest.begin() + static_cast<std::ptrdiff_t>(order_bytes));
  const unsigned shift = static_cast<unsigned>(order_bytes * 8 - order_bits);
  if (shift != 0) {  // shift the kept bits right, as an integer of order_bits bits
    for (std::size_t i = out.size(); i-- > 0;) {
      const unsigned hi = i > 0 ? static_cast<unsigned>(out[i - 1]) << (8 - shift) : 0U;
      out[i] = static_cast<std::uint8_t>(((static_cast<unsigned>(out[i]) >> shift) | hi) & 0xFFU);
    }
  }
  return out;
}

// TPM2_GetTestResult works even in failure mode: tells a real TPM failure from a command that
// merely reported one.
bool tpm_still_healthy(ESYS_CONTEXT* esys) {
  EsysOut<TPM2B_MAX_BUFFER> data;
  TPM2_RC result = TPM2_RC_FAILURE;
  const TSS2_RC rc =
      Esys_GetTestResult(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, out(data), &result);
  return rc == TSS2_RC_SUCCESS && result == TPM2_RC_SUCCESS;
}

// The current operation's usage authorisation (usage_auth.h) as the loaded key's authValue for
// the password session, for the length of one TPM command; empty for keys without a PIN. A
// wrong one fails the command with TPM_RC_BAD_AUTH / TPM_RC_AUTH_FAIL (NTE_INCORRECT_PASSWORD,
// tss_error.cpp), counted by the TPM's dictionary-attack protection.
class KeyAuth {
 public:
  KeyAuth(ESYS_CONTEXT* esys, ESYS_TR key) : esys_(esys), key_(key) {
    const SecureBytes& auth = current_usage_auth();
    TPM2B_AUTH value{};
    require(auth.size() <= sizeof value.buffer, NTE_INVALID_PARAMETER, "auth value too long");
    value.size = static_cast<UINT16>(auth.size());
    std::copy(auth.begin(), auth.end(), value.buffer);
    const TSS2_RC rc = Esys_TR_SetAuth(esys_, key_, &value);
    OPENSSL_cleanse(&value, sizeof value);
    check_tss(rc, "Esys_TR_SetAuth");
  }
  ~KeyAuth() {
    const TPM2B_AUTH empty{};
    (void)Esys_TR_SetAuth(esys_, key_, &empty);
  }
  KeyAuth(const KeyAuth&) = delete;
  KeyAuth& operator=(const KeyAuth&) = delete;

 private:
  ESYS_CONTEXT* esys_;
  ESYS_TR key_;
};

}  // namespace

TPMT_SIGNATURE TpmKey::tpm_sign(const TPMT_SIG_SCHEME& scheme, ByteView digest) const {
  TPM2B_DIGEST in{};
  copy_into(in, digest, NTE_INVALID_PARAMETER, "digest too long for the TPM");
  // A NULL-hierarchy ticket: the key is not restricted, so the TPM needs no proof that it
  // computed the digest itself.
  TPMT_TK_HASHCHECK ticket{};
  ticket.tag = TPM2_ST_HASHCHECK;
  ticket.hierarchy = TPM2_RH_NULL;
  TPMT_SIGNATURE result{};
  connection_->run([&](TpmConnection::Session& s) {
    const ESYS_TR key = s.load(id_, blob_);
    const KeyAuth auth(s.esys(), key);
    EsysOut<TPMT_SIGNATURE> sig;
    check_tss(Esys_Sign(s.esys(), key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &in, &scheme,
                        &ticket, out(sig)),
              "TPM2_Sign");
    result = *sig;
  });
  return result;
}

Bytes TpmKey::sign_hash(const SignPadding& pad, ByteView hash) const {
  require(!hash.empty(), NTE_INVALID_PARAMETER, "empty digest");
  return algorithm_ == KeyAlgorithm::kRsa ? sign_rsa(pad, hash) : sign_ecdsa(hash);
}

Bytes TpmKey::sign_rsa(const SignPadding& pad, ByteView hash) const {
  const TpmCapabilities& caps = connection_->capabilities();
  const std::size_t k = signature_size();
  if (pad.hash != HashId::kNone) {
    require(hash.size() == hash_size(pad.hash), NTE_INVALID_PARAMETER,
            "digest length does not match the hash algorithm");
  }
  TPMT_SIG_SCHEME scheme{};
  if (pad.flags == NCRYPT_PAD_PKCS1_FLAG) {
    if (pad.hash == HashId::kNone || !caps.has_hash(pad.hash)) {
      return sign_pkcs1_raw(pad, hash);
    }
    scheme.scheme = TPM2_ALG_RSASSA;
    scheme.details.rsassa.hashAlg = tpm_hash(pad.hash);
    const TPMT_SIGNATURE sig = tpm_sign(scheme, hash);
    const auto& s = sig.signature.rsassa.sig;
    return left_pad<Bytes>({s.buffer, s.size}, k, "RSA signature too long");
  }
  require(pad.flags == NCRYPT_PAD_PSS_FLAG, NTE_INVALID_PARAMETER,
          "RSA signatures need PKCS1 or PSS padding");
  require(pad.hash != HashId::kNone, NTE_INVALID_PARAMETER, "PSS needs a hash algorithm");
  require(caps.rsapss && caps.has_hash(pad.hash), NTE_NOT_SUPPORTED,
          "the TPM cannot make PSS signatures with this hash");
  const std::size_t em_len = (bits() - 1 + 7) / 8;
  require(std::size_t{pad.salt} + hash.size() + 2 <= em_len, NTE_INVALID_PARAMETER,
          "PSS salt too long for the modulus");
  scheme.scheme = TPM2_ALG_RSAPSS;
  scheme.details.rsapss.hashAlg = tpm_hash(pad.hash);
  const TPMT_SIGNATURE sig = tpm_sign(scheme, hash);
  const auto& s = sig.signature.rsapss.sig;
  Bytes out = left_pad<Bytes>({s.buffer, s.size}, k, "RSA signature too long");
  // The TPM picks the salt length itself (the digest length on current TPMs, the maximum on
  // some older ones). Only a signature that verifies with the caller's salt length is returned.
  try {
    public_->verify_signature(pad, hash, out);
  } catch (const CngError& e) {
    if (e.status() != NTE_BAD_SIGNATURE) {
      throw;
    }
    SignPadding as_tpm = pad;
    as_tpm.salt = static_cast<DWORD>(hash.size());
    std::string used = "an unknown salt length";
    try {
      public_->verify_signature(as_tpm, hash, out);
      used = "a salt as long as the digest";
    } catch (const CngError&) {
      used = "the maximum salt length";
    }
    fail(NTE_NOT_SUPPORTED, "the TPM makes PSS signatures only with " + used);
  }
  return out;
}

// PKCS#1 v1.5 signature of an already-encoded DigestInfo (or of a hash the TPM does not
// implement): EMSA-PKCS1-v1_5 padding here, the private-key operation in the TPM
// (TPM2_RSA_Decrypt with the NULL scheme is the raw RSA private operation).
Bytes TpmKey::sign_pkcs1_raw(const SignPadding& pad, ByteView hash) const {
  const std::size_t k = signature_size();
  Bytes t = pad.hash == HashId::kNone ? Bytes{} : digest_info_prefix(pad.hash);
  t.insert(t.end(), hash.begin(), hash.end());
  require(t.size() + kPkcs1Overhead <= k, NTE_INVALID_PARAMETER,
          "input too long for PKCS#1 padding");
  Bytes block(k, 0xFF);
  block[0] = 0x00;
  block[1] = 0x01;
  block[k - t.size() - 1] = 0x00;
  std::copy(t.begin(), t.end(), block.end() - static_cast<std::ptrdiff_t>(t.size()));
  TPMT_RSA_DECRYPT scheme{};
  scheme.scheme = TPM2_ALG_NULL;
  const SecureBytes sig = tpm_decrypt(scheme, block, {});
  return left_pad<Bytes>(sig, k, "RSA signature too long");
}

Bytes TpmKey::sign_ecdsa(ByteView hash) const {
  const TpmCapabilities& caps = connection_->capabilities();
  const Curve c = curve();
  const std::size_t field = soft::field_bytes(c);
  Bytes digest = truncate_to_order(hash, c);
  // Left zero-padding keeps the digest's integer value, so the shortest TPM hash size that
  // holds the digest (and is no longer than the order, so the TPM truncates nothing) works.
  HashId as_hash = HashId::kNone;
  for (const HashId h : {HashId::kSha1, HashId::kSha256, HashId::kSha384, HashId::kSha512}) {
    if (caps.has_hash(h) && hash_size(h) >= digest.size() && hash_size(h) <= field) {
      as_hash = h;
      break;
    }
  }
  require(as_hash != HashId::kNone, NTE_NOT_SUPPORTED,
          "the TPM has no hash algorithm of a size fitting this digest");
  digest.insert(digest.begin(), hash_size(as_hash) - digest.size(), 0);
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_ECDSA;
  scheme.details.ecdsa.hashAlg = tpm_hash(as_hash);
  const TPMT_SIGNATURE sig = tpm_sign(scheme, digest);
  const auto& r = sig.signature.ecdsa.signatureR;
  const auto& s = sig.signature.ecdsa.signatureS;
  Bytes out = left_pad<Bytes>({r.buffer, r.size}, field, "ECDSA r too long");
  const Bytes s_bytes = left_pad<Bytes>({s.buffer, s.size}, field, "ECDSA s too long");
  out.insert(out.end(), s_bytes.begin(), s_bytes.end());
  return out;
}

SecureBytes TpmKey::tpm_decrypt(const TPMT_RSA_DECRYPT& scheme, ByteView cipher,
                                ByteView label) const {
  TPM2B_PUBLIC_KEY_RSA in{};
  const Bytes block = left_pad<Bytes>(cipher, signature_size(), "ciphertext too long");
  copy_into(in, block, NTE_INVALID_PARAMETER, "ciphertext too long for the TPM");
  TPM2B_DATA tpm_label{};
  copy_into(tpm_label, label, NTE_NOT_SUPPORTED, "OAEP label too long for the TPM");
  SecureBytes result;
  connection_->run([&](TpmConnection::Session& s) {
    const ESYS_TR key = s.load(id_, blob_);
    const KeyAuth auth(s.esys(), key);
    EsysOut<TPM2B_PUBLIC_KEY_RSA> message;
    const TSS2_RC rc = Esys_RSA_Decrypt(s.esys(), key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                        &in, &scheme, &tpm_label, out(message));
    if (rc != TSS2_RC_SUCCESS) {
      if (tpm_base_code(rc) == TPM2_RC_FAILURE && tpm_still_healthy(s.esys())) {
        // libtpms answers a failed OAEP/PKCS#1 unpadding with TPM_RC_FAILURE without entering
        // failure mode. Bad padding is bad caller data: the software provider's status.
        fail(NTE_INVALID_PARAMETER, "RSA decryption failed");
      }
      fail_tss(rc, "TPM2_RSA_Decrypt");
    }
    result.assign(message->buffer, message->buffer + message->size);
    OPENSSL_cleanse(message.get(), sizeof(TPM2B_PUBLIC_KEY_RSA));
  });
  return result;
}

SecureBytes TpmKey::decrypt(const CipherPadding& pad, ByteView cipher) const {
  require(algorithm_ == KeyAlgorithm::kRsa, NTE_NOT_SUPPORTED, "only RSA keys decrypt");
  const std::size_t k = signature_size();
  require(!cipher.empty() && cipher.size() <= k, NTE_INVALID_PARAMETER,
          "ciphertext length out of range");
  TPMT_RSA_DECRYPT scheme{};
  ByteView label;
  switch (pad.flags) {
    case NCRYPT_NO_PADDING_FLAG: {
      scheme.scheme = TPM2_ALG_NULL;
      const SecureBytes raw = tpm_decrypt(scheme, cipher, {});
      return left_pad<SecureBytes>(raw, k, "RSA result too long");
    }
    case NCRYPT_PAD_PKCS1_FLAG:
      scheme.scheme = TPM2_ALG_RSAES;
      break;
    case NCRYPT_PAD_OAEP_FLAG:
      require(pad.hash != HashId::kNone, NTE_INVALID_PARAMETER, "OAEP needs a hash algorithm");
      require(connection_->capabilities().has_hash(pad.hash), NTE_NOT_SUPPORTED,
              "the TPM does not implement this OAEP hash");
      // The TPM uses the label bytes as given but insists that they end with a zero byte
      // (TPM 2.0 Part 1, "label" for OAEP); another label cannot be expressed to it.
      require(pad.label.empty() || pad.label.back() == 0, NTE_NOT_SUPPORTED,
              "the TPM accepts only OAEP labels that end with a zero byte");
      scheme.scheme = TPM2_ALG_OAEP;
      scheme.details.oaep.hashAlg = tpm_hash(pad.hash);
      label = pad.label;
      break;
    default:
      fail(NTE_INVALID_PARAMETER, "RSA decryption needs exactly one of NO_PADDING, PKCS1, OAEP");
  }
  return tpm_decrypt(scheme, cipher, label);
}

SecureBytes TpmKey::agree(const KeyMaterial& peer) const {
  require(algorithm_ == KeyAlgorithm::kEcdh, NTE_NOT_SUPPORTED,
          "secret agreement needs an ECDH key");
  const Curve c = curve();
  require(peer.algorithm() != KeyAlgorithm::kRsa && peer.curve() == c, NTE_INVALID_PARAMETER,
          "peer key is not on the same curve");
  const soft::ParsedKey parsed =
      soft::parse_bcrypt_blob(BCRYPT_PUBLIC_KEY_BLOB, peer.public_blob());
  const Bytes xy = soft::ec_public_xy(parsed.key.get(), c);
  const std::size_t field = soft::field_bytes(c);
  TPM2B_ECC_POINT point{};
  copy_into(point.point.x, ByteView(xy).first(field), NTE_INVALID_PARAMETER, "peer X too long");
  copy_into(point.point.y, ByteView(xy).subspan(field), NTE_INVALID_PARAMETER, "peer Y too long");
  SecureBytes result;
  connection_->run([&](TpmConnection::Session& s) {
    const ESYS_TR key = s.load(id_, blob_);
    const KeyAuth auth(s.esys(), key);
    EsysOut<TPM2B_ECC_POINT> z;
    check_tss(
        Esys_ECDH_ZGen(s.esys(), key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &point, out(z)),
        "TPM2_ECDH_ZGen");
    result =
        left_pad<SecureBytes>({z->point.x.buffer, z->point.x.size}, field, "ECDH result too long");
    OPENSSL_cleanse(z.get(), sizeof(TPM2B_ECC_POINT));
  });
  return result;
}

}  // namespace cng::tpm
