// The mechanism registry: one declarative row per mechanism (what C_GetMechanismInfo reports,
// which key it needs, which provider abilities a slot needs to offer it, how its parameter is
// decoded and which factory makes its operations). start_operation and mechanism_table read
// only this.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "mechanisms/hashes.h"
#include "mechanisms/operation.h"

namespace p11::mech {

enum class Family : std::uint8_t {
  kKeyPairGen,  // CKM_*_KEY_PAIR_GEN (the object layer generates)
  kRsaPkcs,     // PKCS#1 v1.5 sign/verify/encrypt/decrypt (raw DigestInfo or hash-combined)
  kRsaPss,      // PSS sign/verify (raw digest or hash-combined)
  kRsaOaep,     // OAEP encrypt/decrypt
  kRsaX509,     // raw RSA encrypt/decrypt
  kEcdsa,       // ECDSA sign/verify (raw digest or hash-combined)
  kEcdh,        // CKM_ECDH1_DERIVE (ecdh_derive)
  kDigest,      // CKM_SHA*
};

// A mechanism parameter decoded and validated by the row's decoder.
struct DecodedParams {
  HashAlg hash = HashAlg::kNone;  // PSS/OAEP hashAlg (= MGF1 hash)
  CK_ULONG salt_len = 0;          // PSS sLen
  // OAEP label; points into the caller's parameter: factories copy it.
  std::span<const std::uint8_t> label;
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
  CK_KEY_TYPE key_type;    // CKK_RSA / CKK_EC; CK_UNAVAILABLE_INFORMATION for digests
  HashAlg hash;            // hash of a hash-combined or digest mechanism; kNone for raw
  CK_FLAGS flags;          // C_GetMechanismInfo flags
  slots::Abilities needs;  // offered on a slot whose capabilities have all of these
  ParamDecoder decode;     // nullptr: the mechanism takes no parameter (one given is ignored)
  OpFactory make;          // nullptr: no sign/verify/encrypt/decrypt/digest operation
};

// nullptr when the mechanism is unknown.
const MechanismSpec* find_mechanism(CK_MECHANISM_TYPE type) noexcept;
// All rows, in C_GetMechanismList order.
std::span<const MechanismSpec> all_mechanisms() noexcept;

// Key sizes in bits the provider supports for a key type (RSA modulus, EC field size).
struct KeySizeRange {
  CK_ULONG min_bits;
  CK_ULONG max_bits;
};
// From the slot's capabilities, probed at C_Initialize: RSA from the provider's Lengths, EC
// from the curves it has; {0,0} for other key types.
KeySizeRange key_size_range(CK_KEY_TYPE key_type, const slots::Capabilities& caps) noexcept;
// True when the slot offers the row: its capabilities have every ability the row needs.
bool offered_on(const MechanismSpec& spec, const slots::Capabilities& caps) noexcept;

// The CKF_* bit an operation kind needs.
CK_FLAGS flag_for(OpKind kind) noexcept;

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
std::unique_ptr<Operation> make_sign_verify_operation(OpKind kind, const MechanismSpec& spec,
                                                      const DecodedParams& params,
                                                      const KeyView* key);
std::unique_ptr<Operation> make_cipher_operation(OpKind kind, const MechanismSpec& spec,
                                                 const DecodedParams& params, const KeyView* key);
std::unique_ptr<Operation> make_digest_operation(OpKind kind, const MechanismSpec& spec,
                                                 const DecodedParams& params, const KeyView* key);

}  // namespace p11::mech
