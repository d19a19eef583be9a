// The implementations behind the entry points (entry_*.cpp call them through dispatch.h).
// Library-level functions take the ModuleState; session functions also take the locked Session.
// All throw P11Error; those returning CK_RV may also report a non-error code (e.g.
// CKR_BUFFER_TOO_SMALL after filling the needed length, or C_GetAttributeValue's results).
#pragma once

#include <cstdint>
#include <span>

#include "session/module_state.h"
#include "session/session.h"
#include "slots/scope_pin.h"

namespace p11::impl {

// ---- general (impl_general.cpp) --------------------------------------------------------------
void initialize(CK_VOID_PTR init_args);
void finalize(CK_VOID_PTR reserved);
void get_info(ModuleState& state, CK_INFO_PTR info, CK_VERSION cryptoki_version);

// ---- slots and tokens (impl_slots.cpp) --------------------------------------------------------
CK_RV get_slot_list(ModuleState& state, CK_BBOOL token_present, CK_SLOT_ID_PTR list,
                    CK_ULONG_PTR count);
void get_slot_info(ModuleState& state, CK_SLOT_ID slot, CK_SLOT_INFO_PTR info);
void get_token_info(ModuleState& state, CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info);
CK_RV wait_for_slot_event(ModuleState& state, CK_FLAGS flags, CK_SLOT_ID_PTR slot,
                          CK_VOID_PTR reserved);
CK_RV get_mechanism_list(ModuleState& state, CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
                         CK_ULONG_PTR count);
void get_mechanism_info(ModuleState& state, CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
                        CK_MECHANISM_INFO_PTR info);

// ---- sessions and login (impl_sessions.cpp) ---------------------------------------------------
void open_session(ModuleState& state, CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR application,
                  CK_NOTIFY notify, CK_SESSION_HANDLE_PTR session);
void close_session(ModuleState& state, Session& session);
void close_all_sessions(ModuleState& state, CK_SLOT_ID slot);
void get_session_info(ModuleState& state, Session& session, CK_SESSION_INFO_PTR info);
void login(ModuleState& state, Session& session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
           CK_ULONG pin_len);
void login_user(ModuleState& state, Session& session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
                CK_ULONG pin_len, CK_UTF8CHAR_PTR username, CK_ULONG username_len);
void logout(ModuleState& state, Session& session);
// The session's context for the object layer, with the slot's login state: whether the SO is
// logged in, and whether private objects are hidden (a PIN is set and the user is not logged in).
SessionContext context_of(ModuleState& state, const Session& session);

// ---- the optional scope PIN (impl_pin.cpp) ----------------------------------------------------
// Re-reads whether the slot's scope has a PIN (C_OpenSession, C_GetTokenInfo, C_Login, ...):
// the state private objects are hidden by. Returns the PIN's state.
slots::PinInfo refresh_pin_state(SlotState& slot);
// C_Login(CKU_USER) on a slot whose scope has a PIN: checks it (counted by cng_model).
void verify_user_pin(SlotState& slot, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len);
void init_pin(ModuleState& state, Session& session, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len);
void set_pin(ModuleState& state, Session& session, CK_UTF8CHAR_PTR old_pin, CK_ULONG old_len,
             CK_UTF8CHAR_PTR new_pin, CK_ULONG new_len);
void session_cancel(ModuleState& state, Session& session, CK_FLAGS flags);

// ---- objects (impl_objects.cpp) ---------------------------------------------------------------
void create_object(ModuleState& state, Session& session, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count,
                   CK_OBJECT_HANDLE_PTR object);
void copy_object(ModuleState& state, Session& session, CK_OBJECT_HANDLE object,
                 CK_ATTRIBUTE_PTR tmpl, CK_ULONG count, CK_OBJECT_HANDLE_PTR new_object);
void destroy_object(ModuleState& state, Session& session, CK_OBJECT_HANDLE object);
void get_object_size(ModuleState& state, Session& session, CK_OBJECT_HANDLE object,
                     CK_ULONG_PTR size);
CK_RV get_attribute_value(ModuleState& state, Session& session, CK_OBJECT_HANDLE object,
                          CK_ATTRIBUTE_PTR tmpl, CK_ULONG count);
void set_attribute_value(ModuleState& state, Session& session, CK_OBJECT_HANDLE object,
                         CK_ATTRIBUTE_PTR tmpl, CK_ULONG count);
void find_objects_init(ModuleState& state, Session& session, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count);
void find_objects(ModuleState& state, Session& session, CK_OBJECT_HANDLE_PTR objects,
                  CK_ULONG max_count, CK_ULONG_PTR count);
void find_objects_final(ModuleState& state, Session& session);
void generate_key_pair(ModuleState& state, Session& session, CK_MECHANISM_PTR mechanism,
                       CK_ATTRIBUTE_PTR public_tmpl, CK_ULONG public_count,
                       CK_ATTRIBUTE_PTR private_tmpl, CK_ULONG private_count,
                       CK_OBJECT_HANDLE_PTR public_key, CK_OBJECT_HANDLE_PTR private_key);
void generate_key(ModuleState& state, Session& session, CK_MECHANISM_PTR mechanism,
                  CK_ATTRIBUTE_PTR tmpl, CK_ULONG count, CK_OBJECT_HANDLE_PTR key);
void derive_key(ModuleState& state, Session& session, CK_MECHANISM_PTR mechanism,
                CK_OBJECT_HANDLE base_key, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count,
                CK_OBJECT_HANDLE_PTR key);
CK_RV wrap_key(ModuleState& state, Session& session, CK_MECHANISM_PTR mechanism,
               CK_OBJECT_HANDLE wrapping_key, CK_OBJECT_HANDLE key, CK_BYTE_PTR wrapped,
               CK_ULONG_PTR wrapped_len);
void unwrap_key(ModuleState& state, Session& session, CK_MECHANISM_PTR mechanism,
                CK_OBJECT_HANDLE unwrapping_key, CK_BYTE_PTR wrapped, CK_ULONG wrapped_len,
                CK_ATTRIBUTE_PTR tmpl, CK_ULONG count, CK_OBJECT_HANDLE_PTR key);

// ---- cryptographic operations (impl_crypto.cpp) -----------------------------------------------
// The caller's input buffer; NULL with a nonzero length is CKR_ARGUMENTS_BAD.
std::span<const std::uint8_t> input(CK_BYTE_PTR data, CK_ULONG len);
// kind selects sign/verify/encrypt/decrypt/digest; the entry points bind it.
void operation_init(ModuleState& state, Session& session, OpKind kind, CK_MECHANISM_PTR mechanism,
                    CK_OBJECT_HANDLE key);
// C_Sign, C_Encrypt, C_Decrypt, C_Digest: single-part with the size-query convention.
CK_RV single_part(ModuleState& state, Session& session, OpKind kind, CK_BYTE_PTR data,
                  CK_ULONG data_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len);
// C_SignUpdate, C_VerifyUpdate, C_DigestUpdate.
void update(ModuleState& state, Session& session, OpKind kind, CK_BYTE_PTR part, CK_ULONG part_len);
// C_EncryptUpdate, C_DecryptUpdate: data is buffered; no output until the final call.
void update_with_output(ModuleState& state, Session& session, OpKind kind, CK_BYTE_PTR part,
                        CK_ULONG part_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len);
// C_SignFinal, C_EncryptFinal, C_DecryptFinal, C_DigestFinal.
CK_RV final_part(ModuleState& state, Session& session, OpKind kind, CK_BYTE_PTR out,
                 CK_ULONG_PTR out_len);
void verify(ModuleState& state, Session& session, CK_BYTE_PTR data, CK_ULONG data_len,
            CK_BYTE_PTR signature, CK_ULONG signature_len);
void verify_final(ModuleState& state, Session& session, CK_BYTE_PTR signature,
                  CK_ULONG signature_len);
void digest_key(ModuleState& state, Session& session, CK_OBJECT_HANDLE key);
void seed_random(ModuleState& state, Session& session, CK_BYTE_PTR seed, CK_ULONG seed_len);
void generate_random(ModuleState& state, Session& session, CK_BYTE_PTR out, CK_ULONG out_len);

// ---- message-based encryption and decryption (impl_message.cpp) -------------------------------
// kind selects the direction; the entry points bind it.
void message_init(ModuleState& state, Session& session, MessageKind kind,
                  CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key);
// C_EncryptMessage / C_DecryptMessage: one whole message, with the size-query convention.
CK_RV crypt_message(ModuleState& state, Session& session, MessageKind kind, CK_VOID_PTR param,
                    CK_ULONG param_len, CK_BYTE_PTR aad, CK_ULONG aad_len, CK_BYTE_PTR in,
                    CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len);
void message_begin(ModuleState& state, Session& session, MessageKind kind, CK_VOID_PTR param,
                   CK_ULONG param_len, CK_BYTE_PTR aad, CK_ULONG aad_len);
// C_EncryptMessageNext / C_DecryptMessageNext, with the size-query convention.
CK_RV message_next(ModuleState& state, Session& session, MessageKind kind, CK_VOID_PTR param,
                   CK_ULONG param_len, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                   CK_ULONG_PTR out_len, CK_FLAGS flags);
void message_final(ModuleState& state, Session& session, MessageKind kind);

// ---- refused functions (see entry_refused.cpp for the decision table) -------------------------
template <CK_RV Rv>
inline constexpr auto refuse_in_session =
    [](ModuleState&, Session&, auto...) -> CK_RV { return Rv; };
template <CK_RV Rv>
inline constexpr auto refuse_in_library = [](ModuleState&, auto...) -> CK_RV { return Rv; };

}  // namespace p11::impl
