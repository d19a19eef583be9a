// Module entry points from dlopen() of the shared library: $CNG_PKCS11_MODULE if set, else
// the path CMake compiled in (CONF_MODULE_PATH).
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "module_entry.h"

namespace conf {
namespace {

template <class Fn>
Fn Symbol(void* lib, const char* name) {
  void* sym = dlsym(lib, name);
  Fn fn = nullptr;
  static_assert(sizeof fn == sizeof sym);
  __builtin_memcpy(&fn, &sym, sizeof fn);  // object pointer -> function pointer (POSIX)
  return fn;
}

ModuleEntry* Load() {
  const char* env = std::getenv("CNG_PKCS11_MODULE");
  const std::string path = (env != nullptr && *env != '\0') ? env : CONF_MODULE_PATH;
  auto* entry = new ModuleEntry;  // leaky on purpose
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    std::fprintf(stderr, "conformance: dlopen(%s) failed: %s\n", path.c_str(), dlerror());
    return entry;
  }
  entry->get_function_list = Symbol<CK_C_GetFunctionList>(lib, "C_GetFunctionList");
  entry->get_interface_list = Symbol<CK_C_GetInterfaceList>(lib, "C_GetInterfaceList");
  entry->get_interface = Symbol<CK_C_GetInterface>(lib, "C_GetInterface");
  // Leaky on purpose, and held by a static pointer so leak checkers see it as reachable.
  static const std::string* const description = new std::string("dlopen " + path);
  entry->description = description->c_str();
  return entry;
}

}  // namespace

const ModuleEntry& Module() {
  static ModuleEntry* entry = Load();
  return *entry;
}

}  // namespace conf
