// Object management, search and key creation: the session layer checks arguments, session
// state and the RO/RW rule for token objects, then delegates to the slot's ObjectLayer.
#include <algorithm>
#include <cstring>
#include <optional>
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

// The CK_ULONG or CK_BBOOL value of an attribute in a template; nullopt when absent or malformed.
template <class T>
std::optional<T> template_value(std::span<const CK_ATTRIBUTE> tmpl, CK_ATTRIBUTE_TYPE type) {
  for (const CK_ATTRIBUTE& a : tmpl) {
    if (a.type == type && a.pValue != nullptr && a.ulValueLen == sizeof(T)) {
      T value{};
      std::memcpy(&value, a.pValue, sizeof value);
      return value;
    }
  }
  return std::nullopt;
}

// While private objects are hidden (a scope PIN, the user not logged in), none may be created:
// CKR_USER_NOT_LOGGED_IN when the new object's CKA_PRIVATE (the template's, else the class
// default: TRUE for private and secret keys) is TRUE.
void check_private_creation(ModuleState& state, const Session& session,
                            std::span<const CK_ATTRIBUTE> tmpl, bool default_private) {
  if (!context_of(state, session).private_hidden) {
    return;
  }
  const auto value = template_value<CK_BBOOL>(tmpl, CKA_PRIVATE);
  require(!(value ? *value != CK_FALSE : default_private), CKR_USER_NOT_LOGGED_IN,
          "a private object: the user must log in");
}

bool private_by_default(std::span<const CK_ATTRIBUTE> tmpl) {
  const auto cls = template_value<CK_OBJECT_CLASS>(tmpl, CKA_CLASS);
  return cls && (*cls == CKO_PRIVATE_KEY || *cls == CKO_SECRET_KEY);
}

// A read-only session may not create token objects (PKCS#11 §5.7 / §6.7.1).
void check_may_create(const Session& session, std::span<const CK_ATTRIBUTE> tmpl) {
  require(session.read_write() || !asks_for_token_object(tmpl), CKR_SESSION_READ_ONLY,
          "token objects need a read-write session");
}

ObjectLayer& objects_of(ModuleState& state, const Session& session) {
  return *state.slot(session.slot_id()).objects;
}

}  // namespace

void create_object(ModuleState& state, Session& session, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count,
                   CK_OBJECT_HANDLE_PTR object) {
  const auto attrs = attributes(tmpl, count);
  require(object != nullptr, CKR_ARGUMENTS_BAD, "phObject is NULL");
  check_may_create(session, attrs);
  check_private_creation(state, session, attrs, private_by_default(attrs));
  *object = objects_of(state, session).create_object(context_of(state, session), attrs);
}

void copy_object(ModuleState& state, Session& session, CK_OBJECT_HANDLE object,
                 CK_ATTRIBUTE_PTR tmpl, CK_ULONG count, CK_OBJECT_HANDLE_PTR new_object) {
  const auto attrs = attributes(tmpl, count);
  require(new_object != nullptr, CKR_ARGUMENTS_BAD, "phNewObject is NULL");
  check_may_create(session, attrs);
  check_private_creation(state, session, attrs, false);  // the source is checked by the layer
  *new_object = objects_of(state, session).copy_object(context_of(state, session), object, attrs);
}

void destroy_object(ModuleState& state, Session& session, CK_OBJECT_HANDLE object) {
  objects_of(state, session).destroy_object(context_of(state, session), object);
}

void get_object_size(ModuleState& state, Session& session, CK_OBJECT_HANDLE object,
                     CK_ULONG_PTR size) {
  require(size != nullptr, CKR_ARGUMENTS_BAD, "pulSize is NULL");
  *size = objects_of(state, session).object_size(context_of(state, session), object);
}

CK_RV get_attribute_value(ModuleState& state, Session& session, CK_OBJECT_HANDLE object,
                          CK_ATTRIBUTE_PTR tmpl, CK_ULONG count) {
  require(tmpl != nullptr || count == 0, CKR_ARGUMENTS_BAD, "pTemplate is NULL");
  return objects_of(state, session)
      .get_attribute_value(context_of(state, session), object, {tmpl, tmpl == nullptr ? 0 : count});
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
  find.results = objects_of(state, session).find(context_of(state, session), attrs);
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
  check_private_creation(state, session, pub, false);
  check_private_creation(state, session, priv, true);
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
  check_private_creation(state, session, attrs, true);
  *key = objects_of(state, session).generate_key(context_of(state, session), *mechanism, attrs);
}

void derive_key(ModuleState& state, Session& session, CK_MECHANISM_PTR mechanism,
                CK_OBJECT_HANDLE base_key, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count,
                CK_OBJECT_HANDLE_PTR key) {
  require(mechanism != nullptr, CKR_ARGUMENTS_BAD, "pMechanism is NULL");
  require(key != nullptr, CKR_ARGUMENTS_BAD, "phKey is NULL");
  const auto attrs = attributes(tmpl, count);
  check_may_create(session, attrs);
  check_private_creation(state, session, attrs, true);
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
  const Bytes out = objects_of(state, session)
                        .wrap_key(context_of(state, session), *mechanism, wrapping_key, key);
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
  check_private_creation(state, session, attrs, true);
  *key = objects_of(state, session)
             .unwrap_key(context_of(state, session), *mechanism, unwrapping_key,
                         {wrapped, wrapped == nullptr ? 0 : wrapped_len}, attrs);
}

}  // namespace p11::impl
