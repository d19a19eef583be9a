// The ABI fuzzer's view of one input: a FuzzedDataProvider plus the handles the calls so far
// returned, and builders for the arguments PKCS#11 functions take (templates with duplicated,
// unknown and wrongly sized attributes; mechanisms with parameters of every size; output
// buffers of every size or NULL; handles valid and not). Every pointer handed to the module
// points to memory of at least the length passed with it: the module is fuzzed, not the client.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <deque>
#include <vector>

#include "pkcs11/pkcs11_all.h"

namespace fuzz::abi {

using Buffer = std::vector<std::uint8_t>;

// Arguments built for one call; owns what the pointers point to.
struct Template {
  std::vector<CK_ATTRIBUTE> attrs;
  std::deque<Buffer> values;
  bool null = false;  // pass NULL for pTemplate (with the count)
  CK_ATTRIBUTE* ptr() { return null ? nullptr : attrs.data(); }
  CK_ULONG count() const { return attrs.size(); }
};

struct Mechanism {
  CK_MECHANISM mech{};
  std::deque<Buffer> storage;
  CK_MECHANISM* ptr() { return &mech; }
};

// An output buffer: NULL (a length query) or a buffer of a fuzzed size, length set to it.
struct Out {
  Buffer buf;
  CK_ULONG len = 0;
  bool null = false;
  CK_BYTE* ptr() { return null ? nullptr : buf.data(); }
};

struct State {
  CK_FUNCTION_LIST_3_0* f = nullptr;
  FuzzedDataProvider& in;
  std::vector<CK_SESSION_HANDLE> sessions;
  std::vector<CK_OBJECT_HANDLE> objects;

  explicit State(FuzzedDataProvider& provider) : in(provider) {}

  CK_SLOT_ID slot();
  CK_SESSION_HANDLE session();
  CK_OBJECT_HANDLE object();
  CK_ULONG small(CK_ULONG max) { return in.ConsumeIntegralInRange<CK_ULONG>(0, max); }
  Buffer bytes(std::size_t max);
  Out out(std::size_t max = 600);
  // A template: the well-formed base for the given object kind (or none), then fuzzed extra
  // attributes, some duplicating earlier ones.
  Template attributes(CK_OBJECT_CLASS base_class = CK_UNAVAILABLE_INFORMATION);
  Mechanism mechanism();
  void remember(CK_OBJECT_HANDLE h) {
    if (objects.size() < 64) {
      objects.push_back(h);
    }
  }
};

}  // namespace fuzz::abi
