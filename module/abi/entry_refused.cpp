// Entry points the module refuses, by decision. Each still checks initialisation and (for
// session functions) the session handle, then returns the code named here.
//
// CKR_FUNCTION_NOT_SUPPORTED:
//   C_InitToken                    a KSP scope is always an initialised token; keys are deleted
//                                  one by one (C_DestroyObject)
//   C_GetOperationState,           NCrypt operation state cannot be serialised (clients,
//   C_SetOperationState            e.g. pkcs11-provider, accept this)
//   C_SignRecoverInit/SignRecover, no mechanism has CKF_SIGN_RECOVER / CKF_VERIFY_RECOVER
//   C_VerifyRecoverInit/VerifyRecover
//   C_DigestEncryptUpdate, C_DecryptDigestUpdate, C_SignEncryptUpdate, C_DecryptVerifyUpdate
//                                  no CKF_DUAL_CRYPTO_OPERATIONS
//   the 10 message-based signing and verification functions of 3.0 (C_MessageSignInit …
//                                  C_MessageVerifyFinal): no mechanism has CKF_MESSAGE_SIGN /
//                                  CKF_MESSAGE_VERIFY (message-based encryption and decryption:
//                                  entry_message.cpp, CKM_AES_GCM)
// CKR_FUNCTION_NOT_PARALLEL:
//   C_GetFunctionStatus, C_CancelFunction   legacy functions; the answer the spec requires
//
// Implemented elsewhere although on the "decide" list: C_DigestKey (CKR_KEY_INDIGESTIBLE with an
// active digest), C_WaitForSlotEvent (CKR_NO_EVENT with CKF_DONT_BLOCK, else
// CKR_FUNCTION_NOT_SUPPORTED: slots never change), C_LoginUser (as C_Login; the user name is
// ignored, there are no named users), C_SessionCancel (ends the named operations), C_WrapKey and
// C_UnwrapKey (entry_crypto.cpp: the AES key-wrap mechanisms; RSA wrapping mechanisms are not
// offered, CKR_MECHANISM_INVALID).
#include "abi/dispatch.h"
#include "abi/entry_points.h"
#include "abi/impl.h"

namespace p11::entry {

using abi::call_library;
using abi::call_session;

namespace {
constexpr auto kUnsupported = impl::refuse_in_session<CKR_FUNCTION_NOT_SUPPORTED>;
constexpr auto kNotParallel = impl::refuse_in_session<CKR_FUNCTION_NOT_PARALLEL>;
constexpr auto kUnsupportedLib = impl::refuse_in_library<CKR_FUNCTION_NOT_SUPPORTED>;
}  // namespace

// ---- token and PIN management -------------------------------------------------------------------
CK_RV C_InitToken(CK_SLOT_ID s, CK_UTF8CHAR_PTR p, CK_ULONG l, CK_UTF8CHAR_PTR b) noexcept {
  return call_library<kUnsupportedLib>("C_InitToken", s, p, l, b);
}

// ---- operation state ----------------------------------------------------------------------------
CK_RV C_GetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG_PTR l) noexcept {
  return call_session<kUnsupported>("C_GetOperationState", h, s, l);
}
CK_RV C_SetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG l, CK_OBJECT_HANDLE e,
                          CK_OBJECT_HANDLE a) noexcept {
  return call_session<kUnsupported>("C_SetOperationState", h, s, l, e, a);
}

// ---- recovery and dual-function operations ------------------------------------------------------
CK_RV C_SignRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) noexcept {
  return call_session<kUnsupported>("C_SignRecoverInit", h, m, k);
}
CK_RV C_SignRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR s,
                    CK_ULONG_PTR sl) noexcept {
  return call_session<kUnsupported>("C_SignRecover", h, d, dl, s, sl);
}
CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) noexcept {
  return call_session<kUnsupported>("C_VerifyRecoverInit", h, m, k);
}
CK_RV C_VerifyRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG sl, CK_BYTE_PTR d,
                      CK_ULONG_PTR dl) noexcept {
  return call_session<kUnsupported>("C_VerifyRecover", h, s, sl, d, dl);
}
CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG pl, CK_BYTE_PTR e,
                            CK_ULONG_PTR el) noexcept {
  return call_session<kUnsupported>("C_DigestEncryptUpdate", h, p, pl, e, el);
}
CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR e, CK_ULONG el, CK_BYTE_PTR p,
                            CK_ULONG_PTR pl) noexcept {
  return call_session<kUnsupported>("C_DecryptDigestUpdate", h, e, el, p, pl);
}
CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG pl, CK_BYTE_PTR e,
                          CK_ULONG_PTR el) noexcept {
  return call_session<kUnsupported>("C_SignEncryptUpdate", h, p, pl, e, el);
}
CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR e, CK_ULONG el, CK_BYTE_PTR p,
                            CK_ULONG_PTR pl) noexcept {
  return call_session<kUnsupported>("C_DecryptVerifyUpdate", h, e, el, p, pl);
}

// ---- legacy parallel functions ------------------------------------------------------------------
CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE h) noexcept {
  return call_session<kNotParallel>("C_GetFunctionStatus", h);
}
CK_RV C_CancelFunction(CK_SESSION_HANDLE h) noexcept {
  return call_session<kNotParallel>("C_CancelFunction", h);
}

// ---- message-based functions (3.0) --------------------------------------------------------------
#define P11_REFUSE_INIT(name)                                                            \
  CK_RV C_##name(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) noexcept { \
    return call_session<kUnsupported>("C_" #name, h, m, k);                              \
  }
#define P11_REFUSE_FINAL(name) \
  CK_RV C_##name(CK_SESSION_HANDLE h) noexcept { return call_session<kUnsupported>("C_" #name, h); }
P11_REFUSE_INIT(MessageSignInit)
P11_REFUSE_INIT(MessageVerifyInit)
P11_REFUSE_FINAL(MessageSignFinal)
P11_REFUSE_FINAL(MessageVerifyFinal)
#undef P11_REFUSE_INIT
#undef P11_REFUSE_FINAL

CK_RV C_SignMessage(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR d, CK_ULONG dl,
                    CK_BYTE_PTR s, CK_ULONG_PTR sl) noexcept {
  return call_session<kUnsupported>("C_SignMessage", h, p, pl, d, dl, s, sl);
}
CK_RV C_SignMessageBegin(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl) noexcept {
  return call_session<kUnsupported>("C_SignMessageBegin", h, p, pl);
}
CK_RV C_SignMessageNext(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR d, CK_ULONG dl,
                        CK_BYTE_PTR s, CK_ULONG_PTR sl) noexcept {
  return call_session<kUnsupported>("C_SignMessageNext", h, p, pl, d, dl, s, sl);
}
CK_RV C_VerifyMessage(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR d, CK_ULONG dl,
                      CK_BYTE_PTR s, CK_ULONG sl) noexcept {
  return call_session<kUnsupported>("C_VerifyMessage", h, p, pl, d, dl, s, sl);
}
CK_RV C_VerifyMessageBegin(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl) noexcept {
  return call_session<kUnsupported>("C_VerifyMessageBegin", h, p, pl);
}
CK_RV C_VerifyMessageNext(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR d,
                          CK_ULONG dl, CK_BYTE_PTR s, CK_ULONG sl) noexcept {
  return call_session<kUnsupported>("C_VerifyMessageNext", h, p, pl, d, dl, s, sl);
}

}  // namespace p11::entry
