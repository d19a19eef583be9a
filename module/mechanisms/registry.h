// The mechanism registry: one declarative row per mechanism (what C_GetMechanismInfo reports,
// which key it needs, which provider abilities a slot needs to offer it, how its parameter is
// decoded and which factory makes its operations). start_operation and mechanism_table read
// only this.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "bridge/key_types/key_type.h"
#include "mechanisms/hashes.h"
#include "mechanisms/operation.h"

namespace p11::mech {

enum class Family : std::uint8_t {
  kKeyPairGen,  // CKM_*_KEY_PAIR_GEN (the object layer generates)
  kKeyGen,      // CKM_AES_KEY_GEN, CKM_GENERIC_SECRET_KEY_GEN (C_GenerateKey, the object layer)
  kRsaPkcs,     // PKCS#1 v1.5 sign/verify/encrypt/decrypt (raw DigestInfo or hash-combined)
  kRsaPss,      // PSS sign/verify (raw digest or hash-combined)
  kRsaOaep,     // OAEP encrypt/decrypt
  kRsaX509,     // raw RSA encrypt/decrypt
  kEcdsa,       // ECDSA sign/verify (raw digest or hash-combined)
  kEcdh,        // CKM_ECDH1_DERIVE (ecdh_derive)
  kDigest,      // CKM_SHA*
  kAesBlock,    // CKM_AES_ECB / CKM_AES_CBC / CKM_AES_CBC_PAD (NCrypt chaining modes)
  kAesCtr,      // CKM_AES_CTR (ECB of counter blocks through NCrypt, XOR in the module)
  kAesGcm,      // CKM_AES_GCM (NCrypt GCM)
  kAesKeyWrap,  // CKM_AES_KEY_WRAP(_PAD/_KWP): C_WrapKey/C_UnwrapKey (the object layer, NCrypt
                // export/import under the wrapping key; no operation)
  kHmac,        // CKM_SHA*_HMAC and CKM_SHA*_HMAC_GENERAL (NCryptSignHash on a generic secret)
};

// The object class the key of each operation kind must have.
struct KeyClasses {
  CK_OBJECT_CLASS sign;
  CK_OBJECT_CLASS verify;
  CK_OBJECT_CLASS encrypt;
  CK_OBJECT_CLASS decrypt;
};
// Key pairs: sign and decrypt with the private key, verify and encrypt with the public key.
inline constexpr KeyClasses kPairClasses{CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_PUBLIC_KEY,
                                         CKO_PRIVATE_KEY};
// Secret keys: one key for all four kinds.
inline constexpr KeyClasses kSecretClasses{CKO_SECRET_KEY, CKO_SECRET_KEY, CKO_SECRET_KEY,
                                           CKO_SECRET_KEY};
// Digests take no key.
inline constexpr KeyClasses kNoKeyClasses{CK_UNAVAILABLE_INFORMATION, CK_UNAVAILABLE_INFORMATION,
                                          CK_UNAVAILABLE_INFORMATION, CK_UNAVAILABLE_INFORMATION};

// A mechanism parameter decoded and validated by the row's decoder.
struct DecodedParams {
  HashAlg hash = HashAlg::kNone;  // PSS/OAEP hashAlg (= MGF1 hash)
  CK_ULONG salt_len = 0;          // PSS sLen
  // OAEP label; points into the caller's parameter: factories copy it.
  std::span<const std::uint8_t> label;
  // AES: the CBC IV (16 bytes), the CTR initial counter block (16 bytes) or the GCM IV (1..256
  // bytes); GCM additional authenticated data. Both point into the caller's parameter.
  std::span<const std::uint8_t> iv;
  std::span<const std::uint8_t> aad;
  CK_ULONG counter_bits = 0;  // CTR: the low bits of the counter block that are incremented
  CK_ULONG tag_bytes = 0;     // GCM: tag length (4..16)
  CK_ULONG mac_bytes = 0;     // HMAC: MAC length (the hash size, or the _GENERAL parameter)
};

// Info flags a row offers only on a slot that has more abilities than the row needs.
struct FlagGrant {
  CK_FLAGS flags = 0;
  slots::Abilities needs{};
};

struct MechanismSpec;
// Throws CKR_MECHANISM_PARAM_INVALID.
using ParamDecoder = void (*)(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                              DecodedParams& out);
// Makes the operation once every generic check has passed.
using OpFactory = std::unique_ptr<Operation> (*)(OpKind kind, const MechanismSpec& spec,
                                                 const DecodedParams& params, const KeyView* key);

struct MechanismSpec {
  CK_MECHANISM_TYPE type;
  Family family;
  CK_KEY_TYPE key_type;    // a registered key type (bridge/key_types/key_type.h);
                           // CK_UNAVAILABLE_INFORMATION for digests
  KeyClasses key_classes;  // the key object class each operation kind needs
  HashAlg hash;            // hash of a hash-combined or digest mechanism; kNone for raw
  CK_FLAGS flags;          // C_GetMechanismInfo flags
  slots::Abilities needs;  // offered on a slot whose capabilities have all of these
  ParamDecoder decode;     // nullptr: the mechanism takes no parameter, and one given is
                           // CKR_MECHANISM_PARAM_INVALID (decode_params);
                           // decoded_by_caller: the path that runs it reads the parameter
  OpFactory make;          // nullptr: no sign/verify/encrypt/decrypt/digest operation
  // More flags where the slot can (CKM_RSA_PKCS/_OAEP: CKF_WRAP | CKF_UNWRAP of secret keys).
  FlagGrant extra{};
};

// nullptr when the mechanism is unknown.
const MechanismSpec* find_mechanism(CK_MECHANISM_TYPE type) noexcept;
// All rows, in C_GetMechanismList order.
std::span<const MechanismSpec> all_mechanisms() noexcept;

// Decodes the mechanism's parameter with the row's decoder; for a row without one, a parameter
// given at all (pParameter != NULL or ulParameterLen != 0) is CKR_MECHANISM_PARAM_INVALID.
void decode_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism, DecodedParams& out);
// The decoder of rows whose parameter their own path reads (key wrap in objects/layer_wrap.cpp,
// ECDH in ecdh_derive.cpp): does nothing here.
void decoded_by_caller(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                       DecodedParams& out) noexcept;

// Key sizes the provider supports for a key type, in the unit C_GetMechanismInfo reports:
// bits for RSA (modulus) and EC (field size), bytes for AES and generic secrets (PKCS#11
// reports symmetric key sizes in bytes).
using KeySizeRange = bridge::KeySizeRange;
// From the slot's capabilities, probed at C_Initialize, as the key type's descriptor reads
// them (RSA from the provider's Lengths, EC from the curves it has, AES and generic secrets
// when it keeps such keys); {0,0} for unregistered key types.
KeySizeRange key_size_range(CK_KEY_TYPE key_type, const slots::Capabilities& caps) noexcept;
// Bits per unit of key_size_range (the descriptor's: 8 for AES and generic secrets, else 1).
CK_ULONG key_size_unit_bits(CK_KEY_TYPE key_type) noexcept;
// True when the slot offers the row: its capabilities have every ability the row needs.
bool offered_on(const MechanismSpec& spec, const slots::Capabilities& caps) noexcept;
// The C_GetMechanismInfo flags of an offered row on a slot: its flags and the extra ones the
// slot's abilities grant.
CK_FLAGS flags_on(const MechanismSpec& spec, const slots::Capabilities& caps) noexcept;

// The CKF_* bit an operation kind needs.
CK_FLAGS flag_for(OpKind kind) noexcept;
// The key object class the row needs for an operation kind (not for kDigest).
CK_OBJECT_CLASS key_class_for(const MechanismSpec& spec, OpKind kind) noexcept;

// The generic checks of start_operation and ecdh_derive, in the order they run:
// the mechanism is offered (CKR_MECHANISM_INVALID) …
const MechanismSpec& offered_mechanism(CK_MECHANISM_TYPE type, CK_FLAGS needed_flag,
                                       const slots::Capabilities& caps);
// … the key's class and type (CKR_KEY_TYPE_INCONSISTENT), its usage attribute
// (CKR_KEY_FUNCTION_NOT_PERMITTED) and CKA_ALLOWED_MECHANISMS (CKR_MECHANISM_INVALID) …
void check_key_use(const MechanismSpec& spec, const KeyView& key, CK_OBJECT_CLASS needed_class,
                   bool usage_permitted);
// … (the parameter) … and the key size (CKR_KEY_SIZE_RANGE).
void check_key_size(const MechanismSpec& spec, const KeyView& key, const slots::Capabilities& caps);

// Decoders and factories the rows refer to (defined beside their operations).
void decode_pss_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                       DecodedParams& out);
void decode_oaep_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                        DecodedParams& out);
// CK_RSA_PKCS_OAEP_PARAMS for RSA key wrapping (objects/wrap_mechanisms): as
// decode_oaep_params, and SHA-224 too (the wrap blob is a cng_model extension that knows it).
void decode_oaep_wrap_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                             DecodedParams& out);
std::unique_ptr<Operation> make_sign_verify_operation(OpKind kind, const MechanismSpec& spec,
                                                      const DecodedParams& params,
                                                      const KeyView* key);
std::unique_ptr<Operation> make_cipher_operation(OpKind kind, const MechanismSpec& spec,
                                                 const DecodedParams& params, const KeyView* key);
// Secret-key mechanisms (aes_block_ops.cpp, aes_ctr_gcm.cpp, hmac_ops.cpp, secret_params.cpp).
// HMAC without a parameter (CKR_MECHANISM_PARAM_INVALID when one is given): a full-size MAC.
void decode_hmac_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                        DecodedParams& out);
void decode_aes_iv_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                          DecodedParams& out);
void decode_aes_ctr_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                           DecodedParams& out);
void decode_aes_gcm_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                           DecodedParams& out);
void decode_hmac_general_params(const MechanismSpec& spec, const CK_MECHANISM& mechanism,
                                DecodedParams& out);
std::unique_ptr<Operation> make_aes_block_operation(OpKind kind, const MechanismSpec& spec,
                                                    const DecodedParams& params,
                                                    const KeyView* key);
std::unique_ptr<Operation> make_aes_ctr_operation(OpKind kind, const MechanismSpec& spec,
                                                  const DecodedParams& params, const KeyView* key);
std::unique_ptr<Operation> make_aes_gcm_operation(OpKind kind, const MechanismSpec& spec,
                                                  const DecodedParams& params, const KeyView* key);
std::unique_ptr<Operation> make_hmac_operation(OpKind kind, const MechanismSpec& spec,
                                               const DecodedParams& params, const KeyView* key);
std::unique_ptr<Operation> make_digest_operation(OpKind kind, const MechanismSpec& spec,
                                                 const DecodedParams& params, const KeyView* key);

}  // namespace p11::mech
