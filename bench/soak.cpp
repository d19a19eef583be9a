// Soak test: --procs processes x --threads threads for --seconds on ONE store (the caller sets
// CNG_PKCS11_USER_DIR/CNG_PKCS11_MACHINE_DIR; bench/soak.sh makes a fresh one). Every thread
// has its own session on slot 0 and loops a random mix of token/session P-256 (sometimes
// RSA-2048) key-pair generation, signing with its own keys (verified by OpenSSL against the
// public key read back from the module), finds by label of its own and the other processes'
// keys, label changes and destruction. Keys of another process may vanish at any moment: the
// handle errors that causes there are expected; every other CK_RV is "unexpected".
// Exit status 1 when any unexpected CK_RV, bad signature or wrong find count was seen.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "p11_bench.h"

namespace {

using bench::KeyKind;

enum Op {
  kGenToken,
  kGenSession,
  kGenRsa,
  kSign,
  kFindOwn,
  kFindOther,
  kListToken,
  kUseOther,
  kSetLabel,
  kDestroy,
  kOpCount
};
constexpr const char* kOpNames[kOpCount] = {
    "generate P-256 token", "generate P-256 session", "generate RSA-2048",
    "sign+verify own",      "find own label",         "find other's label",
    "list token keys",      "use other's key",        "set label",
    "destroy pair"};

constexpr int kMaxUnexpected = 64;
constexpr int kMaxProcs = 64;

// One process's figures, in memory shared with the parent (written once, at its end).
struct ProcReport {
  std::uint64_t ops[kOpCount];
  struct Unexpected {
    std::uint64_t op, rv, count;
  } unexpected[kMaxUnexpected];
  std::uint64_t unexpected_kinds;
  std::uint64_t bad_signatures;
  std::uint64_t wrong_find_counts;
  std::uint64_t vanished;  // expected handle errors: another process destroyed the key
  std::uint64_t finished;
};

struct Options {
  int procs = 2;
  int threads = 8;
  int seconds = 60;
  std::string module;
};

struct OwnKey {
  bench::KeyPair pair;
  bench::Pkey pub;
  std::string base;
  std::string label;
  int relabels = 0;
};

// What every thread of a process adds to at its end.
struct ProcTotals {
  std::mutex mutex;
  std::uint64_t ops[kOpCount] = {};
  std::map<std::pair<int, CK_RV>, std::uint64_t> unexpected;
  std::uint64_t bad_signatures = 0;
  std::uint64_t wrong_find_counts = 0;
  std::uint64_t vanished = 0;
};

class Worker {
 public:
  Worker(CK_FUNCTION_LIST* f, const Options& o, int proc, int thread)
      : f_(f),
        opt_(o),
        proc_(proc),
        thread_(thread),
        rng_(std::random_device{}() ^ (static_cast<std::uint64_t>(proc) << 40) ^
             static_cast<std::uint64_t>(thread)) {}

  void run(std::chrono::steady_clock::time_point deadline, ProcTotals& totals) {
    CK_RV rv = f_->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s_);
    if (rv != CKR_OK) {
      unexpected(kGenToken, rv);
    } else {
      while (std::chrono::steady_clock::now() < deadline) {
        step();
      }
      f_->C_CloseSession(s_);
    }
    std::lock_guard lock(totals.mutex);
    for (int i = 0; i < kOpCount; ++i) {
      totals.ops[i] += ops_[i];
    }
    for (const auto& [key, count] : unexpected_) {
      totals.unexpected[key] += count;
    }
    totals.bad_signatures += bad_signatures_;
    totals.wrong_find_counts += wrong_find_counts_;
    totals.vanished += vanished_;
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }

  void unexpected(int op, CK_RV rv) {
    if (unexpected_[{op, rv}]++ < 3) {
      std::fprintf(stderr, "soak p%d t%d: %s -> %s\n", proc_, thread_, kOpNames[op],
                   bench::rv_name(rv).c_str());
    }
  }
  std::vector<std::uint8_t> random_bytes(std::size_t n) {
    std::vector<std::uint8_t> out(n);
    for (auto& b : out) {
      b = static_cast<std::uint8_t>(rng_());
    }
    return out;
  }

  void step() {
    const int r = pick(100);
    if (keys_.empty() || (r < 15 && keys_.size() < 6)) {
      generate();
    } else if (r < 15 || r >= 88) {
      destroy();
    } else if (r < 45) {
      sign_own();
    } else if (r < 58) {
      find_own();
    } else if (r < 75) {
      find_other();
    } else {
      relabel();
    }
  }

  void generate() {
    const bool rsa = pick(100) < 3;
    const bool token = rsa ? pick(2) == 0 : pick(100) < 60;
    const Op op = rsa ? kGenRsa : (token ? kGenToken : kGenSession);
    OwnKey key;
    key.base = "soak-p" + std::to_string(proc_) + "-t" + std::to_string(thread_) + "-" +
               std::to_string(serial_++);
    key.label = key.base;
    CK_RV rv = bench::generate_pair(f_, s_, rsa ? KeyKind::kRsa2048 : KeyKind::kP256, token,
                                    key.label, random_bytes(16), key.pair);
    ++ops_[op];
    if (rv != CKR_OK) {
      return unexpected(op, rv);
    }
    key.pub = bench::read_public(f_, s_, key.pair.pub, key.pair.kind, rv);
    if (rv != CKR_OK) {
      return unexpected(op, rv);
    }
    if (!key.pub) {
      ++bad_signatures_;  // an unreadable public key fails every verification
      std::fprintf(stderr, "soak p%d t%d: public key of %s does not parse\n", proc_, thread_,
                   key.label.c_str());
    }
    keys_.push_back(std::move(key));
  }

  void sign_own() {
    OwnKey& key = keys_[static_cast<std::size_t>(pick(static_cast<int>(keys_.size())))];
    const auto data = random_bytes(48);
    std::vector<std::uint8_t> sig;
    ++ops_[kSign];
    const CK_RV rv = bench::sign(f_, s_, key.pair.priv, key.pair.kind, data, sig);
    if (rv != CKR_OK) {
      return unexpected(kSign, rv);
    }
    if (!bench::verify(key.pub.get(), data, sig)) {
      ++bad_signatures_;
      std::fprintf(stderr, "soak p%d t%d: signature by %s does not verify\n", proc_, thread_,
                   key.label.c_str());
    }
  }

  static std::vector<CK_ATTRIBUTE> label_template(const std::string& label) {
    return {CK_ATTRIBUTE{CKA_LABEL, const_cast<char*>(label.data()),
                         static_cast<CK_ULONG>(label.size())}};
  }

  // Both halves of an own key carry its current label, nothing else does.
  void find_own() {
    const OwnKey& key = keys_[static_cast<std::size_t>(pick(static_cast<int>(keys_.size())))];
    std::vector<CK_OBJECT_HANDLE> found;
    ++ops_[kFindOwn];
    const CK_RV rv = bench::find(f_, s_, label_template(key.label), found);
    if (rv != CKR_OK) {
      return unexpected(kFindOwn, rv);
    }
    if (found.size() != 2) {
      ++wrong_find_counts_;
      std::fprintf(stderr, "soak p%d t%d: label %s found %zu objects, not 2\n", proc_, thread_,
                   key.label.c_str(), found.size());
    }
  }

  // A label another process has probably used; what it finds may be destroyed at any time.
  void find_other() {
    int other = pick(opt_.procs);
    if (opt_.procs > 1 && other == proc_) {
      other = (other + 1) % opt_.procs;
    }
    const std::string prefix = "soak-p" + std::to_string(other) + "-";
    std::string label;
    if (pick(2) == 0) {
      // The other threads run at about this thread's pace: their recent serials, likely alive.
      const std::uint64_t back = static_cast<std::uint64_t>(pick(8));
      label = prefix + "t" + std::to_string(pick(opt_.threads)) + "-" +
              std::to_string(serial_ > back ? serial_ - back : 0);
    } else if (!listed_label(prefix, label)) {
      return;
    }
    std::vector<CK_OBJECT_HANDLE> found;
    ++ops_[kFindOther];
    const CK_RV rv = bench::find(f_, s_, label_template(label), found);
    if (rv != CKR_OK) {
      return unexpected(kFindOther, rv);
    }
    use_other(found);
  }

  // A label of one of the other process's token keys, from a listing of the token's private
  // keys (whose labels are read while the other process may destroy them).
  bool listed_label(const std::string& prefix, std::string& label) {
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_BBOOL yes = CK_TRUE;
    std::vector<CK_OBJECT_HANDLE> keys;
    ++ops_[kListToken];
    CK_RV rv = bench::find(
        f_, s_,
        {CK_ATTRIBUTE{CKA_CLASS, &cls, sizeof cls}, CK_ATTRIBUTE{CKA_TOKEN, &yes, sizeof yes}},
        keys);
    if (rv != CKR_OK) {
      unexpected(kListToken, rv);
      return false;
    }
    for (int tries = 0; tries < 8 && !keys.empty(); ++tries) {
      std::vector<std::uint8_t> value;
      rv = bench::get_bytes(f_, s_,
                            keys[static_cast<std::size_t>(pick(static_cast<int>(keys.size())))],
                            CKA_LABEL, value);
      if (rv == CKR_OBJECT_HANDLE_INVALID) {
        ++vanished_;
        continue;
      }
      if (rv != CKR_OK) {
        unexpected(kListToken, rv);
        return false;
      }
      label.assign(value.begin(), value.end());
      if (label.starts_with(prefix)) {
        return true;
      }
    }
    return false;
  }

  // Reads the found objects and signs with a found private key (verified when its public half
  // was found and still readable). Expected besides CKR_OK: the handle errors of a key the
  // other process destroyed meanwhile.
  void use_other(const std::vector<CK_OBJECT_HANDLE>& found) {
    CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
    bench::Pkey pub;
    KeyKind kind = KeyKind::kP256;
    for (CK_OBJECT_HANDLE h : found) {
      CK_ULONG cls = 0;
      CK_ULONG type = 0;
      ++ops_[kUseOther];
      CK_RV rv = bench::get_ulong(f_, s_, h, CKA_CLASS, cls);
      if (rv == CKR_OK) {
        rv = bench::get_ulong(f_, s_, h, CKA_KEY_TYPE, type);
      }
      if (rv == CKR_OBJECT_HANDLE_INVALID) {
        ++vanished_;
        continue;
      }
      if (rv != CKR_OK) {
        return unexpected(kUseOther, rv);
      }
      kind = type == CKK_RSA ? KeyKind::kRsa2048 : KeyKind::kP256;
      if (cls == CKO_PRIVATE_KEY) {
        priv = h;
      } else if (cls == CKO_PUBLIC_KEY) {
        pub = bench::read_public(f_, s_, h, kind, rv);
        if (rv == CKR_OBJECT_HANDLE_INVALID) {
          ++vanished_;
        } else if (rv != CKR_OK) {
          return unexpected(kUseOther, rv);
        }
      }
    }
    if (priv == CK_INVALID_HANDLE) {
      return;
    }
    const auto data = random_bytes(32);
    std::vector<std::uint8_t> sig;
    const CK_RV rv = bench::sign(f_, s_, priv, kind, data, sig);
    if (rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID) {
      ++vanished_;
      return;
    }
    if (rv != CKR_OK) {
      return unexpected(kUseOther, rv);
    }
    if (pub && !bench::verify(pub.get(), data, sig)) {
      ++bad_signatures_;
      std::fprintf(stderr, "soak p%d t%d: another process's key signed wrongly\n", proc_, thread_);
    }
  }

  void relabel() {
    OwnKey& key = keys_[static_cast<std::size_t>(pick(static_cast<int>(keys_.size())))];
    const std::string label = key.base + "-r" + std::to_string(++key.relabels);
    ++ops_[kSetLabel];
    for (CK_OBJECT_HANDLE h : {key.pair.priv, key.pair.pub}) {
      const CK_RV rv = bench::set_label(f_, s_, h, label);
      if (rv != CKR_OK) {
        return unexpected(kSetLabel, rv);
      }
    }
    key.label = label;
  }

  void destroy() {
    const auto at = keys_.begin() + pick(static_cast<int>(keys_.size()));
    ++ops_[kDestroy];
    for (CK_OBJECT_HANDLE h : {at->pair.pub, at->pair.priv}) {
      const CK_RV rv = f_->C_DestroyObject(s_, h);
      if (rv != CKR_OK) {
        unexpected(kDestroy, rv);
      }
    }
    keys_.erase(at);
  }

  CK_FUNCTION_LIST* f_;
  const Options& opt_;
  int proc_;
  int thread_;
  std::mt19937_64 rng_;
  CK_SESSION_HANDLE s_ = CK_INVALID_HANDLE;
  std::vector<OwnKey> keys_;
  std::uint64_t serial_ = 0;
  std::uint64_t ops_[kOpCount] = {};
  std::map<std::pair<int, CK_RV>, std::uint64_t> unexpected_;
  std::uint64_t bad_signatures_ = 0;
  std::uint64_t wrong_find_counts_ = 0;
  std::uint64_t vanished_ = 0;
};

void run_process(const Options& opt, int proc, ProcReport& report) {
  CK_FUNCTION_LIST* f = bench::load_module(opt.module);
  ProcTotals totals;
  const CK_RV rv = bench::initialize(f);
  if (rv != CKR_OK) {
    totals.unexpected[{kGenToken, rv}] = 1;
    std::fprintf(stderr, "soak p%d: C_Initialize -> %s\n", proc, bench::rv_name(rv).c_str());
  } else {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(opt.seconds);
    std::vector<std::thread> threads;
    for (int t = 0; t < opt.threads; ++t) {
      threads.emplace_back([&, t] { Worker(f, opt, proc, t).run(deadline, totals); });
    }
    for (auto& t : threads) {
      t.join();
    }
    f->C_Finalize(nullptr);
  }
  std::copy(std::begin(totals.ops), std::end(totals.ops), report.ops);
  for (const auto& [key, count] : totals.unexpected) {
    if (report.unexpected_kinds < kMaxUnexpected) {
      report.unexpected[report.unexpected_kinds++] = {static_cast<std::uint64_t>(key.first),
                                                      key.second, count};
    }
  }
  report.bad_signatures = totals.bad_signatures;
  report.wrong_find_counts = totals.wrong_find_counts;
  report.vanished = totals.vanished;
  report.finished = 1;
}

std::uint64_t print_report(const char* who, const ProcReport& r) {
  std::uint64_t all = 0;
  std::uint64_t unexpected = 0;
  std::printf("%s:\n", who);
  for (int i = 0; i < kOpCount; ++i) {
    std::printf("  %-24s %10llu\n", kOpNames[i], static_cast<unsigned long long>(r.ops[i]));
    all += r.ops[i];
  }
  std::printf("  %-24s %10llu\n", "operations", static_cast<unsigned long long>(all));
  std::printf("  other's key gone (expected handle errors) %llu\n",
              static_cast<unsigned long long>(r.vanished));
  for (std::uint64_t i = 0; i < r.unexpected_kinds; ++i) {
    const auto& u = r.unexpected[i];
    std::printf("  unexpected: %s -> %s x%llu\n", kOpNames[u.op],
                bench::rv_name(static_cast<CK_RV>(u.rv)).c_str(),
                static_cast<unsigned long long>(u.count));
    unexpected += u.count;
  }
  std::printf("  unexpected CK_RVs %llu, bad signatures %llu, wrong find counts %llu%s\n",
              static_cast<unsigned long long>(unexpected),
              static_cast<unsigned long long>(r.bad_signatures),
              static_cast<unsigned long long>(r.wrong_find_counts),
              r.finished != 0 ? "" : " (process did not finish)");
  return unexpected + r.bad_signatures + r.wrong_find_counts + (r.finished != 0 ? 0 : 1);
}

void add_into(ProcReport& total, const ProcReport& r) {
  for (int i = 0; i < kOpCount; ++i) {
    total.ops[i] += r.ops[i];
  }
  for (std::uint64_t i = 0; i < r.unexpected_kinds; ++i) {
    const auto& u = r.unexpected[i];
    std::uint64_t j = 0;
    while (j < total.unexpected_kinds &&
           (total.unexpected[j].op != u.op || total.unexpected[j].rv != u.rv)) {
      ++j;
    }
    if (j == total.unexpected_kinds && j < kMaxUnexpected) {
      total.unexpected[total.unexpected_kinds++] = {u.op, u.rv, 0};
    }
    if (j < kMaxUnexpected) {
      total.unexpected[j].count += u.count;
    }
  }
  total.bad_signatures += r.bad_signatures;
  total.wrong_find_counts += r.wrong_find_counts;
  total.vanished += r.vanished;
  total.finished = total.finished != 0 && r.finished != 0 ? 1 : 0;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--procs" && has_value) {
      o.procs = std::atoi(argv[++i]);
    } else if (arg == "--threads" && has_value) {
      o.threads = std::atoi(argv[++i]);
    } else if (arg == "--seconds" && has_value) {
      o.seconds = std::atoi(argv[++i]);
    } else if (arg == "--module" && has_value) {
      o.module = argv[++i];
    } else {
      return false;
    }
  }
  return o.procs >= 1 && o.procs <= kMaxProcs && o.threads >= 1 && o.seconds >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse(argc, argv, opt)) {
    std::fprintf(stderr, "usage: soak [--procs N] [--threads N] [--seconds N] [--module PATH]\n");
    return 2;
  }
  const std::size_t bytes = sizeof(ProcReport) * static_cast<std::size_t>(opt.procs);
  void* shared = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) {
    std::perror("soak: mmap");
    return 2;
  }
  std::memset(shared, 0, bytes);
  auto* reports = static_cast<ProcReport*>(shared);
  std::printf("soak: %d processes x %d threads x %d s on one store\n", opt.procs, opt.threads,
              opt.seconds);
  std::fflush(stdout);
  std::vector<pid_t> children;
  for (int p = 0; p < opt.procs; ++p) {
    const pid_t pid = fork();
    if (pid == 0) {  // the module is loaded only in the children
      run_process(opt, p, reports[p]);
      std::fflush(stderr);
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
  }
  ProcReport total{};
  total.finished = 1;
  std::uint64_t problems = 0;
  for (int p = 0; p < opt.procs; ++p) {
    problems += print_report(("process " + std::to_string(p)).c_str(), reports[p]);
    add_into(total, reports[p]);
  }
  print_report("total", total);
  std::printf("soak: %s\n", problems == 0 ? "PASS" : "FAIL");
  return problems == 0 ? 0 : 1;
}
