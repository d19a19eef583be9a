// RAII owners for the TSS2 objects the platform provider holds: TCTI and ESYS contexts, and
// buffers ESAPI allocates for results (Esys_Free).
#pragma once

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include <memory>

namespace cng::tpm {

struct TctiDeleter {
  void operator()(TSS2_TCTI_CONTEXT* tcti) const noexcept { Tss2_TctiLdr_Finalize(&tcti); }
};
using TctiPtr = std::unique_ptr<TSS2_TCTI_CONTEXT, TctiDeleter>;

// Esys_Finalize frees the context and every ESYS_TR it holds; it does not flush TPM objects.
struct EsysDeleter {
  void operator()(ESYS_CONTEXT* esys) const noexcept { Esys_Finalize(&esys); }
};
using EsysPtr = std::unique_ptr<ESYS_CONTEXT, EsysDeleter>;

// A result buffer ESAPI allocated (TPM2B_PUBLIC*, TPMT_SIGNATURE*, …).
struct EsysFreeDeleter {
  void operator()(void* p) const noexcept { Esys_Free(p); }
};
template <class T>
using EsysOut = std::unique_ptr<T, EsysFreeDeleter>;

// Out-parameter adapter: `EsysOut<T> x; Esys_Foo(..., out(x))` keeps ownership in x.
template <class T>
class OutParam {
 public:
  explicit OutParam(EsysOut<T>& owner) noexcept : owner_(owner) {}
  OutParam(const OutParam&) = delete;
  OutParam& operator=(const OutParam&) = delete;
  ~OutParam() { owner_.reset(raw_); }
  operator T**() noexcept { return &raw_; }  // NOLINT(google-explicit-constructor)

 private:
  EsysOut<T>& owner_;
  T* raw_ = nullptr;
};
template <class T>
OutParam<T> out(EsysOut<T>& owner) noexcept {
  return OutParam<T>(owner);
}

}  // namespace cng::tpm
