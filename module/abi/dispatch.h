// The one path every C_* function takes into the module (practices.md P1):
//   1. check initialisation and the fork generation (CKR_CRYPTOKI_NOT_INITIALIZED),
//   2. hold the library lock shared for the whole call,
//   3. for session functions: look the session up and lock it for the whole call,
//   4. call the implementation (which throws P11Error on failure and returns void or a CK_RV),
//   5. map exceptions: P11Error → its CK_RV, slots::ProviderError → the SECURITY_STATUS table
//      (whose per-function rows apply to this C_* function: EntryPointScope),
//      std::bad_alloc → CKR_HOST_MEMORY, anything else → CKR_GENERAL_ERROR,
//   6. trace the call when CNG_PKCS11_DEBUG is set: one line with the arguments as the caller
//      passed them (core/trace_args.h: numbers, types, lengths, addresses; never a value).
// Nothing ever propagates out: every entry point is noexcept.
#pragma once

#include <exception>
#include <mutex>
#include <new>
#include <type_traits>

#include "bridge/status_map.h"
#include "core/log.h"
#include "core/p11_error.h"
#include "core/trace_args.h"
#include "session/instance.h"

namespace p11::abi {

// Runs body() and converts whatever it throws into a CK_RV. args: the traced argument list
// (trace::format_args, empty when tracing is off).
template <class Body>
CK_RV guarded(const char* function, const std::string& args, Body&& body) noexcept {
  const EntryPointScope entry_point(function);  // the per-function rows of the status table
  CK_RV rv = CKR_GENERAL_ERROR;
  const char* cause = nullptr;
  try {
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
      rv = CKR_OK;
    } else {
      rv = body();
    }
    log_call(function, args, rv, nullptr);
    return rv;
  } catch (const P11Error& e) {
    rv = e.rv();
    cause = e.what();
  } catch (const slots::ProviderError& e) {
    rv = rv_from_status(e.status(), NcryptContext::kGeneral);
    cause = e.what();
  } catch (const std::bad_alloc&) {
    rv = CKR_HOST_MEMORY;
  } catch (const std::exception& e) {
    rv = CKR_GENERAL_ERROR;
    cause = e.what();
  } catch (...) {
    rv = CKR_GENERAL_ERROR;
  }
  log_call(function, args, rv, cause);
  return rv;
}

// The traced arguments; formatting cannot throw out of a noexcept entry point.
template <class... Args>
std::string traced_args(const Args&... args) noexcept {
  try {
    return trace::format_args(args...);
  } catch (...) {
    return "?";
  }
}

// A library-level function: Impl(ModuleState&, args...).
template <auto Impl, class... Args>
CK_RV call_library(const char* function, Args... args) noexcept {
  return guarded(function, traced_args(args...), [&] {
    const LibraryHold hold;
    return Impl(hold.state(), args...);
  });
}

// A session function: Impl(ModuleState&, Session&, args...) with the session locked.
template <auto Impl, class... Args>
CK_RV call_session(const char* function, CK_SESSION_HANDLE handle, Args... args) noexcept {
  return guarded(function, traced_args(handle, args...), [&] {
    const LibraryHold hold;
    const std::shared_ptr<Session> session = hold.state().sessions().get(handle);
    const std::lock_guard lock(session->mutex());
    require(!session->closed, CKR_SESSION_HANDLE_INVALID, "session closed");
    return Impl(hold.state(), *session, args...);
  });
}

// A function that needs no initialised library (C_Initialize, C_GetFunctionList, …).
template <auto Impl, class... Args>
CK_RV call_unchecked(const char* function, Args... args) noexcept {
  return guarded(function, traced_args(args...), [&] { return Impl(args...); });
}

}  // namespace p11::abi
