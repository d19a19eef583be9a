// SIGKILL loop: a child process loops through the module writing token objects (key-pair
// generation, label changes, pair and public-half destruction, certificate creation linked by
// CKA_ID); the parent kills it with SIGKILL 0..--max-delay-ms after its start, --kills times,
// on ONE store (the caller sets CNG_PKCS11_USER_DIR/CNG_PKCS11_MACHINE_DIR; bench/kill_loop.sh
// makes a fresh one). After every --check-every kills a fresh checker process loads the module
// and checks that every object loads, every private key signs (verified by OpenSSL against its
// public half), no pair is half destroyed unless the loop meant it (the "pubgone" label marker,
// written before the public half is destroyed), and no temporary or probe file is left in the
// store after the listing. Exit status 1 on any problem.
#include <openssl/x509.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kill_loop_check.h"
#include "p11_bench.h"

namespace {

using Bytes = std::vector<std::uint8_t>;
using bench::kPubGone;

struct Options {
  int kills = 300;
  int check_every = 1;
  int max_delay_ms = 50;
  bool no_intent = false;  // a control run: the checker must then report half-destroyed pairs
  std::string module;
};

// What the writers did before they were killed: counted in memory shared with the parent.
enum WriterOp {
  kGenerate,
  kRelabel,
  kDestroyPair,
  kDestroyPublic,
  kWriteCert,
  kDestroyCert,
  kWriterOps
};
constexpr const char* kWriterOpNames[kWriterOps] = {
    "key pairs generated",     "labels changed",       "pairs destroyed",
    "public halves destroyed", "certificates written", "certificates destroyed"};
struct WriterStats {
  std::atomic<std::uint64_t> ops[kWriterOps];
  std::atomic<std::uint64_t>& operator[](int i) { return ops[i]; }
};

struct Cert {
  Bytes der;
  Bytes subject;
};

// A self-signed P-256 certificate made with OpenSSL (the loop only stores it).
Cert make_cert(int n) {
  Cert out;
  bench::Pkey key{EVP_EC_gen("P-256")};
  bench::Owned<X509> x{X509_new()};
  bench::Owned<X509_NAME> name{X509_NAME_new()};
  const std::string cn = "kill-loop " + std::to_string(n);
  if (!key || !x || !name ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_version(x.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(x.get()), n + 1) != 1 ||
      X509_set_subject_name(x.get(), name.get()) != 1 ||
      X509_set_issuer_name(x.get(), name.get()) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(x.get()), 0) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(x.get()), 86400L * 365) == nullptr ||
      X509_set_pubkey(x.get(), key.get()) != 1 ||
      X509_sign(x.get(), key.get(), EVP_sha256()) <= 0) {
    std::fprintf(stderr, "kill_loop: OpenSSL could not make a certificate\n");
    std::exit(2);
  }
  unsigned char* der = nullptr;
  int len = i2d_X509(x.get(), &der);
  out.der.assign(der, der + len);
  OPENSSL_free(der);
  der = nullptr;
  len = i2d_X509_NAME(name.get(), &der);
  out.subject.assign(der, der + len);
  OPENSSL_free(der);
  return out;
}

CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, const void* value, std::size_t len) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), static_cast<CK_ULONG>(len)};
}

std::string as_string(const Bytes& b) { return std::string(b.begin(), b.end()); }

// ---- the child: writes token objects until it is killed ----

class Writer {
 public:
  Writer(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, const std::vector<Cert>& certs,
         WriterStats& stats, bool no_intent)
      : f_(f),
        s_(s),
        certs_(certs),
        stats_(stats),
        no_intent_(no_intent),
        rng_(std::random_device{}()) {}

  [[noreturn]] void run() {
    for (;;) {
      step();
    }
  }

 private:
  int pick(std::size_t n) { return static_cast<int>(rng_() % std::max<std::size_t>(n, 1)); }
  Bytes random_bytes(std::size_t n) {
    Bytes out(n);
    for (auto& b : out) {
      b = static_cast<std::uint8_t>(rng_());
    }
    return out;
  }
  void check(CK_RV rv, const char* what) {
    if (rv != CKR_OK) {
      std::fprintf(stderr, "kill_loop child: %s -> %s\n", what, bench::rv_name(rv).c_str());
      std::_Exit(3);
    }
  }
  std::vector<CK_OBJECT_HANDLE> of_class(CK_OBJECT_CLASS cls, const Bytes* id = nullptr) {
    std::vector<CK_ATTRIBUTE> tmpl = {attr(CKA_CLASS, &cls, sizeof cls)};
    if (id != nullptr) {
      tmpl.push_back(attr(CKA_ID, id->data(), id->size()));
    }
    std::vector<CK_OBJECT_HANDLE> found;
    check(bench::find(f_, s_, tmpl, found), "C_FindObjects");
    return found;
  }

  void step() {
    const auto privs = of_class(CKO_PRIVATE_KEY);
    const int r = pick(100);
    if (privs.size() < 4 || (r < 30 && privs.size() < 24)) {
      generate();
      return;
    }
    const CK_OBJECT_HANDLE priv = privs[static_cast<std::size_t>(pick(privs.size()))];
    Bytes id;
    Bytes label;
    check(bench::get_bytes(f_, s_, priv, CKA_ID, id), "C_GetAttributeValue(CKA_ID)");
    check(bench::get_bytes(f_, s_, priv, CKA_LABEL, label), "C_GetAttributeValue(CKA_LABEL)");
    if (r < 50) {
      relabel(priv, id, as_string(label));
    } else if (r < 65 || privs.size() >= 24) {
      destroy(priv, id, as_string(label), true);
    } else if (r < 75) {
      destroy(priv, id, as_string(label), false);
    } else {
      const auto certs = of_class(CKO_CERTIFICATE);
      if (r < 92 && certs.size() < 16) {
        write_cert(id);
      } else if (!certs.empty()) {
        check(f_->C_DestroyObject(s_, certs[static_cast<std::size_t>(pick(certs.size()))]),
              "C_DestroyObject(certificate)");
        ++stats_[kDestroyCert];
      }
    }
  }

  void generate() {
    char label[40];
    std::snprintf(label, sizeof label, "kl-%016llx", static_cast<unsigned long long>(rng_()));
    const auto kind = pick(100) < 2 ? bench::KeyKind::kRsa2048 : bench::KeyKind::kP256;
    bench::KeyPair pair;
    check(bench::generate_pair(f_, s_, kind, true, label, random_bytes(16), pair),
          "C_GenerateKeyPair");
    ++stats_[kGenerate];
  }

  // A new label on both halves; the pubgone marker stays where it is.
  void relabel(CK_OBJECT_HANDLE priv, const Bytes& id, const std::string& old) {
    std::string label = old.size() < 40 ? old + "r" : old.substr(0, 19);
    if (old.find(kPubGone) != std::string::npos && label.find(kPubGone) == std::string::npos) {
      label += kPubGone;
    }
    check(bench::set_label(f_, s_, priv, label), "C_SetAttributeValue(private CKA_LABEL)");
    for (CK_OBJECT_HANDLE pub : of_class(CKO_PUBLIC_KEY, &id)) {
      check(bench::set_label(f_, s_, pub, label), "C_SetAttributeValue(public CKA_LABEL)");
    }
    ++stats_[kRelabel];
  }

  // The intent is written first: a kill from here on may leave the private key alone.
  void destroy(CK_OBJECT_HANDLE priv, const Bytes& id, const std::string& label, bool both) {
    if (!no_intent_ && label.find(kPubGone) == std::string::npos) {
      check(bench::set_label(f_, s_, priv, label + "-" + kPubGone),
            "C_SetAttributeValue(pubgone CKA_LABEL)");
    }
    for (CK_OBJECT_HANDLE pub : of_class(CKO_PUBLIC_KEY, &id)) {
      check(f_->C_DestroyObject(s_, pub), "C_DestroyObject(public)");
    }
    if (both) {
      check(f_->C_DestroyObject(s_, priv), "C_DestroyObject(private)");
    }
    ++stats_[both ? kDestroyPair : kDestroyPublic];
  }

  void write_cert(const Bytes& id) {
    const Cert& cert = certs_[static_cast<std::size_t>(pick(certs_.size()))];
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE type = CKC_X_509;
    CK_BBOOL yes = CK_TRUE;
    const std::string label = "kl-cert";
    CK_ATTRIBUTE tmpl[] = {attr(CKA_CLASS, &cls, sizeof cls),
                           attr(CKA_CERTIFICATE_TYPE, &type, sizeof type),
                           attr(CKA_TOKEN, &yes, sizeof yes),
                           attr(CKA_LABEL, label.data(), label.size()),
                           attr(CKA_ID, id.data(), id.size()),
                           attr(CKA_SUBJECT, cert.subject.data(), cert.subject.size()),
                           attr(CKA_VALUE, cert.der.data(), cert.der.size())};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    check(f_->C_CreateObject(s_, tmpl, sizeof tmpl / sizeof tmpl[0], &h),
          "C_CreateObject(certificate)");
    ++stats_[kWriteCert];
  }

  CK_FUNCTION_LIST* f_;
  CK_SESSION_HANDLE s_;
  const std::vector<Cert>& certs_;
  WriterStats& stats_;
  bool no_intent_;
  std::mt19937_64 rng_;
};

[[noreturn]] void child_main(const Options& opt, const std::vector<Cert>& certs, WriterStats& stats,
                             int ready_fd) {
  CK_FUNCTION_LIST* f = bench::load_module(opt.module);
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  CK_RV rv = bench::initialize(f);
  if (rv == CKR_OK) {
    rv = f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s);
  }
  if (rv != CKR_OK) {
    std::fprintf(stderr, "kill_loop child: start -> %s\n", bench::rv_name(rv).c_str());
    std::_Exit(3);
  }
  const char ready = 'r';
  (void)!write(ready_fd, &ready, 1);
  close(ready_fd);
  Writer(f, s, certs, stats, opt.no_intent).run();
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--kills" && has_value) {
      o.kills = std::atoi(argv[++i]);
    } else if (arg == "--check-every" && has_value) {
      o.check_every = std::atoi(argv[++i]);
    } else if (arg == "--max-delay-ms" && has_value) {
      o.max_delay_ms = std::atoi(argv[++i]);
    } else if (arg == "--module" && has_value) {
      o.module = argv[++i];
    } else if (arg == "--no-intent") {
      o.no_intent = true;
    } else {
      return false;
    }
  }
  return o.kills >= 1 && o.check_every >= 1 && o.max_delay_ms >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse(argc, argv, opt)) {
    std::fprintf(stderr,
                 "usage: kill_loop [--kills N] [--check-every N] [--max-delay-ms N] "
                 "[--module PATH] [--no-intent]\n");
    return 2;
  }
  std::vector<std::string> dirs;
  for (const char* var : {"CNG_PKCS11_USER_DIR", "CNG_PKCS11_MACHINE_DIR"}) {
    const char* dir = std::getenv(var);
    if (dir == nullptr || *dir == '\0') {
      std::fprintf(stderr, "kill_loop: set %s to the store to torture (a fresh directory)\n", var);
      return 2;
    }
    dirs.emplace_back(dir);
  }
  std::vector<Cert> certs;
  for (int i = 0; i < 8; ++i) {
    certs.push_back(make_cert(i));
  }
  void* shared =
      mmap(nullptr, sizeof(WriterStats), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) {
    std::perror("kill_loop: mmap");
    return 2;
  }
  auto* stats = new (shared) WriterStats{};
  std::mt19937_64 rng(std::random_device{}());
  long killed = 0;
  long exited = 0;
  long killed_in_loop = 0;
  long checks = 0;
  bench::CheckResult total;
  for (int k = 1; k <= opt.kills; ++k) {
    int ready[2];
    if (pipe(ready) != 0) {
      std::perror("kill_loop: pipe");
      return 2;
    }
    const pid_t pid = fork();
    if (pid == 0) {
      close(ready[0]);
      child_main(opt, certs, *stats, ready[1]);
    }
    close(ready[1]);
    // Every other kill, on average, counts its delay from the writer's first write (after
    // C_Initialize), so that most kills land in store writes rather than in the start-up.
    char byte = 0;
    if (rng() % 2 == 0) {
      (void)!read(ready[0], &byte, 1);
    }
    const auto delay = std::chrono::microseconds(
        rng() % (static_cast<std::uint64_t>(opt.max_delay_ms) * 1000 + 1));
    std::this_thread::sleep_for(delay);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    const bool was_ready = byte != 0 || read(ready[0], &byte, 1) == 1;
    close(ready[0]);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      ++killed;
      killed_in_loop += was_ready ? 1 : 0;
    } else {
      ++exited;  // the writer stopped by itself: an operation failed (it said which)
      ++total.problems;
    }
    if (k % opt.check_every == 0 || k == opt.kills) {
      const bench::CheckResult r = bench::run_checker(opt.module, dirs);
      ++checks;
      total.objects += r.objects;
      total.problems += r.problems;
    }
  }
  std::printf(
      "kill_loop: kills %ld (writer failed on its own: %ld), checks %ld, objects checked "
      "%ld, problems %ld\n",
      killed, exited, checks, total.objects, total.problems);
  std::printf("kill_loop: %ld kills in the write loop, %ld during the start-up (C_Initialize)\n",
              killed_in_loop, killed - killed_in_loop);
  std::printf("kill_loop: the killed writers completed:");
  for (int i = 0; i < kWriterOps; ++i) {
    std::printf("%s %llu %s", i == 0 ? "" : ",",
                static_cast<unsigned long long>((*stats)[i].load()), kWriterOpNames[i]);
  }
  std::printf("\n");
  std::printf("kill_loop: %s\n", total.problems == 0 ? "PASS" : "FAIL");
  return total.problems == 0 ? 0 : 1;
}
