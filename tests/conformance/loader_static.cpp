// Module entry points by static linking of cng_pkcs11_static.
#include "module_entry.h"

extern "C" {
CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList);
CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount);
CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                     CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags);
}

namespace conf {

const ModuleEntry& Module() {
  static ModuleEntry* entry =
      new ModuleEntry{&C_GetFunctionList, &C_GetInterfaceList, &C_GetInterface, "static"};
  return *entry;
}

}  // namespace conf
