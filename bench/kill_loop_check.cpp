#include "kill_loop_check.h"

#include <openssl/x509.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "p11_bench.h"

namespace bench {

namespace {

using Bytes = std::vector<std::uint8_t>;

std::string as_string(const Bytes& b) { return std::string(b.begin(), b.end()); }

class Checker {
 public:
  Checker(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s) : f_(f), s_(s) {}

  CheckResult run() {
    std::vector<CK_OBJECT_HANDLE> all;
    CK_RV rv = find(f_, s_, {}, all);
    if (rv != CKR_OK) {
      problem("listing the token", rv);
    }
    for (CK_OBJECT_HANDLE h : all) {
      load(h);
    }
    for (const auto& [id, key] : privates_) {
      check_private(id, key);
    }
    for (const auto& [id, pub] : publics_) {
      if (privates_.find(id) == privates_.end()) {
        problem("a public key without its private key (never destroyed that way): " + pub.label);
      }
    }
    return result_;
  }

 private:
  struct Key {
    CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
    KeyKind kind = KeyKind::kP256;
    std::string label;
    Pkey pub;
  };

  void problem(const std::string& what, CK_RV rv = CKR_OK) {
    ++result_.problems;
    std::fprintf(stderr, "kill_loop check: %s%s%s\n", what.c_str(), rv == CKR_OK ? "" : " -> ",
                 rv == CKR_OK ? "" : rv_name(rv).c_str());
  }

  // Every object: its class, CKA_LABEL and CKA_ID, and its value (public key, certificate).
  void load(CK_OBJECT_HANDLE h) {
    ++result_.objects;
    CK_ULONG cls = 0;
    Bytes label;
    Bytes id;
    CK_RV rv = get_ulong(f_, s_, h, CKA_CLASS, cls);
    if (rv == CKR_OK) {
      rv = get_bytes(f_, s_, h, CKA_LABEL, label);
    }
    if (rv == CKR_OK) {
      rv = get_bytes(f_, s_, h, CKA_ID, id);
    }
    if (rv != CKR_OK) {
      return problem("object " + std::to_string(h) + " does not load", rv);
    }
    Key key{h, KeyKind::kP256, as_string(label), nullptr};
    if (cls == CKO_CERTIFICATE) {
      Bytes der;
      rv = get_bytes(f_, s_, h, CKA_VALUE, der);
      const unsigned char* p = der.data();
      const Owned<X509> x{rv == CKR_OK ? d2i_X509(nullptr, &p, static_cast<long>(der.size()))
                                       : nullptr};
      if (!x) {
        problem("certificate " + key.label + " does not load or parse", rv);
      }
      return;
    }
    if (cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY) {
      return problem("unexpected object class " + std::to_string(cls));
    }
    CK_ULONG type = 0;
    rv = get_ulong(f_, s_, h, CKA_KEY_TYPE, type);
    if (rv != CKR_OK) {
      return problem("key " + key.label + ": CKA_KEY_TYPE", rv);
    }
    key.kind = type == CKK_RSA ? KeyKind::kRsa2048 : KeyKind::kP256;
    auto& by_id = cls == CKO_PRIVATE_KEY ? privates_ : publics_;
    if (by_id.count(id) != 0) {
      return problem("two keys of one class share the CKA_ID of " + key.label);
    }
    if (cls == CKO_PUBLIC_KEY) {
      key.pub = read_public(f_, s_, h, key.kind, rv);
      if (!key.pub) {
        return problem("public key " + key.label + " has no readable value", rv);
      }
    }
    by_id.emplace(id, std::move(key));
  }

  // Signs; verified against the public half, which may be missing only on purpose.
  void check_private(const Bytes& id, const Key& key) {
    const Bytes data = {'k', 'i', 'l', 'l', '-', 'l', 'o', 'o', 'p'};
    Bytes sig;
    const CK_RV rv = sign(f_, s_, key.handle, key.kind, data, sig);
    if (rv != CKR_OK) {
      return problem("private key " + key.label + " does not sign", rv);
    }
    const auto pub = publics_.find(id);
    if (pub == publics_.end()) {
      if (key.label.find(kPubGone) == std::string::npos) {
        problem("pair half destroyed: private key " + key.label + " lost its public key");
      }
    } else if (!verify(pub->second.pub.get(), data, sig)) {
      problem("signature by " + key.label + " does not verify with its public key");
    }
  }

  CK_FUNCTION_LIST* f_;
  CK_SESSION_HANDLE s_;
  std::map<Bytes, Key> privates_;
  std::map<Bytes, Key> publics_;
  CheckResult result_;
};

// Temporary files and store probes left in the store directories.
long leftovers(const std::vector<std::string>& dirs) {
  long found = 0;
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.starts_with(".tmp-") || name.starts_with(".cng-pkcs11-probe-")) {
        std::fprintf(stderr, "kill_loop check: left over: %s\n", it->path().c_str());
        ++found;
      }
    }
  }
  return found;
}

CheckResult check_main(const std::string& module, const std::vector<std::string>& dirs) {
  CK_FUNCTION_LIST* f = load_module(module);
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  CK_RV rv = initialize(f);
  if (rv == CKR_OK) {
    rv = f->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &s);
  }
  if (rv != CKR_OK) {
    std::fprintf(stderr, "kill_loop check: start -> %s\n", rv_name(rv).c_str());
    return {0, 1};
  }
  CheckResult result = Checker(f, s).run();
  result.problems += leftovers(dirs);  // after the listing, which sweeps what dead writers left
  f->C_Finalize(nullptr);
  return result;
}

// Runs the checker in a fresh process; its figures come back through a pipe.
}  // namespace

CheckResult run_checker(const std::string& module, const std::vector<std::string>& dirs) {
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("kill_loop: pipe");
    std::exit(2);
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const CheckResult r = check_main(module, dirs);
    std::fflush(stderr);
    const bool sent = write(fds[1], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
    std::_Exit(sent ? 0 : 4);
  }
  close(fds[1]);
  CheckResult r{0, 1};
  const bool got = read(fds[0], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "kill_loop: the checker process failed (status %d)\n", status);
    return {r.objects, r.problems + 1};
  }
  return r;
}

}  // namespace bench
