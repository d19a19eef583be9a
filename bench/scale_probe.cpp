// Scale probe for any PKCS#11 module (dlopen()ed through C_GetFunctionList), used by
// bench/scale.sh:
//
//   scale_probe populate  --count N --prefix P   N token P-256 key pairs labelled P0 .. P<N-1>
//                         --certs N                 and N token X.509 certificates (self-signed
//                                                   P-256, labelled Pcert-0 ..)
//                         --data N                  and N token data objects of 64 bytes
//                                                   (labelled Pdata-0 ..); any of the three
//   scale_probe read-values                      C_FindObjects over every certificate and data
//                                                object, reading CKA_VALUE of each
//   scale_probe sign-one  --label L [--lookups K]  find the private key labelled L, sign with
//                                                it; with K, first time K warm lookups of L
//                                                and K of an absent label
//   scale_probe enumerate                        C_FindObjects with an empty template over every
//                                                object, reading CKA_LABEL of each
//
// Common options: --module PATH (default the built libcng_pkcs11.so), --token LABEL (the slot
// whose token has this label; default the first slot with a token), --pin PIN (C_Login as
// CKU_USER). Each mode is one fresh process: C_Initialize, slot, session, login, the work,
// C_Finalize. It prints name=value lines: objects, elapsed_ms and cpu_ms (wall and process CPU
// time from C_Initialize to the end; CPU time is the figure to compare on a loaded machine),
// for sign-one found_ms and found_cpu_ms (C_Initialize until the label lookup is answered: the
// cold start) and lookup_hit_us / lookup_miss_us (a warm label lookup), and peak_rss_kb (getrusage:
// the peak resident set of this whole process, module included). Measurement only: never run by the
// test suite. Exit status 0 on success, 1 on a module error, 2 on a usage error.
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/resource.h>
#include <time.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "p11_bench.h"

namespace {

struct Options {
  std::string mode;
  std::string module;
  std::string token;
  std::string pin;
  std::string label;
  std::string prefix = "scale-";
  long count = 0;
  long lookups = 0;
  long certs = 0;
  long data = 0;
};

constexpr const char* kUsage =
    "usage: scale_probe populate [--count N] [--certs N] [--data N] [--prefix P] [common "
    "options]\n"
    "       scale_probe sign-one --label L [--lookups K] [common options]\n"
    "       scale_probe enumerate [common options]\n"
    "       scale_probe read-values [common options]\n"
    "common options: --module PATH  --token LABEL  --pin PIN\n";

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {  // the mode, before or after the options
      if (!o.mode.empty()) {
        return false;
      }
      o.mode = arg;
      continue;
    }
    if (i + 1 >= argc) {
      return false;
    }
    const char* value = argv[++i];
    if (arg == "--module") {
      o.module = value;
    } else if (arg == "--token") {
      o.token = value;
    } else if (arg == "--pin") {
      o.pin = value;
    } else if (arg == "--label") {
      o.label = value;
    } else if (arg == "--prefix") {
      o.prefix = value;
    } else if (arg == "--lookups") {
      char* end = nullptr;
      o.lookups = std::strtol(value, &end, 10);
      if (*end != '\0' || o.lookups < 0) {
        return false;
      }
    } else if (arg == "--count" || arg == "--certs" || arg == "--data") {
      long& n = arg == "--count" ? o.count : arg == "--certs" ? o.certs : o.data;
      char* end = nullptr;
      n = std::strtol(value, &end, 10);
      if (*end != '\0' || n <= 0) {
        return false;
      }
    } else {
      return false;
    }
  }
  if (o.mode == "populate") {
    return o.count > 0 || o.certs > 0 || o.data > 0;
  }
  if (o.mode == "sign-one") {
    return !o.label.empty();
  }
  return o.mode == "enumerate" || o.mode == "read-values";
}

[[noreturn]] void die(const char* what, CK_RV rv) {
  std::fprintf(stderr, "scale_probe: %s: %s\n", what, bench::rv_name(rv).c_str());
  std::exit(1);
}

void check(CK_RV rv, const char* what) {
  if (rv != CKR_OK) {
    die(what, rv);
  }
}

// The token label from CK_TOKEN_INFO (32 bytes, blank padded).
std::string token_label(const CK_TOKEN_INFO& info) {
  std::string label(reinterpret_cast<const char*>(info.label), sizeof info.label);
  label.erase(label.find_last_not_of(' ') + 1);
  return label;
}

CK_SLOT_ID pick_slot(CK_FUNCTION_LIST* f, const std::string& token) {
  CK_ULONG n = 0;
  check(f->C_GetSlotList(CK_TRUE, nullptr, &n), "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(n);
  check(f->C_GetSlotList(CK_TRUE, slots.data(), &n), "C_GetSlotList");
  slots.resize(n);
  for (const CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (f->C_GetTokenInfo(slot, &info) == CKR_OK && (token.empty() || token_label(info) == token)) {
      return slot;
    }
  }
  std::fprintf(stderr, "scale_probe: no token '%s'\n", token.c_str());
  std::exit(1);
}

// A self-signed P-256 certificate (DER), one key for all of them (signing is what costs).
std::vector<std::uint8_t> make_cert(EVP_PKEY* key, const std::string& cn, long serial) {
  bench::Owned<X509> x{X509_new()};
  bench::Owned<X509_NAME> name{X509_NAME_new()};
  if (!x || !name ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_version(x.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial) != 1 ||
      X509_set_subject_name(x.get(), name.get()) != 1 ||
      X509_set_issuer_name(x.get(), name.get()) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(x.get()), 0) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(x.get()), 86400L * 365) == nullptr ||
      X509_set_pubkey(x.get(), key) != 1 || X509_sign(x.get(), key, EVP_sha256()) <= 0) {
    std::fprintf(stderr, "scale_probe: OpenSSL could not make a certificate\n");
    std::exit(1);
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509(x.get(), &der);
  std::vector<std::uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

void create(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, std::vector<CK_ATTRIBUTE> tmpl) {
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  check(f->C_CreateObject(s, tmpl.data(), static_cast<CK_ULONG>(tmpl.size()), &h),
        "C_CreateObject");
}

void populate(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, const Options& o) {
  for (long i = 0; i < o.count; ++i) {
    const std::string label = o.prefix + std::to_string(i);
    const std::vector<std::uint8_t> id(label.begin(), label.end());
    bench::KeyPair pair;
    check(bench::generate_pair(f, s, bench::KeyKind::kP256, true, label, id, pair),
          "C_GenerateKeyPair");
  }
  CK_BBOOL yes = CK_TRUE;
  if (o.certs > 0) {
    bench::Pkey key{EVP_EC_gen("P-256")};
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE type = CKC_X_509;
    for (long i = 0; i < o.certs; ++i) {
      const std::string label = o.prefix + "cert-" + std::to_string(i);
      std::vector<std::uint8_t> der = make_cert(key.get(), label, i + 1);
      create(f, s,
             {{CKA_CLASS, &cls, sizeof cls},
              {CKA_CERTIFICATE_TYPE, &type, sizeof type},
              {CKA_TOKEN, &yes, sizeof yes},
              {CKA_LABEL, const_cast<char*>(label.data()), static_cast<CK_ULONG>(label.size())},
              {CKA_VALUE, der.data(), static_cast<CK_ULONG>(der.size())}});
    }
  }
  CK_OBJECT_CLASS data_class = CKO_DATA;
  for (long i = 0; i < o.data; ++i) {
    const std::string label = o.prefix + "data-" + std::to_string(i);
    std::vector<std::uint8_t> value(64, static_cast<std::uint8_t>(i));
    create(f, s,
           {{CKA_CLASS, &data_class, sizeof data_class},
            {CKA_TOKEN, &yes, sizeof yes},
            {CKA_LABEL, const_cast<char*>(label.data()), static_cast<CK_ULONG>(label.size())},
            {CKA_VALUE, value.data(), static_cast<CK_ULONG>(value.size())}});
  }
  std::printf("objects=%ld\n", 2 * o.count + o.certs + o.data);
}

// Every certificate's and data object's value: what a lazy module reads only now.
void read_values(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s) {
  std::size_t objects = 0;
  std::size_t value_bytes = 0;
  for (CK_OBJECT_CLASS cls : {CKO_CERTIFICATE, CKO_DATA}) {
    std::vector<CK_OBJECT_HANDLE> found;
    check(bench::find(f, s, {{CKA_CLASS, &cls, sizeof cls}}, found), "C_FindObjects(class)");
    for (const CK_OBJECT_HANDLE o : found) {
      std::vector<std::uint8_t> value;
      check(bench::get_bytes(f, s, o, CKA_VALUE, value), "C_GetAttributeValue(CKA_VALUE)");
      value_bytes += value.size();
    }
    objects += found.size();
  }
  std::printf("objects=%zu\nvalue_bytes=%zu\n", objects, value_bytes);
}

// Process CPU time in ms, and the wall and CPU time when sign-one's lookup was answered.
double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}
std::chrono::steady_clock::time_point g_found_at;
double g_found_cpu = 0;

// Warm label lookups (C_FindObjectsInit + C_FindObjects + C_FindObjectsFinal) of the label in
// tmpl[1] and of an absent one, o.lookups each.
void time_lookups(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, const Options& o,
                  std::vector<CK_ATTRIBUTE> tmpl) {
  const std::string miss = o.label + "-absent";
  std::vector<CK_OBJECT_HANDLE> found;
  for (const bool hit : {true, false}) {
    tmpl[1].pValue = const_cast<char*>(hit ? o.label.data() : miss.data());
    tmpl[1].ulValueLen = static_cast<CK_ULONG>(hit ? o.label.size() : miss.size());
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < o.lookups; ++i) {
      check(bench::find(f, s, tmpl, found), "C_FindObjects(label)");
    }
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    if (found.size() != (hit ? 1u : 0u)) {
      std::fprintf(stderr, "scale_probe: %zu keys labelled '%s'\n", found.size(),
                   static_cast<const char*>(tmpl[1].pValue));
      std::exit(1);
    }
    std::printf("%s=%.2f\n", hit ? "lookup_hit_us" : "lookup_miss_us",
                us / static_cast<double>(o.lookups));
  }
}

// CKM_ECDSA over a 32-byte digest: every token has it (SoftHSM 2.6 lacks CKM_ECDSA_SHA256).
void sign_one(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, const Options& o) {
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  std::vector<CK_ATTRIBUTE> tmpl = {
      {CKA_CLASS, &cls, sizeof cls},
      {CKA_LABEL, const_cast<char*>(o.label.data()), static_cast<CK_ULONG>(o.label.size())}};
  std::vector<CK_OBJECT_HANDLE> found;
  check(bench::find(f, s, tmpl, found), "C_FindObjects(label)");
  g_found_at = std::chrono::steady_clock::now();
  g_found_cpu = cpu_ms();
  if (found.size() != 1) {
    std::fprintf(stderr, "scale_probe: %zu private keys labelled '%s'\n", found.size(),
                 o.label.c_str());
    std::exit(1);
  }
  if (o.lookups > 0) {
    time_lookups(f, s, o, tmpl);
  }
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  check(f->C_SignInit(s, &mech, found[0]), "C_SignInit");
  std::array<CK_BYTE, 32> digest{};
  digest.fill(0x5a);
  std::array<CK_BYTE, 132> signature{};
  CK_ULONG len = signature.size();
  check(f->C_Sign(s, digest.data(), digest.size(), signature.data(), &len), "C_Sign");
  if (len != 64) {
    std::fprintf(stderr, "scale_probe: P-256 signature of %lu bytes\n", len);
    std::exit(1);
  }
  std::printf("objects=1\n");
}

void enumerate(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s) {
  std::vector<CK_OBJECT_HANDLE> all;
  check(bench::find(f, s, {}, all), "C_FindObjects(all)");
  std::size_t label_bytes = 0;
  for (const CK_OBJECT_HANDLE o : all) {
    std::vector<std::uint8_t> label;
    check(bench::get_bytes(f, s, o, CKA_LABEL, label), "C_GetAttributeValue(CKA_LABEL)");
    label_bytes += label.size();
  }
  std::printf("objects=%zu\nlabel_bytes=%zu\n", all.size(), label_bytes);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  CK_FUNCTION_LIST* f = bench::load_module(o.module);
  const auto start = std::chrono::steady_clock::now();
  const double start_cpu = cpu_ms();
  check(bench::initialize(f), "C_Initialize");
  const CK_SLOT_ID slot = pick_slot(f, o.token);
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  check(f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s),
        "C_OpenSession");
  if (!o.pin.empty()) {
    check(f->C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(o.pin.data()),
                     static_cast<CK_ULONG>(o.pin.size())),
          "C_Login");
  }
  if (o.mode == "populate") {
    populate(f, s, o);
  } else if (o.mode == "sign-one") {
    sign_one(f, s, o);
  } else if (o.mode == "read-values") {
    read_values(f, s);
  } else {
    enumerate(f, s);
  }
  check(f->C_CloseSession(s), "C_CloseSession");
  check(f->C_Finalize(nullptr), "C_Finalize");
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  if (o.mode == "sign-one") {
    std::printf("found_ms=%.1f\nfound_cpu_ms=%.1f\n",
                std::chrono::duration<double, std::milli>(g_found_at - start).count(),
                g_found_cpu - start_cpu);
  }
  std::printf("elapsed_ms=%.1f\ncpu_ms=%.1f\npeak_rss_kb=%ld\n", ms, cpu_ms() - start_cpu,
              ru.ru_maxrss);
  return 0;
}
