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

#include "core/p11_error.h"
#include "mechanisms/key_view.h"

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

  // Feeds data (C_*Update). Throws CKR_OPERATION_ACTIVE-free errors such as
  // CKR_DATA_LEN_RANGE; mechanisms without multi-part support throw CKR_FUNCTION_NOT_SUPPORTED.
  virtual void update(std::span<const std::uint8_t> data) = 0;
  // Upper bound of the output final() will produce now.
  [[nodiscard]] virtual std::size_t output_size() const = 0;
  // Produces the result (signature, ciphertext, plaintext, digest) of all data fed so far.
  [[nodiscard]] virtual std::vector<std::uint8_t> final() = 0;
  // Verify only: checks the signature over all data fed so far; throws CKR_SIGNATURE_INVALID
  // or CKR_SIGNATURE_LEN_RANGE.
  virtual void verify_final(std::span<const std::uint8_t> signature);
  // True when the mechanism accepts C_*Update (hash-combined and digest mechanisms).
  [[nodiscard]] virtual bool multi_part() const noexcept = 0;
};

enum class OpKind { kSign, kVerify, kEncrypt, kDecrypt, kDigest };

// Starts an operation. Checks the mechanism is known (CKR_MECHANISM_INVALID), its parameter
// (CKR_MECHANISM_PARAM_INVALID), the key type (CKR_KEY_TYPE_INCONSISTENT), the key's usage
// attribute (CKR_KEY_FUNCTION_NOT_PERMITTED) and CKA_ALLOWED_MECHANISMS. key is ignored for
// kDigest.
std::unique_ptr<Operation> start_operation(OpKind kind, const CK_MECHANISM& mechanism,
                                           const KeyView* key);

// One-shot digest of a key's value for C_DigestKey is out of scope: CKR_KEY_INDIGESTIBLE.

// Key pair generation parameters decoded from a mechanism (CKM_RSA_PKCS_KEY_PAIR_GEN,
// CKM_EC_KEY_PAIR_GEN): validated against C_GetMechanismInfo limits.
bool is_key_pair_gen_mechanism(CK_MECHANISM_TYPE type) noexcept;

// CKM_ECDH1_DERIVE: returns the derived secret value (CKD_NULL: the raw X coordinate,
// big-endian; CKD_SHA*_KDF: ANSI X9.63 KDF) of length value_len (0 = natural length).
std::vector<std::uint8_t> ecdh_derive(const CK_MECHANISM& mechanism, const KeyView& key,
                                      CK_ULONG value_len);

// The mechanism table of a slot. provider_is_tpm selects the platform provider's subset.
struct MechanismEntry {
  CK_MECHANISM_TYPE type;
  CK_MECHANISM_INFO info;
};
const std::vector<MechanismEntry>& mechanism_table(bool provider_is_tpm);
// CKR_MECHANISM_INVALID when the mechanism is not in the slot's table.
CK_MECHANISM_INFO mechanism_info(CK_MECHANISM_TYPE type, bool provider_is_tpm);

// Random numbers for C_GenerateRandom / C_SeedRandom (OpenSSL's DRBG).
void generate_random(std::span<std::uint8_t> out);
void seed_random(std::span<const std::uint8_t> seed);

}  // namespace p11
