// Cryptographic operations in progress in a session, and the mechanism registry.
// The session layer (module/) owns at most one operation per kind per session and calls these;
// the mechanism layer (module/mechanisms/) implements them over NCrypt (private-key work) and
// OpenSSL (digests, public-key work). All functions throw P11Error on failure.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "bridge/bytes.h"
#include "core/p11_error.h"
#include "mechanisms/key_view.h"
#include "slots/capabilities.h"

namespace p11 {

// A multi-part-capable operation: sign, verify, encrypt, decrypt or digest.
// For sign/encrypt/decrypt/digest, output_size() gives the buffer size the caller needs
// before final(), so the ABI can implement the size-query convention (pBuffer NULL or too
// small → CKR_BUFFER_TOO_SMALL) without losing the operation state.
class Operation {
 public:
  Operation() = default;
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;
  virtual ~Operation() = default;

  // Feeds data (C_SignUpdate, C_VerifyUpdate, C_DigestUpdate). Throws errors such as
  // CKR_DATA_LEN_RANGE. Single-part mechanisms (CKM_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_ECDSA, the
  // RSA encryption mechanisms) throw CKR_OPERATION_NOT_INITIALIZED: PKCS#11 does not list
  // CKR_FUNCTION_NOT_SUPPORTED for C_SignUpdate & co., and SoftHSMv2 and kryoptic both answer
  // CKR_OPERATION_NOT_INITIALIZED (and end the operation) there; we do the same so clients see
  // one behaviour. Multi-part ciphers (AES) are fed through update_output() and throw
  // CKR_GENERAL_ERROR here.
  virtual void update(std::span<const std::uint8_t> data) = 0;
  // The output size final() (for RSA also one_shot()) will produce now. Exact for sign,
  // digest and encrypt (RSA: the modulus length); for decrypt an upper bound (RSA: the modulus
  // length) until a result has been produced, then exact.
  [[nodiscard]] virtual std::size_t output_size() const = 0;
  // C_*Final: the result (signature, ciphertext, plaintext, digest) of all data fed so far.
  // Single-part mechanisms throw CKR_OPERATION_NOT_INITIALIZED. A second call throws
  // CKR_OPERATION_NOT_INITIALIZED, except for decrypt, which returns the same plaintext again
  // (so the ABI may retry after a too-small buffer).
  [[nodiscard]] virtual std::vector<std::uint8_t> final() = 0;
  // C_Sign / C_Encrypt / C_Decrypt / C_Digest: the whole input in one call. This is the only
  // way to feed a single-part mechanism. Default: update(data), then final().
  [[nodiscard]] virtual std::vector<std::uint8_t> one_shot(std::span<const std::uint8_t> data);
  // Verify only (C_VerifyFinal): checks the signature over all data fed so far; throws
  // CKR_SIGNATURE_INVALID or CKR_SIGNATURE_LEN_RANGE. Other kinds throw CKR_GENERAL_ERROR.
  virtual void verify_final(std::span<const std::uint8_t> signature);
  // Verify only (C_Verify): the whole data and the signature in one call.
  // Default: update(data), then verify_final(signature).
  virtual void verify_one_shot(std::span<const std::uint8_t> data,
                               std::span<const std::uint8_t> signature);
  // True when the mechanism accepts C_*Update (hash-combined, digest, HMAC and the AES
  // mechanisms).
  [[nodiscard]] virtual bool multi_part() const noexcept = 0;

  // Encrypt and decrypt (C_EncryptUpdate / C_DecryptUpdate). The ABI calls these instead of
  // update() for the two cipher kinds, and only when multi_part() is true.
  // The exact number of bytes update_output() would return for input_len more bytes now; the
  // state is unchanged, so the ABI answers a length query (NULL output) or CKR_BUFFER_TOO_SMALL
  // without consuming the input. Default: 0.
  [[nodiscard]] virtual std::size_t update_output_size(std::size_t input_len) const;
  // Feeds data and returns the output that became available (a cipher may hold back a partial
  // block, CBC_PAD decryption the last block, GCM everything until C_*Final).
  // Default: update(data), no output.
  [[nodiscard]] virtual std::vector<std::uint8_t> update_output(std::span<const std::uint8_t> data);
  // C_Encrypt / C_Decrypt length query: the size one_shot() produces for input_len bytes
  // (exact for encrypt; for decrypt an upper bound until a result exists, then exact).
  // Default: output_size() (the RSA mechanisms' size does not depend on the input).
  [[nodiscard]] virtual std::size_t one_shot_output_size(std::size_t input_len) const;

  // CKA_ALWAYS_AUTHENTICATE (PKCS#11 3.0 §5.5): true while the operation's key waits for
  // C_Login(CKU_CONTEXT_SPECIFIC). Only private-key operations on such a key say so.
  [[nodiscard]] virtual bool needs_context_login() const noexcept { return false; }
  // C_Login(CKU_CONTEXT_SPECIFIC) for this operation (the PIN is checked through NCrypt:
  // CKR_PIN_INCORRECT, CKR_PIN_LOCKED). Default: CKR_OPERATION_NOT_INITIALIZED.
  virtual void context_login(std::span<const std::uint8_t> pin);
};

enum class OpKind { kSign, kVerify, kEncrypt, kDecrypt, kDigest };

// Starts an operation. Checks, in this order: the mechanism is in the slot's table and
// supports kind (CKR_MECHANISM_INVALID); the key's class and type (CKR_KEY_TYPE_INCONSISTENT);
// its usage attribute (CKR_KEY_FUNCTION_NOT_PERMITTED); CKA_ALLOWED_MECHANISMS
// (CKR_MECHANISM_INVALID); the parameter (CKR_MECHANISM_PARAM_INVALID); the key size
// (CKR_KEY_SIZE_RANGE). key is ignored for kDigest (may be null); a null key otherwise is
// CKR_KEY_HANDLE_INVALID. caps are the slot's (slots::Slot::capabilities()): they decide which
// mechanisms it offers and the key sizes it takes.
std::unique_ptr<Operation> start_operation(OpKind kind, const CK_MECHANISM& mechanism,
                                           const KeyView* key, const slots::Capabilities& caps);

// One-shot digest of a key's value for C_DigestKey is out of scope: CKR_KEY_INDIGESTIBLE.

// True for CKM_RSA_PKCS_KEY_PAIR_GEN and CKM_EC_KEY_PAIR_GEN (the object layer generates the
// keys; their size limits are mechanism_info()'s ulMinKeySize/ulMaxKeySize).
bool is_key_pair_gen_mechanism(CK_MECHANISM_TYPE type) noexcept;

// CKM_ECDH1_DERIVE: returns the derived secret value (CKD_NULL: the raw X coordinate,
// big-endian; CKD_SHA*_KDF: ANSI X9.63 KDF) of length value_len (0 = natural length: the
// field size for CKD_NULL, the hash size for a KDF). CKD_NULL with value_len below the field
// size keeps the leading bytes (as OpenSSL does); above it → CKR_TEMPLATE_INCONSISTENT.
// pPublicData may be the raw 04||X||Y point or a DER OCTET STRING holding it.
// Same check order as start_operation (key must be a CKK_EC private key with can_derive).
// user_pin: the PIN of the user's C_Login(CKU_USER) (null when not logged in), which a
// CKA_ALWAYS_AUTHENTICATE key's secret agreement needs (ecdh_derive.cpp says why).
std::vector<std::uint8_t> ecdh_derive(const CK_MECHANISM& mechanism, const KeyView& key,
                                      CK_ULONG value_len, const slots::Capabilities& caps,
                                      const SecretBytes* user_pin = nullptr);

// The mechanism table of a slot with these capabilities (its Slot's): mechanism_table_for(caps),
// kept for the life of the process (one table per distinct capability set).
struct MechanismEntry {
  CK_MECHANISM_TYPE type;
  CK_MECHANISM_INFO info;
};
const std::vector<MechanismEntry>& mechanism_table(const slots::Capabilities& caps);
// The rows a provider with these capabilities supports: each row names the abilities it needs
// (RSA rows RSA, ECDSA rows an ECDSA curve, CKM_ECDH1_DERIVE an ECDH curve, PSS/OAEP/raw RSA
// what the profile declares, digests nothing: computed by OpenSSL). Key sizes: RSA from the
// provider's Lengths, EC from its curves.
std::vector<MechanismEntry> mechanism_table_for(const slots::Capabilities& caps);
// CKR_MECHANISM_INVALID when the mechanism is not in the slot's table.
CK_MECHANISM_INFO mechanism_info(CK_MECHANISM_TYPE type, const slots::Capabilities& caps);

// Random numbers for C_GenerateRandom / C_SeedRandom (OpenSSL's DRBG). Any length (chunked
// below INT_MAX); failure → CKR_FUNCTION_FAILED. The seed is mixed in as additional input
// without entropy credit.
void generate_random(std::span<std::uint8_t> out);
void seed_random(std::span<const std::uint8_t> seed);

}  // namespace p11
