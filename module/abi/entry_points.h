// The module's entry points: one C++ function per PKCS#11 function, in namespace p11::entry
// (C++ linkage, so they never clash with the C prototypes in pkcs11.h and can be noexcept).
// They are reached only through the function lists; the library exports just
// C_GetFunctionList, C_GetInterfaceList and C_GetInterface (exports.map).
#pragma once

#include <type_traits>

#include "pkcs11/pkcs11_all.h"

// Every function of the 2.40 CK_FUNCTION_LIST, in structure order.
// clang-format off
#define P11_FUNCTIONS_240(X) \
  X(Initialize) X(Finalize) X(GetInfo) X(GetFunctionList) X(GetSlotList) X(GetSlotInfo) \
  X(GetTokenInfo) X(GetMechanismList) X(GetMechanismInfo) X(InitToken) X(InitPIN) X(SetPIN) \
  X(OpenSession) X(CloseSession) X(CloseAllSessions) X(GetSessionInfo) X(GetOperationState) \
  X(SetOperationState) X(Login) X(Logout) X(CreateObject) X(CopyObject) X(DestroyObject) \
  X(GetObjectSize) X(GetAttributeValue) X(SetAttributeValue) X(FindObjectsInit) X(FindObjects) \
  X(FindObjectsFinal) X(EncryptInit) X(Encrypt) X(EncryptUpdate) X(EncryptFinal) X(DecryptInit) \
  X(Decrypt) X(DecryptUpdate) X(DecryptFinal) X(DigestInit) X(Digest) X(DigestUpdate) \
  X(DigestKey) X(DigestFinal) X(SignInit) X(Sign) X(SignUpdate) X(SignFinal) X(SignRecoverInit) \
  X(SignRecover) X(VerifyInit) X(Verify) X(VerifyUpdate) X(VerifyFinal) X(VerifyRecoverInit) \
  X(VerifyRecover) X(DigestEncryptUpdate) X(DecryptDigestUpdate) X(SignEncryptUpdate) \
  X(DecryptVerifyUpdate) X(GenerateKey) X(GenerateKeyPair) X(WrapKey) X(UnwrapKey) X(DeriveKey) \
  X(SeedRandom) X(GenerateRandom) X(GetFunctionStatus) X(CancelFunction) X(WaitForSlotEvent)
// clang-format on

// The functions CK_FUNCTION_LIST_3_0 adds after them, in structure order.
// clang-format off
#define P11_FUNCTIONS_30(X) \
  X(GetInterfaceList) X(GetInterface) X(LoginUser) X(SessionCancel) X(MessageEncryptInit) \
  X(EncryptMessage) X(EncryptMessageBegin) X(EncryptMessageNext) X(MessageEncryptFinal) \
  X(MessageDecryptInit) X(DecryptMessage) X(DecryptMessageBegin) X(DecryptMessageNext) \
  X(MessageDecryptFinal) X(MessageSignInit) X(SignMessage) X(SignMessageBegin) \
  X(SignMessageNext) X(MessageSignFinal) X(MessageVerifyInit) X(VerifyMessage) \
  X(VerifyMessageBegin) X(VerifyMessageNext) X(MessageVerifyFinal)
// clang-format on

namespace p11::entry {

template <class F>
struct AddNoexcept;
template <class R, class... A>
struct AddNoexcept<R(A...)> {
  using type = R(A...) noexcept;
};
// The noexcept function type behind a CK_C_* pointer type.
template <class Ptr>
using EntryFn = typename AddNoexcept<std::remove_pointer_t<Ptr>>::type;

#define P11_DECLARE_ENTRY(name) EntryFn<CK_C_##name> C_##name;
P11_FUNCTIONS_240(P11_DECLARE_ENTRY)
P11_FUNCTIONS_30(P11_DECLARE_ENTRY)
#undef P11_DECLARE_ENTRY

// C_GetInfo as seen through the 2.40 list (reports cryptokiVersion 2.40; the 3.0 list's C_GetInfo
// reports 3.0).
EntryFn<CK_C_GetInfo> C_GetInfo_v240;

}  // namespace p11::entry
