// How the suite reaches the module: the three exported entry points, obtained either by
// dlopen() of libcng_pkcs11.so (loader_dlopen.cpp) or by static linking (loader_static.cpp).
// Everything else goes through the function lists they return.
#pragma once

#include "pkcs11/pkcs11_all.h"

namespace conf {

struct ModuleEntry {
  CK_C_GetFunctionList get_function_list = nullptr;
  CK_C_GetInterfaceList get_interface_list = nullptr;
  CK_C_GetInterface get_interface = nullptr;
  const char* description = "";  // "dlopen <path>" or "static"
};

// Loaded once per process and never unloaded (clients may call in from atexit handlers).
const ModuleEntry& Module();

}  // namespace conf
