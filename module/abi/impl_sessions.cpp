// Session management and login: C_OpenSession, C_CloseSession, C_CloseAllSessions,
// C_GetSessionInfo, C_Login, C_LoginUser, C_Logout, C_SessionCancel.
//
// Login (DESIGN.md §2). State is per application and slot.
//   CKU_USER: without a scope PIN any PIN is accepted; with one (impl_pin.cpp) it is checked
//     (CKR_PIN_INCORRECT, CKR_PIN_LOCKED) and private objects are visible only while the user is
//     logged in. CKR_USER_ALREADY_LOGGED_IN if the user is logged in,
//     CKR_USER_ANOTHER_ALREADY_LOGGED_IN if the SO is.
//   CKU_SO: accepted when the slot has no read-only session (else CKR_SESSION_READ_ONLY_EXISTS).
//     While the SO is logged in, read-only sessions cannot be opened
//     (CKR_SESSION_READ_WRITE_SO_EXISTS).
//     What the SO may do beyond the user: set CKA_TRUSTED to TRUE (objects/template_rules.h).
//   CKU_CONTEXT_SPECIFIC (PKCS#11 3.0 §5.5, §5.13): the login of ONE operation on a
//     CKA_ALWAYS_AUTHENTICATE key, between its C_*Init and the C_* that uses the key; the
//     operation uses it up. The PIN goes to NCrypt (mechanisms/ncrypt_private_ops.h,
//     ContextAuth), which checks it: CKR_PIN_INCORRECT / CKR_PIN_LOCKED. Without an active
//     operation that waits for it: CKR_OPERATION_NOT_INITIALIZED. Without it the operation's
//     C_Sign / C_Decrypt gets CKR_USER_NOT_LOGGED_IN (NCrypt's NTE_SILENT_CONTEXT). The user
//     login state is unchanged by it.
// Closing the last session of a slot logs the application out of it.
#include <mutex>

#include "abi/impl.h"

namespace p11::impl {

namespace {

// The user left the slot: logs its scope out of NCrypt (which forgets the scope's unwrapped
// master key) unless another slot of the same scope (the other provider's) still has the user
// logged in. Called without any slot lock held (each slot is locked in turn).
void scope_logout(ModuleState& state, const SlotState& left) {
  for (const auto& other : state.slots()) {
    if (other.get() == &left || other->slot->scope_flag() != left.slot->scope_flag()) {
      continue;
    }
    const std::lock_guard lock(*other->mutex);
    if (other->login == LoginState::kUser) {
      return;
    }
  }
  slots::pin_logout(*left.slot);
}

// Removes a session whose mutex the caller holds: ends its operations, drops its session
// objects, takes it out of the table and the slot's counters.
void close_locked(ModuleState& state, Session& session) {
  SlotState& slot = state.slot(session.slot_id());
  session.closed = true;
  session.end_all();
  bool user_left = false;
  {
    const std::lock_guard lock(*slot.mutex);
    --slot.session_count;
    if (session.read_write()) {
      --slot.rw_session_count;
    }
    if (slot.session_count == 0) {
      user_left = slot.login == LoginState::kUser;
      slot.login = LoginState::kPublic;
      slot.user_pin.reset();
    }
    state.sessions().erase(session.handle());
  }
  if (user_left) {
    scope_logout(state, slot);
  }
  // Last, so the session is gone even if dropping its objects reports an error.
  slot.objects->close_session(session.handle());
}

CK_STATE session_state(LoginState login, bool read_write) {
  switch (login) {
    case LoginState::kSecurityOfficer:
      return CKS_RW_SO_FUNCTIONS;
    case LoginState::kUser:
      return read_write ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
    case LoginState::kPublic:
      break;
  }
  return read_write ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
}

// The session's operation that waits for a context-specific login gets the PIN.
void context_login(Session& session, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len) {
  for (const OpKind kind : {OpKind::kSign, OpKind::kDecrypt, OpKind::kVerify, OpKind::kEncrypt}) {
    if (session.has_active(kind)) {
      Operation& operation = *session.active(kind).operation;
      if (operation.needs_context_login()) {
        operation.context_login({pin, pin == nullptr ? 0 : static_cast<std::size_t>(pin_len)});
        return;
      }
    }
  }
  fail(CKR_OPERATION_NOT_INITIALIZED, "no active operation needs a context-specific login");
}

}  // namespace

void open_session(ModuleState& state, CK_SLOT_ID slot_id, CK_FLAGS flags,
                  CK_VOID_PTR /*application*/, CK_NOTIFY /*notify: never called*/,
                  CK_SESSION_HANDLE_PTR out) {
  require(out != nullptr, CKR_ARGUMENTS_BAD, "phSession is NULL");
  SlotState& slot = state.slot(slot_id);
  require((flags & CKF_SERIAL_SESSION) != 0, CKR_SESSION_PARALLEL_NOT_SUPPORTED,
          "CKF_SERIAL_SESSION is required");
  const bool read_write = (flags & CKF_RW_SESSION) != 0;
  require(!read_write || !slot.write_protected, CKR_TOKEN_WRITE_PROTECTED,
          "the token is write-protected: read-only sessions only");

  (void)refresh_pin_state(slot);
  auto session = std::make_shared<Session>(SessionTable::next_handle(), slot_id, read_write,
                                           state.locks().make_mutex(LockLevel::kSession));
  const std::lock_guard lock(*slot.mutex);
  require(read_write || slot.login != LoginState::kSecurityOfficer,
          CKR_SESSION_READ_WRITE_SO_EXISTS, "the SO is logged in: read-write sessions only");
  const CK_SESSION_HANDLE handle = session->handle();
  state.sessions().insert(std::move(session));
  ++slot.session_count;
  if (read_write) {
    ++slot.rw_session_count;
  }
  *out = handle;
}

void close_session(ModuleState& state, Session& session) { close_locked(state, session); }

void close_all_sessions(ModuleState& state, CK_SLOT_ID slot_id) {
  (void)state.slot(slot_id);  // CKR_SLOT_ID_INVALID
  for (const auto& session : state.sessions().of_slot(slot_id)) {
    const std::lock_guard lock(session->mutex());  // waits for a call in progress on it
    if (!session->closed) {
      close_locked(state, *session);
    }
  }
}

void get_session_info(ModuleState& state, Session& session, CK_SESSION_INFO_PTR info) {
  require(info != nullptr, CKR_ARGUMENTS_BAD, "pInfo is NULL");
  SlotState& slot = state.slot(session.slot_id());
  LoginState login = LoginState::kPublic;
  {
    const std::lock_guard lock(*slot.mutex);
    login = slot.login;
  }
  *info = CK_SESSION_INFO{};
  info->slotID = session.slot_id();
  info->state = session_state(login, session.read_write());
  info->flags = CKF_SERIAL_SESSION | (session.read_write() ? CKF_RW_SESSION : 0);
  info->ulDeviceError = 0;
}

void login(ModuleState& state, Session& session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
           CK_ULONG pin_len) {
  require(pin != nullptr || pin_len == 0, CKR_ARGUMENTS_BAD, "pPin is NULL");
  SlotState& slot = state.slot(session.slot_id());
  if (user == CKU_USER) {
    const auto check_free = [&slot] {
      require(slot.login != LoginState::kUser, CKR_USER_ALREADY_LOGGED_IN, "user logged in");
      require(slot.login != LoginState::kSecurityOfficer, CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
              "SO logged in");
    };
    {
      const std::lock_guard lock(*slot.mutex);
      check_free();
    }
    // The PIN check (scrypt) runs without the slot lock; the state is checked again after it.
    if (refresh_pin_state(slot).pin_set) {
      verify_user_pin(slot, pin, pin_len);
    }
    const std::lock_guard lock(*slot.mutex);
    check_free();
    slot.login = LoginState::kUser;
    slot.user_pin = std::make_shared<const SecretBytes>(pin, pin + pin_len);
    return;
  }
  if (user == CKU_CONTEXT_SPECIFIC) {
    context_login(session, pin, pin_len);
    return;
  }
  const std::lock_guard lock(*slot.mutex);
  switch (user) {
    case CKU_SO:
      require(slot.login != LoginState::kSecurityOfficer, CKR_USER_ALREADY_LOGGED_IN,
              "SO logged in");
      require(slot.login != LoginState::kUser, CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
              "user logged in");
      require(slot.session_count == slot.rw_session_count, CKR_SESSION_READ_ONLY_EXISTS,
              "the slot has read-only sessions");
      slot.login = LoginState::kSecurityOfficer;
      return;
    default:
      fail(CKR_USER_TYPE_INVALID, "unknown user type");
  }
}

void login_user(ModuleState& state, Session& session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
                CK_ULONG pin_len, CK_UTF8CHAR_PTR username, CK_ULONG username_len) {
  require(username != nullptr || username_len == 0, CKR_ARGUMENTS_BAD, "pUsername is NULL");
  login(state, session, user, pin, pin_len);  // no named users: the name is not checked
}

void logout(ModuleState& state, Session& session) {
  SlotState& slot = state.slot(session.slot_id());
  bool user_left = false;
  {
    const std::lock_guard lock(*slot.mutex);
    require(slot.login != LoginState::kPublic, CKR_USER_NOT_LOGGED_IN, "not logged in");
    user_left = slot.login == LoginState::kUser;
    slot.login = LoginState::kPublic;
    slot.user_pin.reset();
  }
  if (user_left) {
    scope_logout(state, slot);
  }
}

SessionContext context_of(ModuleState& state, const Session& session) {
  SessionContext context = session.context();
  SlotState& slot = state.slot(session.slot_id());
  const std::lock_guard lock(*slot.mutex);
  context.security_officer = slot.login == LoginState::kSecurityOfficer;
  context.private_hidden = slot.pin_set && slot.login != LoginState::kUser;
  if (slot.login == LoginState::kUser) {
    context.user_pin = slot.user_pin;
  }
  return context;
}

void session_cancel(ModuleState& /*state*/, Session& session, CK_FLAGS flags) {
  struct Bit {
    CK_FLAGS flag;
    OpKind kind;
  };
  constexpr Bit kBits[] = {{CKF_ENCRYPT, OpKind::kEncrypt},
                           {CKF_DECRYPT, OpKind::kDecrypt},
                           {CKF_DIGEST, OpKind::kDigest},
                           {CKF_SIGN, OpKind::kSign},
                           {CKF_VERIFY, OpKind::kVerify}};
  for (const auto& bit : kBits) {
    if ((flags & bit.flag) != 0) {
      session.end(bit.kind);
    }
  }
  struct MessageBit {
    CK_FLAGS flag;
    MessageKind kind;
  };
  constexpr MessageBit kMessageBits[] = {{CKF_MESSAGE_ENCRYPT, MessageKind::kEncrypt},
                                         {CKF_MESSAGE_DECRYPT, MessageKind::kDecrypt}};
  for (const auto& bit : kMessageBits) {
    if ((flags & bit.flag) != 0) {
      session.end_message(bit.kind);
    }
  }
  if ((flags & CKF_FIND_OBJECTS) != 0) {
    session.find.reset();
  }
}

}  // namespace p11::impl
