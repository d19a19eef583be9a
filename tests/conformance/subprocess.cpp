#include "subprocess.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <sstream>

namespace conf {
namespace {

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  return out;
}

void WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0 && errno != EINTR) {
      return;
    }
    if (n > 0) {
      off += static_cast<size_t>(n);
    }
  }
}

ChildOutcome Wait(pid_t pid, int read_fd) {
  ChildOutcome out;
  out.output = ReadAll(read_fd);
  close(read_fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    out.exited = true;
    out.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    out.signal = WTERMSIG(status);
  }
  return out;
}

}  // namespace

std::string ChildOutcome::Describe() const {
  std::ostringstream os;
  if (exited) {
    os << "exit code " << exit_code;
  } else {
    os << "killed by signal " << signal;
  }
  os << "; output: " << output;
  return os.str();
}

ChildOutcome RunForked(const std::function<std::string()>& body) {
  int fds[2];
  if (pipe(fds) != 0) {
    return {};
  }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string msg;
    try {
      msg = body();
    } catch (...) {
      msg = "exception in child";
    }
    WriteAll(fds[1], msg);
    _exit(msg.empty() ? 0 : 1);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return {};
  }
  return Wait(pid, fds[0]);
}

ChildOutcome RunHelper(const std::vector<std::string>& args,
                       const std::function<std::string()>& before_exec) {
  int fds[2];
  if (pipe(fds) != 0) {
    return {};
  }
  std::vector<std::string> argv_store = {"conformance-helper", kHelperFlag};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (before_exec) {
      const std::string err = before_exec();
      if (!err.empty()) {
        WriteAll(fds[1], err);
        _exit(3);
      }
    }
    dup2(fds[1], STDOUT_FILENO);
    close(fds[1]);
    execv("/proc/self/exe", argv.data());
    WriteAll(STDOUT_FILENO, "execv failed");
    _exit(4);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return {};
  }
  return Wait(pid, fds[0]);
}

std::map<std::string, std::string> ParseKeyValues(const std::string& text) {
  std::map<std::string, std::string> kv;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) {
      kv[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return kv;
}

}  // namespace conf
