// C_Initialize, C_Finalize, C_GetInfo.
#include "abi/impl.h"
#include "abi/text_fields.h"
#include "session/instance.h"

namespace p11::impl {

namespace {
constexpr CK_VERSION kLibraryVersion{0, 1};
}  // namespace

void initialize(CK_VOID_PTR init_args) {
  initialize_library(static_cast<const CK_C_INITIALIZE_ARGS*>(init_args));
}

void finalize(CK_VOID_PTR reserved) {
  require(reserved == nullptr, CKR_ARGUMENTS_BAD, "C_Finalize: pReserved must be NULL");
  finalize_library();
}

void get_info(ModuleState& /*state*/, CK_INFO_PTR info, CK_VERSION cryptoki_version) {
  require(info != nullptr, CKR_ARGUMENTS_BAD, "pInfo is NULL");
  *info = CK_INFO{};
  info->cryptokiVersion = cryptoki_version;
  set_text_field(info->manufacturerID, "cng-pkcs11");
  info->flags = 0;
  set_text_field(info->libraryDescription, "Windows CNG key model (NCrypt)");
  info->libraryVersion = kLibraryVersion;
}

}  // namespace p11::impl
