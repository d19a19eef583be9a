// Entry points: encryption, decryption, digesting, signing, verification, key management and
// random number functions. Each is one line into the dispatcher (dispatch.h); the operation kind
// is bound here so one implementation serves the four families.
#include "abi/dispatch.h"
#include "abi/entry_points.h"
#include "abi/impl.h"

namespace p11::entry {

using abi::call_session;

namespace {

// The operation kind bound into the shared implementations.
template <OpKind K>
void init_op(ModuleState& s, Session& ss, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) {
  impl::operation_init(s, ss, K, m, k);
}
template <OpKind K>
CK_RV single(ModuleState& s, Session& ss, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o,
             CK_ULONG_PTR ol) {
  return impl::single_part(s, ss, K, d, dl, o, ol);
}
template <OpKind K>
void upd(ModuleState& s, Session& ss, CK_BYTE_PTR d, CK_ULONG dl) {
  impl::update(s, ss, K, d, dl);
}
template <OpKind K>
void upd_out(ModuleState& s, Session& ss, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o,
             CK_ULONG_PTR ol) {
  impl::update_with_output(s, ss, K, d, dl, o, ol);
}
template <OpKind K>
CK_RV fin(ModuleState& s, Session& ss, CK_BYTE_PTR o, CK_ULONG_PTR ol) {
  return impl::final_part(s, ss, K, o, ol);
}
void digest_init(ModuleState& s, Session& ss, CK_MECHANISM_PTR m) {
  impl::operation_init(s, ss, OpKind::kDigest, m, CK_INVALID_HANDLE);
}

constexpr OpKind kEnc = OpKind::kEncrypt;
constexpr OpKind kDec = OpKind::kDecrypt;
constexpr OpKind kDig = OpKind::kDigest;
constexpr OpKind kSig = OpKind::kSign;
constexpr OpKind kVer = OpKind::kVerify;

}  // namespace

// ---- encryption ---------------------------------------------------------------------------------
CK_RV C_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) noexcept {
  return call_session<&init_op<kEnc>>("C_EncryptInit", h, m, k);
}
CK_RV C_Encrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o,
                CK_ULONG_PTR ol) noexcept {
  return call_session<&single<kEnc>>("C_Encrypt", h, d, dl, o, ol);
}
CK_RV C_EncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o,
                      CK_ULONG_PTR ol) noexcept {
  return call_session<&upd_out<kEnc>>("C_EncryptUpdate", h, d, dl, o, ol);
}
CK_RV C_EncryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR ol) noexcept {
  return call_session<&fin<kEnc>>("C_EncryptFinal", h, o, ol);
}

// ---- decryption ---------------------------------------------------------------------------------
CK_RV C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) noexcept {
  return call_session<&init_op<kDec>>("C_DecryptInit", h, m, k);
}
CK_RV C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o,
                CK_ULONG_PTR ol) noexcept {
  return call_session<&single<kDec>>("C_Decrypt", h, d, dl, o, ol);
}
CK_RV C_DecryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o,
                      CK_ULONG_PTR ol) noexcept {
  return call_session<&upd_out<kDec>>("C_DecryptUpdate", h, d, dl, o, ol);
}
CK_RV C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR ol) noexcept {
  return call_session<&fin<kDec>>("C_DecryptFinal", h, o, ol);
}

// ---- digesting ----------------------------------------------------------------------------------
CK_RV C_DigestInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m) noexcept {
  return call_session<&digest_init>("C_DigestInit", h, m);
}
CK_RV C_Digest(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o,
               CK_ULONG_PTR ol) noexcept {
  return call_session<&single<kDig>>("C_Digest", h, d, dl, o, ol);
}
CK_RV C_DigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl) noexcept {
  return call_session<&upd<kDig>>("C_DigestUpdate", h, d, dl);
}
CK_RV C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k) noexcept {
  return call_session<&impl::digest_key>("C_DigestKey", h, k);
}
CK_RV C_DigestFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR ol) noexcept {
  return call_session<&fin<kDig>>("C_DigestFinal", h, o, ol);
}

// ---- signing ------------------------------------------------------------------------------------
CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) noexcept {
  return call_session<&init_op<kSig>>("C_SignInit", h, m, k);
}
CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o,
             CK_ULONG_PTR ol) noexcept {
  return call_session<&single<kSig>>("C_Sign", h, d, dl, o, ol);
}
CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl) noexcept {
  return call_session<&upd<kSig>>("C_SignUpdate", h, d, dl);
}
CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR ol) noexcept {
  return call_session<&fin<kSig>>("C_SignFinal", h, o, ol);
}

// ---- verification -------------------------------------------------------------------------------
CK_RV C_VerifyInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) noexcept {
  return call_session<&init_op<kVer>>("C_VerifyInit", h, m, k);
}
CK_RV C_Verify(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR s,
               CK_ULONG sl) noexcept {
  return call_session<&impl::verify>("C_Verify", h, d, dl, s, sl);
}
CK_RV C_VerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl) noexcept {
  return call_session<&upd<kVer>>("C_VerifyUpdate", h, d, dl);
}
CK_RV C_VerifyFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG sl) noexcept {
  return call_session<&impl::verify_final>("C_VerifyFinal", h, s, sl);
}

// ---- key management -----------------------------------------------------------------------------
CK_RV C_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t, CK_ULONG c,
                    CK_OBJECT_HANDLE_PTR k) noexcept {
  return call_session<&impl::generate_key>("C_GenerateKey", h, m, t, c, k);
}
CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pt, CK_ULONG pc,
                        CK_ATTRIBUTE_PTR vt, CK_ULONG vc, CK_OBJECT_HANDLE_PTR pk,
                        CK_OBJECT_HANDLE_PTR vk) noexcept {
  return call_session<&impl::generate_key_pair>("C_GenerateKeyPair", h, m, pt, pc, vt, vc, pk, vk);
}
CK_RV C_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR t,
                  CK_ULONG c, CK_OBJECT_HANDLE_PTR k) noexcept {
  return call_session<&impl::derive_key>("C_DeriveKey", h, m, b, t, c, k);
}
CK_RV C_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE w, CK_OBJECT_HANDLE k,
                CK_BYTE_PTR o, CK_ULONG_PTR ol) noexcept {
  return call_session<&impl::wrap_key>("C_WrapKey", h, m, w, k, o, ol);
}
CK_RV C_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE u, CK_BYTE_PTR w,
                  CK_ULONG wl, CK_ATTRIBUTE_PTR t, CK_ULONG c, CK_OBJECT_HANDLE_PTR k) noexcept {
  return call_session<&impl::unwrap_key>("C_UnwrapKey", h, m, u, w, wl, t, c, k);
}

// ---- random numbers -----------------------------------------------------------------------------
CK_RV C_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG l) noexcept {
  return call_session<&impl::seed_random>("C_SeedRandom", h, s, l);
}
CK_RV C_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG l) noexcept {
  return call_session<&impl::generate_random>("C_GenerateRandom", h, o, l);
}

}  // namespace p11::entry
