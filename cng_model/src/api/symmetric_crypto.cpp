// AES encryption and HMAC through the NCrypt calls: argument checks, the two-call size
// protocol, CBC chaining values and GCM tags handed back through the caller's structures.
#include <openssl/crypto.h>

#include <cstring>

#include "api/output.h"
#include "api/symmetric.h"
#include "core/cng_error.h"

namespace cng::api {

namespace {

constexpr DWORD kBlock = 16;
constexpr DWORD kMaxNonce = 256;
constexpr DWORD kMinTag = 4;
constexpr DWORD kMaxTag = 16;

struct CipherCall {
  SymmetricParams params;
  NCRYPT_CIPHER_PADDING_INFO* info = nullptr;
  PUCHAR tag_out = nullptr;  // GCM encrypt: where the tag goes
};

Bytes copy_of(const PUCHAR p, ULONG n, const char* what) {
  require(p != nullptr || n == 0, NTE_INVALID_PARAMETER, what);
  return n == 0 ? Bytes{} : Bytes(p, p + n);
}

void read_gcm(CipherCall& call, bool encrypt) {
  NCRYPT_CIPHER_PADDING_INFO& info = *call.info;
  require(info.dwFlags == NCRYPT_CIPHER_OTHER_PADDING_FLAG, NTE_INVALID_PARAMETER,
          "GCM needs NCRYPT_CIPHER_OTHER_PADDING_FLAG");
  require(info.cbIV == 0, NTE_INVALID_PARAMETER, "GCM takes its nonce in the mode info");
  require(info.pbOtherInfo != nullptr &&
              info.cbOtherInfo == sizeof(BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO),
          NTE_INVALID_PARAMETER, "GCM needs BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO");
  // pbOtherInfo is a byte pointer: read a copy of the structure rather than cast it.
  BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO a{};
  std::memcpy(&a, info.pbOtherInfo, sizeof a);
  require(a.cbSize == sizeof a && a.dwInfoVersion == BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO_VERSION,
          NTE_INVALID_PARAMETER, "bad BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO size or version");
  require((a.dwFlags & BCRYPT_AUTH_MODE_CHAIN_CALLS_FLAG) == 0, NTE_NOT_SUPPORTED,
          "chained GCM calls are not supported");
  require(a.dwFlags == 0, NTE_BAD_FLAGS, "unknown authenticated mode flags");
  require(a.pbNonce != nullptr && a.cbNonce >= 1 && a.cbNonce <= kMaxNonce, NTE_INVALID_PARAMETER,
          "GCM nonce length");
  require(a.pbTag != nullptr && a.cbTag >= kMinTag && a.cbTag <= kMaxTag, NTE_INVALID_PARAMETER,
          "GCM tag length (4..16 bytes)");
  call.params.iv = copy_of(a.pbNonce, a.cbNonce, "GCM nonce");
  call.params.aad = copy_of(a.pbAuthData, a.cbAuthData, "GCM auth data is NULL");
  call.params.tag_length = a.cbTag;
  if (!encrypt) {
    call.params.tag = copy_of(a.pbTag, a.cbTag, "GCM tag");
  }
  call.tag_out = a.pbTag;
}

CipherCall read_cipher_call(ChainingMode mode, void* padding_info, DWORD flags, bool encrypt) {
  require(
      (flags & NCRYPT_PAD_CIPHER_FLAG) != 0 &&
          (flags & (NCRYPT_NO_PADDING_FLAG | NCRYPT_PAD_PKCS1_FLAG | NCRYPT_PAD_OAEP_FLAG)) == 0,
      NTE_INVALID_PARAMETER, "AES keys need NCRYPT_PAD_CIPHER_FLAG alone");
  require(padding_info != nullptr, NTE_INVALID_PARAMETER, "AES needs NCRYPT_CIPHER_PADDING_INFO");
  CipherCall call;
  call.info = static_cast<NCRYPT_CIPHER_PADDING_INFO*>(padding_info);
  const NCRYPT_CIPHER_PADDING_INFO& info = *call.info;
  require(info.cbSize == sizeof(NCRYPT_CIPHER_PADDING_INFO), NTE_INVALID_PARAMETER,
          "bad NCRYPT_CIPHER_PADDING_INFO size");
  require((info.dwFlags &
           ~DWORD{NCRYPT_CIPHER_BLOCK_PADDING_FLAG | NCRYPT_CIPHER_OTHER_PADDING_FLAG}) == 0,
          NTE_BAD_FLAGS, "unknown cipher padding flags");
  call.params.mode = mode;
  if (mode == ChainingMode::kGcm) {
    read_gcm(call, encrypt);
    return call;
  }
  require(info.dwFlags == NCRYPT_CIPHER_NO_PADDING_FLAG ||
              info.dwFlags == NCRYPT_CIPHER_BLOCK_PADDING_FLAG,
          NTE_INVALID_PARAMETER, "ECB/CBC take no padding or block padding");
  call.params.pkcs7 = info.dwFlags == NCRYPT_CIPHER_BLOCK_PADDING_FLAG;
  if (mode == ChainingMode::kCbc) {
    require(info.pbIV != nullptr && info.cbIV == kBlock, NTE_INVALID_PARAMETER,
            "CBC needs a 16-byte IV");
    call.params.iv = copy_of(info.pbIV, info.cbIV, "IV");
  } else {
    require(info.cbIV == 0, NTE_INVALID_PARAMETER, "ECB takes no IV");
  }
  return call;
}

// The output size: exact, except for a padded decryption (an upper bound, cbInput).
DWORD output_size(bool encrypt, const SymmetricParams& p, DWORD cb_in) {
  if (p.mode == ChainingMode::kGcm) {
    return cb_in;
  }
  if (encrypt && p.pkcs7) {
    require(cb_in <= 0xFFFFFFFFu - kBlock, NTE_BAD_LEN, "input too long");
    return (cb_in / kBlock + 1) * kBlock;
  }
  require(cb_in % kBlock == 0, NTE_BAD_LEN, "input length is not a multiple of the block");
  require(encrypt || !p.pkcs7 || cb_in > 0, NTE_BAD_LEN, "padded ciphertext cannot be empty");
  return cb_in;
}

}  // namespace

void symmetric_crypt_call(bool encrypt, const SymmetricUse& key, PBYTE pbInput, DWORD cbInput,
                          void* pPaddingInfo, PBYTE pbOutput, DWORD cbOutput, DWORD* pcbResult,
                          DWORD dwFlags) {
  require(has_operation(key.material.algorithm(), NCRYPT_CIPHER_OPERATION), NTE_NOT_SUPPORTED,
          "the key does not encrypt");
  const auto input = input_span(pbInput, cbInput, "pbInput is NULL");
  const CipherCall call = read_cipher_call(key.mode, pPaddingInfo, dwFlags, encrypt);
  require((key.key_usage & NCRYPT_ALLOW_DECRYPT_FLAG) != 0, NTE_PERM,
          "the key usage does not allow encryption or decryption");
  const DWORD size = output_size(encrypt, call.params, cbInput);
  *pcbResult = size;
  if (pbOutput == nullptr) {
    return;  // size query: nothing computed, the IV untouched
  }
  const bool exact = encrypt || !call.params.pkcs7;
  require(!exact || cbOutput >= size, NTE_BUFFER_TOO_SMALL, "output buffer too small");
  Bytes next_iv;
  if (call.params.mode == ChainingMode::kCbc && !encrypt && !input.empty()) {
    next_iv.assign(input.end() - kBlock, input.end());  // before an in-place call overwrites it
  }
  const SymmetricResult result = key.material.symmetric_crypt(encrypt, call.params, input);
  write_output(result.output, pbOutput, cbOutput, pcbResult);
  if (call.params.mode == ChainingMode::kCbc) {
    if (encrypt && result.output.size() >= kBlock) {
      next_iv.assign(result.output.end() - kBlock, result.output.end());
    }
    if (!next_iv.empty()) {
      std::memcpy(call.info->pbIV, next_iv.data(), kBlock);
    }
  }
  if (call.params.mode == ChainingMode::kGcm && encrypt) {
    std::memcpy(call.tag_out, result.tag.data(), result.tag.size());
  }
}

namespace {

struct MacCall {
  HashId hash = HashId::kNone;
  DWORD length = 0;
};

MacCall read_mac_call(const SymmetricUse& key, void* padding_info, DWORD flags) {
  require(has_operation(key.material.algorithm(), NCRYPT_HASH_OPERATION), NTE_NOT_SUPPORTED,
          "the key does not compute MACs");
  require((flags & (NCRYPT_PAD_PKCS1_FLAG | NCRYPT_PAD_PSS_FLAG)) == 0, NTE_INVALID_PARAMETER,
          "HMAC takes no padding flags");
  require(padding_info != nullptr, NTE_INVALID_PARAMETER, "HMAC needs NCRYPT_HMAC_PADDING_INFO");
  const auto* info = static_cast<const NCRYPT_HMAC_PADDING_INFO*>(padding_info);
  require(info->pszAlgId != nullptr, NTE_INVALID_PARAMETER, "HMAC needs a hash algorithm");
  MacCall call;
  call.hash = hash_from_alg_id(info->pszAlgId);
  require(call.hash != HashId::kMd5, NTE_NOT_SUPPORTED, "HMAC-MD5 is not supported");
  const auto full = static_cast<DWORD>(hash_size(call.hash));
  require(info->cbMac <= full, NTE_INVALID_PARAMETER, "MAC length longer than the hash");
  call.length = info->cbMac == 0 ? full : info->cbMac;
  require((key.key_usage & NCRYPT_ALLOW_SIGNING_FLAG) != 0, NTE_PERM,
          "the key usage does not allow signing");
  return call;
}

}  // namespace

void hmac_sign_call(const SymmetricUse& key, void* pPaddingInfo, PBYTE pbData, DWORD cbData,
                    PBYTE pbMac, DWORD cbMac, DWORD* pcbResult, DWORD dwFlags) {
  const auto data = input_span(pbData, cbData, "pbHashValue is NULL");
  const MacCall call = read_mac_call(key, pPaddingInfo, dwFlags);
  *pcbResult = call.length;
  if (pbMac == nullptr) {
    return;
  }
  require(cbMac >= call.length, NTE_BUFFER_TOO_SMALL, "MAC buffer too small");
  const Bytes mac = key.material.hmac(call.hash, data);
  write_output(std::span(mac).first(call.length), pbMac, cbMac, pcbResult);
}

void hmac_verify_call(const SymmetricUse& key, void* pPaddingInfo, PBYTE pbData, DWORD cbData,
                      PBYTE pbMac, DWORD cbMac, DWORD dwFlags) {
  const auto data = input_span(pbData, cbData, "pbHashValue is NULL");
  require(pbMac != nullptr, NTE_INVALID_PARAMETER, "pbSignature is NULL");
  const MacCall call = read_mac_call(key, pPaddingInfo, dwFlags);
  require(cbMac == call.length, NTE_BAD_SIGNATURE, "MAC length differs from the one asked for");
  const Bytes mac = key.material.hmac(call.hash, data);
  require(CRYPTO_memcmp(mac.data(), pbMac, call.length) == 0, NTE_BAD_SIGNATURE,
          "MAC does not verify");
}

}  // namespace cng::api
