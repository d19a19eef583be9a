// General-purpose, slot, session, login and object functions.
#include <mutex>

#include "abi/ops.h"
#include "abi/oracle.h"

namespace fuzz::abi {

namespace {

// Application-supplied locking for C_Initialize (CK_C_INITIALIZE_ARGS).
CK_RV create_mutex(CK_VOID_PTR_PTR out) {
  *out = new std::mutex;
  return CKR_OK;
}
CK_RV destroy_mutex(CK_VOID_PTR m) {
  delete static_cast<std::mutex*>(m);
  return CKR_OK;
}
CK_RV lock_mutex(CK_VOID_PTR m) {
  static_cast<std::mutex*>(m)->lock();
  return CKR_OK;
}
CK_RV unlock_mutex(CK_VOID_PTR m) {
  static_cast<std::mutex*>(m)->unlock();
  return CKR_OK;
}

void initialize(State& st) {
  CK_C_INITIALIZE_ARGS args{};
  const int shape = st.in.ConsumeIntegralInRange(0, 4);
  args.flags = st.in.ConsumeBool() ? CKF_OS_LOCKING_OK : st.in.ConsumeIntegral<CK_FLAGS>();
  if (shape >= 2) {  // all four functions, or only some (CKR_ARGUMENTS_BAD)
    args.CreateMutex = create_mutex;
    args.DestroyMutex = destroy_mutex;
    args.LockMutex = shape == 3 ? nullptr : lock_mutex;
    args.UnlockMutex = unlock_mutex;
  }
  if (shape == 4) {
    args.pReserved = &args;  // must be NULL
  }
  ABI_CALL(st, C_Initialize, shape == 0 ? nullptr : &args);
}

void finalize(State& st) {
  int reserved = 0;
  if (ABI_CALL(st, C_Finalize, st.in.ConsumeIntegralInRange(0, 7) == 0 ? &reserved : nullptr) ==
      CKR_OK) {
    st.sessions.clear();
    st.objects.clear();
  }
}

void info(State& st) {
  CK_INFO i;
  ABI_CALL(st, C_GetInfo, st.in.ConsumeBool() ? &i : nullptr);
  CK_SLOT_INFO si;
  ABI_CALL(st, C_GetSlotInfo, st.slot(), st.in.ConsumeBool() ? &si : nullptr);
  CK_TOKEN_INFO ti;
  ABI_CALL(st, C_GetTokenInfo, st.slot(), st.in.ConsumeBool() ? &ti : nullptr);
  CK_SLOT_ID slot = 0;
  ABI_CALL(st, C_WaitForSlotEvent, CKF_DONT_BLOCK, &slot, nullptr);
}

void slot_list(State& st) {
  std::vector<CK_SLOT_ID> slots(st.small(8));
  CK_ULONG count = slots.size();
  const bool null_list = st.in.ConsumeBool();
  ABI_CALL(st, C_GetSlotList, st.in.ConsumeBool(), null_list ? nullptr : slots.data(),
           st.in.ConsumeIntegralInRange(0, 15) == 0 ? nullptr : &count);
}

void mechanisms(State& st) {
  std::vector<CK_MECHANISM_TYPE> types(st.small(64));
  CK_ULONG count = types.size();
  ABI_CALL(st, C_GetMechanismList, st.slot(), st.in.ConsumeBool() ? nullptr : types.data(),
           st.in.ConsumeIntegralInRange(0, 15) == 0 ? nullptr : &count);
  CK_MECHANISM_INFO mi;
  ABI_CALL(st, C_GetMechanismInfo, st.slot(), st.mechanism().mech.mechanism,
           st.in.ConsumeIntegralInRange(0, 15) == 0 ? nullptr : &mi);
}

void open_session(State& st) {
  static const CK_FLAGS kFlags[] = {CKF_SERIAL_SESSION, CKF_SERIAL_SESSION | CKF_RW_SESSION, 0,
                                    CKF_RW_SESSION};
  const auto pick = st.in.ConsumeIntegralInRange<std::size_t>(0, std::size(kFlags));
  const CK_FLAGS flags =
      pick == std::size(kFlags) ? st.in.ConsumeIntegral<CK_FLAGS>() : kFlags[pick];
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  const bool null_out = st.in.ConsumeIntegralInRange(0, 15) == 0;
  if (ABI_CALL(st, C_OpenSession, st.slot(), flags, nullptr, nullptr, null_out ? nullptr : &h) ==
          CKR_OK &&
      st.sessions.size() < 16) {
    st.sessions.push_back(h);
  }
}

void close_session(State& st) {
  ABI_CALL(st, C_CloseSession, st.session());
  if (st.in.ConsumeIntegralInRange(0, 7) == 0) {
    ABI_CALL(st, C_CloseAllSessions, st.slot());
  }
}

void session_info(State& st) {
  CK_SESSION_INFO si;
  ABI_CALL(st, C_GetSessionInfo, st.session(), st.in.ConsumeBool() ? &si : nullptr);
  ABI_CALL(st, C_SessionCancel, st.session(), st.in.ConsumeIntegral<CK_FLAGS>());
  Out state = st.out(256);
  CK_ULONG* len = st.in.ConsumeIntegralInRange(0, 7) == 0 ? nullptr : &state.len;
  ABI_CALL(st, C_GetOperationState, st.session(), state.ptr(), len);
  Buffer saved = st.bytes(64);
  ABI_CALL(st, C_SetOperationState, st.session(), saved.data(), saved.size(), st.object(),
           st.object());
}

void login(State& st) {
  static const CK_USER_TYPE kUsers[] = {CKU_USER, CKU_SO, CKU_CONTEXT_SPECIFIC, 7};
  Buffer pin = st.bytes(12);
  const CK_USER_TYPE user = kUsers[st.in.ConsumeIntegralInRange<std::size_t>(0, 3)];
  CK_UTF8CHAR* p = pin.empty() && st.in.ConsumeBool() ? nullptr : pin.data();
  switch (st.in.ConsumeIntegralInRange(0, 2)) {
    case 0:
      ABI_CALL(st, C_Login, st.session(), user, p, pin.size());
      break;
    case 1: {
      Buffer name = st.bytes(8);
      ABI_CALL(st, C_LoginUser, st.session(), user, p, pin.size(), name.data(), name.size());
      break;
    }
    default:
      ABI_CALL(st, C_Logout, st.session());
  }
}

void pins(State& st) {
  Buffer old_pin = st.bytes(12);
  Buffer new_pin = st.bytes(12);
  switch (st.in.ConsumeIntegralInRange(0, 2)) {
    case 0:
      ABI_CALL(st, C_SetPIN, st.session(), old_pin.data(), old_pin.size(), new_pin.data(),
               new_pin.size());
      break;
    case 1:
      ABI_CALL(st, C_InitPIN, st.session(), new_pin.data(), new_pin.size());
      break;
    default: {
      Buffer label(32, ' ');
      ABI_CALL(st, C_InitToken, st.slot(), old_pin.data(), old_pin.size(),
               st.in.ConsumeBool() ? label.data() : nullptr);
    }
  }
}

void create_object(State& st) {
  static const CK_OBJECT_CLASS kBases[] = {CKO_SECRET_KEY, CKO_DATA, CKO_PUBLIC_KEY,
                                           CK_UNAVAILABLE_INFORMATION};
  Template t = st.attributes(kBases[st.in.ConsumeIntegralInRange<std::size_t>(0, 3)]);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  if (ABI_CALL(st, C_CreateObject, st.session(), t.ptr(), t.count(), &h) == CKR_OK) {
    st.remember(h);
  }
}

void copy_destroy(State& st) {
  if (st.in.ConsumeBool()) {
    Template t = st.attributes();
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    if (ABI_CALL(st, C_CopyObject, st.session(), st.object(), t.ptr(), t.count(), &h) == CKR_OK) {
      st.remember(h);
    }
  } else {
    ABI_CALL(st, C_DestroyObject, st.session(), st.object());
  }
}

void get_attributes(State& st) {
  // Types from the attribute builder, values replaced by output buffers of fuzzed sizes.
  Template t = st.attributes();
  for (CK_ATTRIBUTE& a : t.attrs) {
    t.values.emplace_back(st.small(300));
    a.pValue = st.in.ConsumeIntegralInRange(0, 3) == 0 ? nullptr : t.values.back().data();
    a.ulValueLen = t.values.back().size();
  }
  ABI_CALL(st, C_GetAttributeValue, st.session(), st.object(), t.ptr(), t.count());
  CK_ULONG size = 0;
  ABI_CALL(st, C_GetObjectSize, st.session(), st.object(), st.in.ConsumeBool() ? &size : nullptr);
}

void set_attributes(State& st) {
  Template t = st.attributes();
  ABI_CALL(st, C_SetAttributeValue, st.session(), st.object(), t.ptr(), t.count());
}

void find(State& st) {
  const CK_SESSION_HANDLE s = st.session();
  Template t = st.attributes();
  ABI_CALL(st, C_FindObjectsInit, s, t.ptr(), t.count());
  std::vector<CK_OBJECT_HANDLE> found(st.small(16));
  CK_ULONG count = 0;
  ABI_CALL(st, C_FindObjects, s, found.empty() ? nullptr : found.data(), found.size(),
           st.in.ConsumeIntegralInRange(0, 15) == 0 ? nullptr : &count);
  for (CK_ULONG i = 0; i < count && i < found.size(); ++i) {
    st.remember(found[i]);
  }
  if (st.in.ConsumeBool()) {  // else left active: a search broken off
    ABI_CALL(st, C_FindObjectsFinal, s);
  }
}

constexpr Op kOps[] = {initialize,     finalize,      info,          slot_list,    mechanisms,
                       open_session,   open_session,  close_session, session_info, login,
                       pins,           create_object, create_object, copy_destroy, get_attributes,
                       set_attributes, find};

}  // namespace

std::span<const Op> general_ops() { return kOps; }

}  // namespace fuzz::abi
