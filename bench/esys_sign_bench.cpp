// The physical limit for TPM signing: raw ESAPI Esys_Sign with a key loaded once, for
// bench/tpm_compare.sh. It creates an ECC P-256 storage primary (the template our platform
// provider uses), creates and loads an RSA-2048 and a P-256 signing key under it once, then times
// Esys_Sign loops the way p11bench times sign ops/s: per round one untimed warm-up call, then
// calls back to back until --duration has passed; the figure is the median of --rounds rounds.
// The figures carry p11bench's names so that p11bench's compare.sh puts them beside its own:
//
//   rsa2048_sha256_pkcs_sign_ops_per_s  SHA-256 of a 32-byte message (OpenSSL), TPM2_Sign RSASSA
//   rsa2048_pss_sha256_sign_ops_per_s   TPM2_Sign RSAPSS over a 32-byte digest
//   p256_ecdsa_sign_ops_per_s           TPM2_Sign ECDSA over a 32-byte digest
//   p256_ecdsa_sha256_sign_ops_per_s    SHA-256 of a 32-byte message, TPM2_Sign ECDSA
//
//   esys_sign_bench [--tcti CONF] [--duration S] [--rounds R] [--only LIST] [--quiet|--verbose]
//
// --tcti defaults to $CNG_PKCS11_TCTI. --only is p11bench's phase list: nothing runs unless it
// names "sign" (or is absent). Measurement only: never run by the test suite. Exit status 0 when
// it ran, 1 on a TPM error, 2 on a usage error. Every TPM object it made is flushed at exit.
#include <openssl/evp.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct TctiDeleter {
  void operator()(TSS2_TCTI_CONTEXT* tcti) const noexcept { Tss2_TctiLdr_Finalize(&tcti); }
};
struct EsysDeleter {
  void operator()(ESYS_CONTEXT* esys) const noexcept { Esys_Finalize(&esys); }
};
struct EsysFreeDeleter {
  void operator()(void* p) const noexcept { Esys_Free(p); }
};
using TctiPtr = std::unique_ptr<TSS2_TCTI_CONTEXT, TctiDeleter>;
using EsysPtr = std::unique_ptr<ESYS_CONTEXT, EsysDeleter>;
template <class T>
using EsysOut = std::unique_ptr<T, EsysFreeDeleter>;

void check(TSS2_RC rc, const char* what) {
  if (rc != TSS2_RC_SUCCESS) {
    throw std::runtime_error(std::string(what) + ": " + Tss2_RC_Decode(rc));
  }
}

// A transient TPM object: flushed from the TPM when the owner goes.
class TpmObject {
 public:
  TpmObject(ESYS_CONTEXT* esys, ESYS_TR handle) noexcept : esys_(esys), handle_(handle) {}
  TpmObject(const TpmObject&) = delete;
  TpmObject& operator=(const TpmObject&) = delete;
  ~TpmObject() {
    if (handle_ != ESYS_TR_NONE) {
      Esys_FlushContext(esys_, handle_);
    }
  }
  [[nodiscard]] ESYS_TR get() const noexcept { return handle_; }

 private:
  ESYS_CONTEXT* esys_;
  ESYS_TR handle_;
};

constexpr TPMA_OBJECT kAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                    TPMA_OBJECT_NODA;

// The public area every template shares: SHA-256 names and kAttributes plus `extra`.
TPM2B_PUBLIC object_template(TPMI_ALG_PUBLIC type, TPMA_OBJECT extra) {
  TPM2B_PUBLIC t{};
  t.publicArea.type = type;
  t.publicArea.nameAlg = TPM2_ALG_SHA256;
  t.publicArea.objectAttributes = kAttributes | extra;
  return t;
}

TPM2B_PUBLIC ecc_template(TPMA_OBJECT extra) {
  TPM2B_PUBLIC t = object_template(TPM2_ALG_ECC, extra);
  TPMS_ECC_PARMS& ecc = t.publicArea.parameters.eccDetail;
  ecc.symmetric.algorithm = TPM2_ALG_NULL;
  ecc.scheme.scheme = TPM2_ALG_NULL;
  ecc.curveID = TPM2_ECC_NIST_P256;
  ecc.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

TPM2B_PUBLIC srk_template() {
  TPM2B_PUBLIC t = ecc_template(TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT);
  TPMT_SYM_DEF_OBJECT& sym = t.publicArea.parameters.eccDetail.symmetric;
  sym.algorithm = TPM2_ALG_AES;
  sym.keyBits.aes = 128;
  sym.mode.aes = TPM2_ALG_CFB;
  return t;
}

TPM2B_PUBLIC rsa_template() {
  TPM2B_PUBLIC t = object_template(TPM2_ALG_RSA, TPMA_OBJECT_SIGN_ENCRYPT);
  TPMS_RSA_PARMS& rsa = t.publicArea.parameters.rsaDetail;
  rsa.symmetric.algorithm = TPM2_ALG_NULL;
  rsa.scheme.scheme = TPM2_ALG_NULL;
  rsa.keyBits = 2048;
  rsa.exponent = 0;
  return t;
}

std::unique_ptr<TpmObject> create_primary(ESYS_CONTEXT* esys) {
  const TPM2B_SENSITIVE_CREATE sensitive{};
  const TPM2B_PUBLIC templ = srk_template();
  const TPM2B_DATA outside{};
  const TPML_PCR_SELECTION pcrs{};
  ESYS_TR handle = ESYS_TR_NONE;
  check(Esys_CreatePrimary(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                           &sensitive, &templ, &outside, &pcrs, &handle, nullptr, nullptr, nullptr,
                           nullptr),
        "TPM2_CreatePrimary");
  return std::make_unique<TpmObject>(esys, handle);
}

// TPM2_Create + TPM2_Load, once.
std::unique_ptr<TpmObject> create_loaded(ESYS_CONTEXT* esys, ESYS_TR parent,
                                         const TPM2B_PUBLIC& templ) {
  const TPM2B_SENSITIVE_CREATE sensitive{};
  const TPM2B_DATA outside{};
  const TPML_PCR_SELECTION pcrs{};
  EsysOut<TPM2B_PRIVATE> priv;
  EsysOut<TPM2B_PUBLIC> pub;
  TPM2B_PRIVATE* raw_priv = nullptr;
  TPM2B_PUBLIC* raw_pub = nullptr;
  const TSS2_RC rc =
      Esys_Create(esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &templ,
                  &outside, &pcrs, &raw_priv, &raw_pub, nullptr, nullptr, nullptr);
  priv.reset(raw_priv);
  pub.reset(raw_pub);
  check(rc, "TPM2_Create");
  ESYS_TR handle = ESYS_TR_NONE;
  check(Esys_Load(esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, priv.get(), pub.get(),
                  &handle),
        "TPM2_Load");
  return std::make_unique<TpmObject>(esys, handle);
}

struct Options {
  std::string tcti;
  double duration_s = 1;
  int rounds = 3;
  bool run_sign = true;
  bool quiet = false;
  bool verbose = false;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 != 0 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// p11bench's single-thread method: warm-up call, back-to-back calls until the deadline, rate =
// calls / time until the last call ended; median of the rounds.
double measure(const Options& o, const std::function<void()>& op) {
  std::vector<double> rates;
  const auto duration =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  for (int round = 0; round < o.rounds; ++round) {
    op();
    const auto start = Clock::now();
    const auto deadline = start + duration;
    std::uint64_t done = 0;
    auto end = start;
    do {
      op();
      ++done;
      end = Clock::now();
    } while (end < deadline);
    rates.push_back(static_cast<double>(done) / std::chrono::duration<double>(end - start).count());
    if (o.verbose) {
      std::fprintf(stderr, "[esys_sign_bench]   round %d: %.1f ops/s\n", round + 1, rates.back());
    }
  }
  return median(rates);
}

std::array<std::uint8_t, 32> sha256(const std::array<std::uint8_t, 32>& message) {
  std::array<std::uint8_t, 32> digest{};
  unsigned len = 0;
  if (EVP_Digest(message.data(), message.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  return digest;
}

void sign(ESYS_CONTEXT* esys, ESYS_TR key, TPM2_ALG_ID scheme_alg,
          const std::array<std::uint8_t, 32>& digest) {
  TPM2B_DIGEST in{};
  in.size = static_cast<UINT16>(digest.size());
  std::copy(digest.begin(), digest.end(), in.buffer);
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = scheme_alg;
  scheme.details.any.hashAlg = TPM2_ALG_SHA256;
  TPMT_TK_HASHCHECK ticket{};
  ticket.tag = TPM2_ST_HASHCHECK;
  ticket.hierarchy = TPM2_RH_NULL;
  TPMT_SIGNATURE* raw = nullptr;
  const TSS2_RC rc = Esys_Sign(esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &in,
                               &scheme, &ticket, &raw);
  const EsysOut<TPMT_SIGNATURE> signature(raw);
  check(rc, "TPM2_Sign");
}

void emit(const char* name, double value) {
  std::printf("%s=%.1f\n", name, value);
  std::fflush(stdout);
}

void run(const Options& o) {
  TSS2_TCTI_CONTEXT* raw_tcti = nullptr;
  check(Tss2_TctiLdr_Initialize(o.tcti.c_str(), &raw_tcti), "TCTI");
  const TctiPtr tcti(raw_tcti);
  ESYS_CONTEXT* raw_esys = nullptr;
  check(Esys_Initialize(&raw_esys, tcti.get(), nullptr), "Esys_Initialize");
  const EsysPtr esys(raw_esys);  // destroyed after the objects below (declared later)
  const auto primary = create_primary(esys.get());
  const auto rsa = create_loaded(esys.get(), primary->get(), rsa_template());
  const auto ecc =
      create_loaded(esys.get(), primary->get(), ecc_template(TPMA_OBJECT_SIGN_ENCRYPT));
  std::array<std::uint8_t, 32> message{};
  message.fill(0x5a);
  if (!o.quiet) {
    std::fputs("[esys_sign_bench] signing\n", stderr);
  }
  emit("rsa2048_sha256_pkcs_sign_ops_per_s",
       measure(o, [&] { sign(esys.get(), rsa->get(), TPM2_ALG_RSASSA, sha256(message)); }));
  emit("rsa2048_pss_sha256_sign_ops_per_s",
       measure(o, [&] { sign(esys.get(), rsa->get(), TPM2_ALG_RSAPSS, message); }));
  emit("p256_ecdsa_sign_ops_per_s",
       measure(o, [&] { sign(esys.get(), ecc->get(), TPM2_ALG_ECDSA, message); }));
  emit("p256_ecdsa_sha256_sign_ops_per_s",
       measure(o, [&] { sign(esys.get(), ecc->get(), TPM2_ALG_ECDSA, sha256(message)); }));
}

bool parse(int argc, char** argv, Options& o) {
  if (const char* env = std::getenv("CNG_PKCS11_TCTI")) {
    o.tcti = env;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quiet") {
      o.quiet = true;
      continue;
    }
    if (arg == "--verbose") {
      o.verbose = true;
      continue;
    }
    if (i + 1 >= argc) {
      return false;
    }
    const std::string value = argv[++i];
    char* end = nullptr;
    if (arg == "--tcti") {
      o.tcti = value;
    } else if (arg == "--duration") {
      o.duration_s = std::strtod(value.c_str(), &end);
      if (*end != '\0' || !(o.duration_s > 0)) {
        return false;
      }
    } else if (arg == "--rounds") {
      o.rounds = static_cast<int>(std::strtol(value.c_str(), &end, 10));
      if (*end != '\0' || o.rounds < 1) {
        return false;
      }
    } else if (arg == "--only") {
      o.run_sign = ("," + value + ",").find(",sign,") != std::string::npos;
    } else {
      return false;
    }
  }
  return !o.tcti.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fputs(
        "usage: esys_sign_bench [--tcti CONF (default $CNG_PKCS11_TCTI)] [--duration S] "
        "[--rounds R] [--only LIST] [--quiet|--verbose]\n",
        stderr);
    return 2;
  }
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::printf("meta.date=%s\nmeta.mode=esys\nmeta.library=tss2-esys Esys_Sign, TCTI %s\n", date,
              o.tcti.c_str());
  if (!o.run_sign) {
    return 0;
  }
  try {
    run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esys_sign_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
