// Entry points: general purpose, slot and token, session, and object management functions.
// Each is one line into the dispatcher (dispatch.h).
#include "abi/dispatch.h"
#include "abi/entry_points.h"
#include "abi/impl.h"

namespace p11::entry {

using abi::call_library;
using abi::call_session;
using abi::call_unchecked;

namespace {
constexpr CK_VERSION kCryptoki30{3, 0};
constexpr CK_VERSION kCryptoki240{2, 40};
void get_info_30(ModuleState& s, CK_INFO_PTR info) { impl::get_info(s, info, kCryptoki30); }
void get_info_240(ModuleState& s, CK_INFO_PTR info) { impl::get_info(s, info, kCryptoki240); }
}  // namespace

// ---- general purpose ----------------------------------------------------------------------------
CK_RV C_Initialize(CK_VOID_PTR a) noexcept {
  return call_unchecked<&impl::initialize>("C_Initialize", a);
}
CK_RV C_Finalize(CK_VOID_PTR r) noexcept {
  return call_unchecked<&impl::finalize>("C_Finalize", r);
}
CK_RV C_GetInfo(CK_INFO_PTR i) noexcept { return call_library<&get_info_30>("C_GetInfo", i); }
CK_RV C_GetInfo_v240(CK_INFO_PTR i) noexcept { return call_library<&get_info_240>("C_GetInfo", i); }

// ---- slots and tokens ---------------------------------------------------------------------------
CK_RV C_GetSlotList(CK_BBOOL p, CK_SLOT_ID_PTR l, CK_ULONG_PTR c) noexcept {
  return call_library<&impl::get_slot_list>("C_GetSlotList", p, l, c);
}
CK_RV C_GetSlotInfo(CK_SLOT_ID s, CK_SLOT_INFO_PTR i) noexcept {
  return call_library<&impl::get_slot_info>("C_GetSlotInfo", s, i);
}
CK_RV C_GetTokenInfo(CK_SLOT_ID s, CK_TOKEN_INFO_PTR i) noexcept {
  return call_library<&impl::get_token_info>("C_GetTokenInfo", s, i);
}
CK_RV C_WaitForSlotEvent(CK_FLAGS f, CK_SLOT_ID_PTR s, CK_VOID_PTR r) noexcept {
  return call_library<&impl::wait_for_slot_event>("C_WaitForSlotEvent", f, s, r);
}
CK_RV C_GetMechanismList(CK_SLOT_ID s, CK_MECHANISM_TYPE_PTR l, CK_ULONG_PTR c) noexcept {
  return call_library<&impl::get_mechanism_list>("C_GetMechanismList", s, l, c);
}
CK_RV C_GetMechanismInfo(CK_SLOT_ID s, CK_MECHANISM_TYPE t, CK_MECHANISM_INFO_PTR i) noexcept {
  return call_library<&impl::get_mechanism_info>("C_GetMechanismInfo", s, t, i);
}

// ---- sessions -----------------------------------------------------------------------------------
CK_RV C_OpenSession(CK_SLOT_ID s, CK_FLAGS f, CK_VOID_PTR a, CK_NOTIFY n,
                    CK_SESSION_HANDLE_PTR h) noexcept {
  return call_library<&impl::open_session>("C_OpenSession", s, f, a, n, h);
}
CK_RV C_CloseSession(CK_SESSION_HANDLE h) noexcept {
  return call_session<&impl::close_session>("C_CloseSession", h);
}
CK_RV C_CloseAllSessions(CK_SLOT_ID s) noexcept {
  return call_library<&impl::close_all_sessions>("C_CloseAllSessions", s);
}
CK_RV C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR i) noexcept {
  return call_session<&impl::get_session_info>("C_GetSessionInfo", h, i);
}
CK_RV C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE u, CK_UTF8CHAR_PTR p, CK_ULONG l) noexcept {
  return call_session<&impl::login>("C_Login", h, u, p, l);
}
CK_RV C_LoginUser(CK_SESSION_HANDLE h, CK_USER_TYPE u, CK_UTF8CHAR_PTR p, CK_ULONG l,
                  CK_UTF8CHAR_PTR n, CK_ULONG nl) noexcept {
  return call_session<&impl::login_user>("C_LoginUser", h, u, p, l, n, nl);
}
CK_RV C_Logout(CK_SESSION_HANDLE h) noexcept { return call_session<&impl::logout>("C_Logout", h); }
CK_RV C_InitPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR p, CK_ULONG l) noexcept {
  return call_session<&impl::init_pin>("C_InitPIN", h, p, l);
}
CK_RV C_SetPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR o, CK_ULONG ol, CK_UTF8CHAR_PTR n,
               CK_ULONG nl) noexcept {
  return call_session<&impl::set_pin>("C_SetPIN", h, o, ol, n, nl);
}
CK_RV C_SessionCancel(CK_SESSION_HANDLE h, CK_FLAGS f) noexcept {
  return call_session<&impl::session_cancel>("C_SessionCancel", h, f);
}

// ---- objects ------------------------------------------------------------------------------------
CK_RV C_CreateObject(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR t, CK_ULONG c,
                     CK_OBJECT_HANDLE_PTR o) noexcept {
  return call_session<&impl::create_object>("C_CreateObject", h, t, c, o);
}
CK_RV C_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG c,
                   CK_OBJECT_HANDLE_PTR n) noexcept {
  return call_session<&impl::copy_object>("C_CopyObject", h, o, t, c, n);
}
CK_RV C_DestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) noexcept {
  return call_session<&impl::destroy_object>("C_DestroyObject", h, o);
}
CK_RV C_GetObjectSize(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ULONG_PTR s) noexcept {
  return call_session<&impl::get_object_size>("C_GetObjectSize", h, o, s);
}
CK_RV C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t,
                          CK_ULONG c) noexcept {
  return call_session<&impl::get_attribute_value>("C_GetAttributeValue", h, o, t, c);
}
CK_RV C_SetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t,
                          CK_ULONG c) noexcept {
  return call_session<&impl::set_attribute_value>("C_SetAttributeValue", h, o, t, c);
}
CK_RV C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR t, CK_ULONG c) noexcept {
  return call_session<&impl::find_objects_init>("C_FindObjectsInit", h, t, c);
}
CK_RV C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR o, CK_ULONG m,
                    CK_ULONG_PTR c) noexcept {
  return call_session<&impl::find_objects>("C_FindObjects", h, o, m, c);
}
CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE h) noexcept {
  return call_session<&impl::find_objects_final>("C_FindObjectsFinal", h);
}

}  // namespace p11::entry
