// libFuzzer target for the whole module through its C ABI (statically linked, as the
// conformance suite's loader_static does). An input is a sequence of operations (abi/ops_*.cpp),
// each picking its C_* call and arguments from the bytes that follow. Every input runs against
// C_Initialize'd module and ends with C_Finalize; the key store is a temporary directory
// (CNG_PKCS11_USER_DIR / CNG_PKCS11_MACHINE_DIR), wiped every kWipeEvery inputs to stay small.
// Oracle: no crash, no sanitizer report, every CK_RV allowed by abi/allowed_returns.h.
#include <fuzzer/FuzzedDataProvider.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "abi/ops.h"
#include "abi/oracle.h"

extern "C" CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                                CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags);

namespace {

constexpr unsigned kWipeEvery = 64;
constexpr unsigned kMaxOps = 48;

std::filesystem::path g_store;
CK_FUNCTION_LIST_3_0* g_functions = nullptr;

void wipe_store() {
  for (const char* scope : {"user", "machine"}) {
    const std::filesystem::path dir = g_store / scope;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
}

// The module keeps each finalised instance reachable on purpose (module/session/instance.cpp:
// late callers must never touch freed memory), so every C_Initialize/C_Finalize cycle has more
// mallocs than frees and libFuzzer's per-input leak check would run a full LeakSanitizer scan on
// every input. Unless the command line says otherwise, that per-input check is off
// (-detect_leaks=0, added here: LLVMFuzzerInitialize runs before libFuzzer parses its flags);
// LeakSanitizer's check at exit still reports anything unreachable.
void default_no_per_input_leak_check(int* argc, char*** argv) {
  static std::vector<char*> args;
  static char flag[] = "-detect_leaks=0";
  args.assign(*argv, *argv + *argc);
  for (const char* a : args) {
    if (std::string_view(a).starts_with("-detect_leaks=")) {
      return;
    }
  }
  args.insert(args.begin() + 1, flag);
  args.push_back(nullptr);
  *argc = static_cast<int>(args.size() - 1);
  *argv = args.data();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  default_no_per_input_leak_check(argc, argv);
  std::string dir = (std::filesystem::temp_directory_path() / "cng-fuzz-abi-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    __builtin_trap();
  }
  g_store = dir;
  wipe_store();
  setenv("CNG_PKCS11_USER_DIR", (g_store / "user").c_str(), 1);
  setenv("CNG_PKCS11_MACHINE_DIR", (g_store / "machine").c_str(), 1);
  setenv("CNG_PKCS11_TCTI", "device:/nonexistent/tpm", 1);  // no TPM slots: fast and hermetic
  CK_INTERFACE* iface = nullptr;
  CK_VERSION v30{3, 0};
  char name[] = "PKCS 11";
  if (C_GetInterface(reinterpret_cast<CK_UTF8CHAR*>(name), &v30, &iface, 0) != CKR_OK) {
    __builtin_trap();
  }
  g_functions = static_cast<CK_FUNCTION_LIST_3_0*>(iface->pFunctionList);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static unsigned inputs = 0;
  if (++inputs % kWipeEvery == 0) {
    wipe_store();
  }
  FuzzedDataProvider provider(data, size);
  fuzz::abi::State st(provider);
  st.f = g_functions;
  if (ABI_CALL(st, C_Initialize, nullptr) != CKR_OK) {
    __builtin_trap();  // the previous input ended finalized
  }
  const auto general = fuzz::abi::general_ops();
  const auto crypto = fuzz::abi::crypto_ops();
  for (unsigned n = 0; n < kMaxOps && provider.remaining_bytes() > 0; ++n) {
    const auto pick = provider.ConsumeIntegral<std::uint8_t>();
    if (pick % 2 == 0) {
      general[(pick / 2) % general.size()](st);
    } else {
      crypto[(pick / 2) % crypto.size()](st);
    }
  }
  const CK_RV rv = ABI_CALL(st, C_Finalize, nullptr);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_NOT_INITIALIZED) {
    __builtin_trap();
  }
  return 0;
}
