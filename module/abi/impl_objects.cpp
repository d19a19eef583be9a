// Object management, search and key creation: the session layer checks arguments, session
// state and the RO/RW rule for token objects, then delegates to the slot's ObjectLayer.
#include <algorithm>
#include <cstring>
#include <span>

#include "abi/impl.h"

namespace p11::impl {

namespace {

std::span<const CK_ATTRIBUTE> attributes(CK_ATTRIBUTE_PTR tmpl, CK_ULONG count) {
  require(tmpl != nullptr || count == 0, CKR_ARGUMENTS_BAD, "pTemplate is NULL");
  return {tmpl, tmpl == nullptr ? 0 : count};
}

// CKA_TOKEN=TRUE in a template (malformed values are the object layer's to report).
bool asks_for_token_object(std::span<const CK_ATTRIBUTE> tmpl) {
  return std::any_of(tmpl.begin(), tmpl.end(), [](const CK_ATTRIBUTE& a) {
    if (a.type != CKA_TOKEN || a.pValue == nullptr || a.ulValueLen != sizeof(CK_BBOOL)) {
      return false;
    }
    CK_BBOOL value = CK_FALSE;
    std::memcpy(&value, a.pValue, sizeof value);
    return value != CK_FALSE;
  });
}

// A read-only session may not create token objects (PKCS#11 §5.7 / §6.7.1).
void check_may_create(const Session& session, std::span<const CK_ATTRIBUTE> tmpl) {
  require(session.read_write() || !asks_for_token_object(tmpl), CKR_SESSION_READ_ONLY,
          "token objects need a read-write session");
}

ObjectLayer& objects_of(ModuleState& state, const Session& session) {
  return *state.slot(session.slot_id()).objects;
}

// The session's context with the slot's login state (what the object layer needs to know of it).
SessionContext context_of(ModuleState& state, const Session& session) {
  SessionContext context = session.context();
  SlotState& slot = state.slot(session.slot_id());
  const std::lock_guard lock(*slot.mutex);
  context.security_officer = slot.login == LoginState::kSecurityOfficer;
  return context;
}

}  // namespace

void create_object(ModuleState& state, Session& session, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count,
                   CK_OBJECT_HANDLE_PTR object) {
  const auto attrs = attributes(tmpl, count);
  require(object != nullptr, CKR_ARGUMENTS_BAD, "phObject is NULL");
  check_may_create(session, attrs);
  *object = objects_of(state, session).create_object(context_of(state, session), attrs);
}

void copy_object(ModuleState& state, Session& session, CK_OBJECT_HANDLE object,
                 CK_ATTRIBUTE_PTR tmpl, CK_ULONG count, CK_OBJECT_HANDLE_PTR new_object) {
  const auto attrs = attributes(tmpl, count);
  require(new_object != nullptr, CKR_ARGUMENTS_BAD, "phNewObject is NULL");
  check_may_create(session, attrs);
  *new_object = objects_of(state, session).copy_object(context_of(state, session), object, attrs);
}

void destroy_object(ModuleState& state, Session& session, CK_OBJECT_HANDLE object) {
  objects_of(state, session).destroy_object(session.context(), object);
}

void get_object_size(ModuleState& state, Session& session, CK_OBJECT_HANDLE object,
                     CK_ULONG_PTR size) {
  require(size != nullptr, CKR_ARGUMENTS_BAD, "pulSize is NULL");
  *size = objects_of(state, session).object_size(session.context(), object);
}

CK_RV get_attribute_value(ModuleState& state, Session& session, CK_OBJECT_HANDLE object,
                          CK_ATTRIBUTE_PTR tmpl, CK_ULONG count) {
  require(tmpl != nullptr || count == 0, CKR_ARGUMENTS_BAD, "pTemplate is NULL");
  return objects_of(state, session)
      .get_attribute_value(session.context(), object, {tmpl, tmpl == nullptr ? 0 : count});
}

void set_attribute_value(ModuleState& state, Session& session, CK_OBJECT_HANDLE object,
                         CK_ATTRIBUTE_PTR tmpl, CK_ULONG count) {
  const auto attrs = attributes(tmpl, count);
  objects_of(state, session).set_attribute_value(context_of(state, session), object, attrs);
}

void find_objects_init(ModuleState& state, Session& session, CK_ATTRIBUTE_PTR tmpl,
                       CK_ULONG count) {
  const auto attrs = attributes(tmpl, count);
  require(!session.find.has_value(), CKR_OPERATION_ACTIVE, "a search is active");
  FindState find;
  find.results = objects_of(state, session).find(session.context(), attrs);
  session.find = std::move(find);
}

void find_objects(ModuleState& /*state*/, Session& session, CK_OBJECT_HANDLE_PTR objects,
                  CK_ULONG max_count, CK_ULONG_PTR count) {
  require(objects != nullptr && count != nullptr, CKR_ARGUMENTS_BAD, "NULL output");
  require(session.find.has_value(), CKR_OPERATION_NOT_INITIALIZED, "no active search");
  FindState& find = *session.find;
  const std::size_t left = find.results.size() - find.next;
  const std::size_t n = std::min<std::size_t>(left, max_count);
  std::copy_n(find.results.begin() + static_cast<std::ptrdiff_t>(find.next), n, objects);
  find.next += n;
  *count = static_cast<CK_ULONG>(n);
}

void find_objects_final(ModuleState& /*state*/, Session& session) {
  require(session.find.has_value(), CKR_OPERATION_NOT_INITIALIZED, "no active search");
  session.find.reset();
}

void generate_key_pair(ModuleState& state, Session& session, CK_MECHANISM_PTR mechanism,
                       CK_ATTRIBUTE_PTR public_tmpl, CK_ULONG public_count,
                       CK_ATTRIBUTE_PTR private_tmpl, CK_ULONG private_count,
                       CK_OBJECT_HANDLE_PTR public_key, CK_OBJECT_HANDLE_PTR private_key) {
  require(mechanism != nullptr, CKR_ARGUMENTS_BAD, "pMechanism is NULL");
  require(public_key != nullptr && private_key != nullptr, CKR_ARGUMENTS_BAD, "NULL output");
  const auto pub = attributes(public_tmpl, public_count);
  const auto priv = attributes(private_tmpl, private_count);
  check_may_create(session, pub);
  check_may_create(session, priv);
  const auto [public_handle, private_handle] =
      objects_of(state, session)
          .generate_key_pair(context_of(state, session), *mechanism, pub, priv);
  *public_key = public_handle;
  *private_key = private_handle;
}

void generate_key(ModuleState& state, Session& session, CK_MECHANISM_PTR mechanism,
                  CK_ATTRIBUTE_PTR tmpl, CK_ULONG count, CK_OBJECT_HANDLE_PTR key) {
  require(mechanism != nullptr, CKR_ARGUMENTS_BAD, "pMechanism is NULL");
  require(key != nullptr, CKR_ARGUMENTS_BAD, "phKey is NULL");
  const auto attrs = attributes(tmpl, count);
  check_may_create(session, attrs);
  *key = objects_of(state, session).generate_key(context_of(state, session), *mechanism, attrs);
}

void derive_key(ModuleState& state, Session& session, CK_MECHANISM_PTR mechanism,
                CK_OBJECT_HANDLE base_key, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count,
                CK_OBJECT_HANDLE_PTR key) {
  require(mechanism != nullptr, CKR_ARGUMENTS_BAD, "pMechanism is NULL");
  require(key != nullptr, CKR_ARGUMENTS_BAD, "phKey is NULL");
  const auto attrs = attributes(tmpl, count);
  check_may_create(session, attrs);
  *key = objects_of(state, session)
             .derive_key(context_of(state, session), *mechanism, base_key, attrs);
}

// C_WrapKey: the output convention of §5.2 (pWrappedKey NULL: the length; too small:
// CKR_BUFFER_TOO_SMALL with the length). The wrapping is made each call; it is cheap.
CK_RV wrap_key(ModuleState& state, Session& session, CK_MECHANISM_PTR mechanism,
               CK_OBJECT_HANDLE wrapping_key, CK_OBJECT_HANDLE key, CK_BYTE_PTR wrapped,
               CK_ULONG_PTR wrapped_len) {
  require(mechanism != nullptr, CKR_ARGUMENTS_BAD, "pMechanism is NULL");
  require(wrapped_len != nullptr, CKR_ARGUMENTS_BAD, "pulWrappedKeyLen is NULL");
  const Bytes out =
      objects_of(state, session).wrap_key(session.context(), *mechanism, wrapping_key, key);
  const CK_ULONG available = *wrapped_len;
  *wrapped_len = static_cast<CK_ULONG>(out.size());
  if (wrapped == nullptr) {
    return CKR_OK;
  }
  if (available < out.size()) {
    return CKR_BUFFER_TOO_SMALL;
  }
  std::copy(out.begin(), out.end(), wrapped);
  return CKR_OK;
}

void unwrap_key(ModuleState& state, Session& session, CK_MECHANISM_PTR mechanism,
                CK_OBJECT_HANDLE unwrapping_key, CK_BYTE_PTR wrapped, CK_ULONG wrapped_len,
                CK_ATTRIBUTE_PTR tmpl, CK_ULONG count, CK_OBJECT_HANDLE_PTR key) {
  require(mechanism != nullptr, CKR_ARGUMENTS_BAD, "pMechanism is NULL");
  require(key != nullptr, CKR_ARGUMENTS_BAD, "phKey is NULL");
  require(wrapped != nullptr || wrapped_len == 0, CKR_ARGUMENTS_BAD, "pWrappedKey is NULL");
  const auto attrs = attributes(tmpl, count);
  check_may_create(session, attrs);
  *key = objects_of(state, session)
             .unwrap_key(context_of(state, session), *mechanism, unwrapping_key,
                         {wrapped, wrapped == nullptr ? 0 : wrapped_len}, attrs);
}

}  // namespace p11::impl
