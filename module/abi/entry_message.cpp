// Entry points: message-based encryption and decryption (PKCS#11 3.0). Each is one line into the
// dispatcher (dispatch.h); the direction is bound here so one implementation serves both.
// Message-based signing and verification stay refused (entry_refused.cpp).
#include "abi/dispatch.h"
#include "abi/entry_points.h"
#include "abi/impl.h"

namespace p11::entry {

using abi::call_session;

namespace {

template <MessageKind K>
void init(ModuleState& s, Session& ss, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) {
  impl::message_init(s, ss, K, m, k);
}
template <MessageKind K>
CK_RV whole(ModuleState& s, Session& ss, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR a, CK_ULONG al,
            CK_BYTE_PTR i, CK_ULONG il, CK_BYTE_PTR o, CK_ULONG_PTR ol) {
  return impl::crypt_message(s, ss, K, p, pl, a, al, i, il, o, ol);
}
template <MessageKind K>
void begin(ModuleState& s, Session& ss, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR a, CK_ULONG al) {
  impl::message_begin(s, ss, K, p, pl, a, al);
}
template <MessageKind K>
CK_RV next(ModuleState& s, Session& ss, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR i, CK_ULONG il,
           CK_BYTE_PTR o, CK_ULONG_PTR ol, CK_FLAGS f) {
  return impl::message_next(s, ss, K, p, pl, i, il, o, ol, f);
}
template <MessageKind K>
void fin(ModuleState& s, Session& ss) {
  impl::message_final(s, ss, K);
}

constexpr MessageKind kEnc = MessageKind::kEncrypt;
constexpr MessageKind kDec = MessageKind::kDecrypt;

}  // namespace

// ---- message-based encryption -------------------------------------------------------------------
CK_RV C_MessageEncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) noexcept {
  return call_session<&init<kEnc>>("C_MessageEncryptInit", h, m, k);
}
CK_RV C_EncryptMessage(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR a, CK_ULONG al,
                       CK_BYTE_PTR t, CK_ULONG tl, CK_BYTE_PTR c, CK_ULONG_PTR cl) noexcept {
  return call_session<&whole<kEnc>>("C_EncryptMessage", h, p, pl, a, al, t, tl, c, cl);
}
CK_RV C_EncryptMessageBegin(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR a,
                            CK_ULONG al) noexcept {
  return call_session<&begin<kEnc>>("C_EncryptMessageBegin", h, p, pl, a, al);
}
CK_RV C_EncryptMessageNext(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR t,
                           CK_ULONG tl, CK_BYTE_PTR c, CK_ULONG_PTR cl, CK_FLAGS f) noexcept {
  return call_session<&next<kEnc>>("C_EncryptMessageNext", h, p, pl, t, tl, c, cl, f);
}
CK_RV C_MessageEncryptFinal(CK_SESSION_HANDLE h) noexcept {
  return call_session<&fin<kEnc>>("C_MessageEncryptFinal", h);
}

// ---- message-based decryption -------------------------------------------------------------------
CK_RV C_MessageDecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) noexcept {
  return call_session<&init<kDec>>("C_MessageDecryptInit", h, m, k);
}
CK_RV C_DecryptMessage(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR a, CK_ULONG al,
                       CK_BYTE_PTR c, CK_ULONG cl, CK_BYTE_PTR t, CK_ULONG_PTR tl) noexcept {
  return call_session<&whole<kDec>>("C_DecryptMessage", h, p, pl, a, al, c, cl, t, tl);
}
CK_RV C_DecryptMessageBegin(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR a,
                            CK_ULONG al) noexcept {
  return call_session<&begin<kDec>>("C_DecryptMessageBegin", h, p, pl, a, al);
}
CK_RV C_DecryptMessageNext(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR c,
                           CK_ULONG cl, CK_BYTE_PTR t, CK_ULONG_PTR tl, CK_FLAGS f) noexcept {
  return call_session<&next<kDec>>("C_DecryptMessageNext", h, p, pl, c, cl, t, tl, f);
}
CK_RV C_MessageDecryptFinal(CK_SESSION_HANDLE h) noexcept {
  return call_session<&fin<kDec>>("C_MessageDecryptFinal", h);
}

}  // namespace p11::entry
