// Message-based encryption and decryption (PKCS#11 3.0 §5.13, §5.14): one MessageOperation per
// direction per session (mechanisms/message_operation.h).
//
// State rules:
// - C_Message*Init: CKR_OPERATION_ACTIVE while one of the direction runs; a NULL mechanism ends
//   the running one (as for C_EncryptInit, §5.2), else CKR_ARGUMENTS_BAD. Key and session checks
//   are C_EncryptInit's (the object layer's key_view).
// - C_EncryptMessage and C_EncryptMessageBegin while a Begin/Next message is open:
//   CKR_OPERATION_ACTIVE. C_EncryptMessageNext without an open message:
//   CKR_OPERATION_NOT_INITIALIZED. Without C_Message*Init: CKR_OPERATION_NOT_INITIALIZED.
// - An error ends the current message, never the message-based operation; a length query
//   (output pointer NULL) and CKR_BUFFER_TOO_SMALL change nothing (no IV is generated).
// - C_Message*Final ends the operation, and with it any open message (nothing is released).
// - C_*MessageNext flags: 0 or CKF_END_OF_MESSAGE, else CKR_ARGUMENTS_BAD.
#include <algorithm>

#include "abi/impl.h"

namespace p11::impl {

namespace {

// Ends the open message when the call leaves, unless keep() was called.
class AbortUnlessKept {
 public:
  explicit AbortUnlessKept(MessageOperation& operation) noexcept : operation_(operation) {}
  AbortUnlessKept(const AbortUnlessKept&) = delete;
  AbortUnlessKept& operator=(const AbortUnlessKept&) = delete;
  ~AbortUnlessKept() {
    if (!keep_) {
      operation_.abort_message();
    }
  }
  void keep() noexcept { keep_ = true; }

 private:
  MessageOperation& operation_;
  bool keep_ = false;
};

// The length-query / CKR_BUFFER_TOO_SMALL half of the output convention: true when the caller's
// buffer takes `needed` bytes, else sets *out_len and returns false.
bool fits(std::size_t needed, CK_BYTE_PTR out, CK_ULONG_PTR out_len) {
  if (out != nullptr && *out_len >= needed) {
    return true;
  }
  *out_len = static_cast<CK_ULONG>(needed);
  return false;
}

void deliver(const SecretBytes& result, CK_BYTE_PTR out, CK_ULONG_PTR out_len) {
  require(result.size() <= *out_len, CKR_GENERAL_ERROR, "output exceeds the announced size");
  std::copy(result.begin(), result.end(), out);
  *out_len = static_cast<CK_ULONG>(result.size());
}

}  // namespace

void message_init(ModuleState& state, Session& session, MessageKind kind,
                  CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key) {
  if (mechanism == nullptr) {
    require(session.has_message(kind), CKR_ARGUMENTS_BAD, "pMechanism is NULL");
    session.end_message(kind);
    return;
  }
  require(!session.has_message(kind), CKR_OPERATION_ACTIVE, "a message-based operation is active");
  SlotState& slot = state.slot(session.slot_id());
  const KeyView view = slot.objects->key_view(context_of(state, session), key);
  session.start_message(kind,
                        start_message_operation(kind, *mechanism, view, slot.slot->capabilities()));
}

CK_RV crypt_message(ModuleState& /*state*/, Session& session, MessageKind kind, CK_VOID_PTR param,
                    CK_ULONG param_len, CK_BYTE_PTR aad, CK_ULONG aad_len, CK_BYTE_PTR in,
                    CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len) {
  MessageOperation& operation = session.message(kind);
  require(!operation.in_message(), CKR_OPERATION_ACTIVE, "a multi-part message is open");
  require(out_len != nullptr, CKR_ARGUMENTS_BAD, "output length pointer is NULL");
  const auto data = input(in, in_len);
  const auto additional = input(aad, aad_len);
  const MessageParam p{param, param_len};
  operation.check_param(p);
  if (!fits(operation.next_output_size(data.size(), true), out, out_len)) {
    return out == nullptr ? CKR_OK : CKR_BUFFER_TOO_SMALL;
  }
  operation.begin(p, additional);
  AbortUnlessKept guard(operation);
  const SecretBytes result = operation.next(p, data, true);
  deliver(result, out, out_len);
  return CKR_OK;
}

void message_begin(ModuleState& /*state*/, Session& session, MessageKind kind, CK_VOID_PTR param,
                   CK_ULONG param_len, CK_BYTE_PTR aad, CK_ULONG aad_len) {
  MessageOperation& operation = session.message(kind);
  require(!operation.in_message(), CKR_OPERATION_ACTIVE, "a multi-part message is open");
  operation.begin({param, param_len}, input(aad, aad_len));
}

CK_RV message_next(ModuleState& /*state*/, Session& session, MessageKind kind, CK_VOID_PTR param,
                   CK_ULONG param_len, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                   CK_ULONG_PTR out_len, CK_FLAGS flags) {
  MessageOperation& operation = session.message(kind);
  require(operation.in_message(), CKR_OPERATION_NOT_INITIALIZED, "no message begun");
  AbortUnlessKept guard(operation);
  require(flags == 0 || flags == CKF_END_OF_MESSAGE, CKR_ARGUMENTS_BAD, "unknown flags");
  require(out_len != nullptr, CKR_ARGUMENTS_BAD, "output length pointer is NULL");
  const auto data = input(in, in_len);
  const MessageParam p{param, param_len};
  operation.check_param(p);
  const bool end = flags == CKF_END_OF_MESSAGE;
  if (!fits(operation.next_output_size(data.size(), end), out, out_len)) {
    guard.keep();
    return out == nullptr ? CKR_OK : CKR_BUFFER_TOO_SMALL;
  }
  const SecretBytes result = operation.next(p, data, end);
  deliver(result, out, out_len);
  guard.keep();
  return CKR_OK;
}

void message_final(ModuleState& /*state*/, Session& session, MessageKind kind) {
  (void)session.message(kind);  // CKR_OPERATION_NOT_INITIALIZED when none runs
  session.end_message(kind);
}

}  // namespace p11::impl
