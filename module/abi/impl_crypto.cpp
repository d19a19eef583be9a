// Cryptographic operations: one Operation per kind per session (mechanisms/operation.h).
//
// Termination rule (PKCS#11 §5.2 / §5.12): a call that returns an error, or a final/single-part
// call that succeeds, ends the operation. It stays active after a successful C_*Update, after a
// length query (output pointer NULL → CKR_OK with the needed length) and after
// CKR_BUFFER_TOO_SMALL (with the needed length). Single-part calls after C_*Update are refused
// with CKR_OPERATION_ACTIVE (the multi-part operation stays active for its C_*Final).
// C_EncryptUpdate/C_DecryptUpdate return the output the mechanism has ready
// (Operation::update_output); a length query (output pointer NULL) or a too-small buffer
// consumes nothing. Single-part mechanisms (RSA) refuse the update and the operation ends.
// Decryption knows its exact output length only after decrypting: C_Decrypt and
// C_DecryptFinal decrypt first and keep the plaintext for a retry after a too-small buffer.
#include <algorithm>
#include <cstring>
#include <span>

#include "abi/impl.h"
#include "mechanisms/operation.h"

namespace p11::impl {

namespace {

// Ends the session's operation of a kind when the call leaves, unless keep() was called.
class EndUnlessKept {
 public:
  EndUnlessKept(Session& session, OpKind kind) noexcept : session_(session), kind_(kind) {}
  EndUnlessKept(const EndUnlessKept&) = delete;
  EndUnlessKept& operator=(const EndUnlessKept&) = delete;
  ~EndUnlessKept() {
    if (!keep_) {
      session_.end(kind_);
    }
  }
  void keep() noexcept { keep_ = true; }

 private:
  Session& session_;
  OpKind kind_;
  bool keep_ = false;
};

// The length-query / CKR_BUFFER_TOO_SMALL half of the output convention. Returns true when the
// caller's buffer can take `needed` bytes; otherwise sets *out_len and keeps the operation.
bool output_fits(std::size_t needed, CK_BYTE_PTR out, CK_ULONG_PTR out_len, EndUnlessKept& guard) {
  if (out != nullptr && *out_len >= needed) {
    return true;
  }
  *out_len = static_cast<CK_ULONG>(needed);
  guard.keep();
  return false;
}

void deliver(const std::vector<std::uint8_t>& result, CK_BYTE_PTR out, CK_ULONG_PTR out_len) {
  require(result.size() <= *out_len, CKR_GENERAL_ERROR, "output exceeds the announced size");
  std::copy(result.begin(), result.end(), out);
  *out_len = static_cast<CK_ULONG>(result.size());
}

}  // namespace

std::span<const std::uint8_t> input(CK_BYTE_PTR data, CK_ULONG len) {
  require(data != nullptr || len == 0, CKR_ARGUMENTS_BAD, "input pointer is NULL");
  return {data, data == nullptr ? 0 : len};
}

void operation_init(ModuleState& state, Session& session, OpKind kind, CK_MECHANISM_PTR mechanism,
                    CK_OBJECT_HANDLE key) {
  if (mechanism == nullptr) {
    // PKCS#11 3.0 (5.2): a NULL mechanism terminates an active operation of this kind.
    require(session.has_active(kind), CKR_ARGUMENTS_BAD, "pMechanism is NULL");
    session.end(kind);
    return;
  }
  require(!session.has_active(kind), CKR_OPERATION_ACTIVE, "an operation of this kind is active");
  SlotState& slot = state.slot(session.slot_id());
  const slots::Capabilities& caps = slot.slot->capabilities();
  if (kind == OpKind::kDigest) {
    session.start(kind, start_operation(kind, *mechanism, nullptr, caps));
    return;
  }
  // The operation copies what it needs from the view (handles stay owned by the object layer).
  const KeyView view = slot.objects->key_view(context_of(state, session), key);
  session.start(kind, start_operation(kind, *mechanism, &view, caps));
}

CK_RV single_part(ModuleState& /*state*/, Session& session, OpKind kind, CK_BYTE_PTR data,
                  CK_ULONG data_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len) {
  ActiveOperation& active = session.active(kind);
  EndUnlessKept guard(session, kind);
  if (active.updated) {
    guard.keep();
    fail(CKR_OPERATION_ACTIVE, "a multi-part operation is active: use C_*Final");
  }
  require(out_len != nullptr, CKR_ARGUMENTS_BAD, "output length pointer is NULL");
  const auto in = input(data, data_len);
  // Decryption only knows its exact output length after decrypting (the operation keeps the
  // plaintext for the retry); every other kind's output_size() is exact up front.
  if (kind == OpKind::kDecrypt && out != nullptr) {
    const auto result = active.operation->one_shot(in);
    if (!output_fits(result.size(), out, out_len, guard)) {
      return CKR_BUFFER_TOO_SMALL;
    }
    deliver(result, out, out_len);
    return CKR_OK;
  }
  if (!output_fits(active.operation->one_shot_output_size(in.size()), out, out_len, guard)) {
    return out == nullptr ? CKR_OK : CKR_BUFFER_TOO_SMALL;
  }
  deliver(active.operation->one_shot(in), out, out_len);
  return CKR_OK;
}

void update(ModuleState& /*state*/, Session& session, OpKind kind, CK_BYTE_PTR part,
            CK_ULONG part_len) {
  ActiveOperation& active = session.active(kind);
  EndUnlessKept guard(session, kind);
  active.operation->update(input(part, part_len));
  active.updated = true;
  guard.keep();
}

void update_with_output(ModuleState& /*state*/, Session& session, OpKind kind, CK_BYTE_PTR part,
                        CK_ULONG part_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len) {
  ActiveOperation& active = session.active(kind);  // CKR_OPERATION_NOT_INITIALIZED first
  EndUnlessKept guard(session, kind);
  require(out_len != nullptr, CKR_ARGUMENTS_BAD, "output length pointer is NULL");
  const auto in = input(part, part_len);
  Operation& operation = *active.operation;
  if (!operation.multi_part()) {
    operation.update(in);  // refuses (CKR_OPERATION_NOT_INITIALIZED): the operation ends
  }
  const std::size_t needed = operation.update_output_size(in.size());
  if (out == nullptr || *out_len < needed) {
    // Length query, or CKR_BUFFER_TOO_SMALL: nothing consumed, the operation stays active.
    *out_len = static_cast<CK_ULONG>(needed);
    guard.keep();
    if (out != nullptr) {
      fail(CKR_BUFFER_TOO_SMALL, "output buffer too small for this part");
    }
    return;
  }
  const auto result = operation.update_output(in);
  deliver(result, out, out_len);
  active.updated = true;
  guard.keep();
}

CK_RV final_part(ModuleState& /*state*/, Session& session, OpKind kind, CK_BYTE_PTR out,
                 CK_ULONG_PTR out_len) {
  ActiveOperation& active = session.active(kind);
  EndUnlessKept guard(session, kind);
  require(out_len != nullptr, CKR_ARGUMENTS_BAD, "output length pointer is NULL");
  if (kind == OpKind::kDecrypt && out != nullptr) {
    // As for C_Decrypt: the exact length is known after decrypting (final() repeats).
    const auto result = active.operation->final();
    if (!output_fits(result.size(), out, out_len, guard)) {
      return CKR_BUFFER_TOO_SMALL;
    }
    deliver(result, out, out_len);
    return CKR_OK;
  }
  if (!output_fits(active.operation->output_size(), out, out_len, guard)) {
    return out == nullptr ? CKR_OK : CKR_BUFFER_TOO_SMALL;
  }
  deliver(active.operation->final(), out, out_len);
  return CKR_OK;
}

void verify(ModuleState& /*state*/, Session& session, CK_BYTE_PTR data, CK_ULONG data_len,
            CK_BYTE_PTR signature, CK_ULONG signature_len) {
  ActiveOperation& active = session.active(OpKind::kVerify);
  EndUnlessKept guard(session, OpKind::kVerify);
  if (active.updated) {
    guard.keep();
    fail(CKR_OPERATION_ACTIVE, "a multi-part verification is active: use C_VerifyFinal");
  }
  const auto in = input(data, data_len);
  require(signature != nullptr, CKR_ARGUMENTS_BAD, "pSignature is NULL");
  active.operation->verify_one_shot(in, {signature, signature_len});
}

void verify_final(ModuleState& /*state*/, Session& session, CK_BYTE_PTR signature,
                  CK_ULONG signature_len) {
  ActiveOperation& active = session.active(OpKind::kVerify);
  EndUnlessKept guard(session, OpKind::kVerify);
  require(signature != nullptr, CKR_ARGUMENTS_BAD, "pSignature is NULL");
  active.operation->verify_final({signature, signature_len});
}

void digest_key(ModuleState& state, Session& session, CK_OBJECT_HANDLE key) {
  ActiveOperation& active = session.active(OpKind::kDigest);
  EndUnlessKept guard(session, OpKind::kDigest);
  // The value leaves the KSP only for secret keys whose Export Policy allows it in the clear.
  const SecretBytes value =
      state.slot(session.slot_id()).objects->digestible_value(context_of(state, session), key);
  active.operation->update(value);
  active.updated = true;
  guard.keep();
}

void seed_random(ModuleState& /*state*/, Session& /*session*/, CK_BYTE_PTR seed,
                 CK_ULONG seed_len) {
  p11::seed_random(input(seed, seed_len));
}

void generate_random(ModuleState& /*state*/, Session& /*session*/, CK_BYTE_PTR out,
                     CK_ULONG out_len) {
  require(out != nullptr || out_len == 0, CKR_ARGUMENTS_BAD, "pRandomData is NULL");
  p11::generate_random({out, out == nullptr ? 0 : out_len});
}

}  // namespace p11::impl
