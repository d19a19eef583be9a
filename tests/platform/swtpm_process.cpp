#include "swtpm_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace platform_test {

namespace {

// Binds a loopback TCP socket to port (0: any); returns the bound port or 0 on failure.
int try_bind(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return 0;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  int bound = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      bound = ntohs(addr.sin_port);
    }
  }
  ::close(fd);
  return bound;
}

// Two consecutive free ports (swtpm's server and control channels).
int free_port_pair() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = try_bind(0);
    if (port > 0 && port < 65535 && try_bind(port + 1) == port + 1) {
      return port;
    }
  }
  throw std::runtime_error("no free pair of loopback ports");
}

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

bool swtpm_available() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((std::filesystem::path(dir) / "swtpm").c_str(), X_OK) == 0) {
      return true;
    }
  }
  return false;
}

SwtpmProcess::SwtpmProcess(std::filesystem::path state_dir) : state_dir_(std::move(state_dir)) {
  std::filesystem::create_directories(state_dir_);
  port_ = free_port_pair();
  start();
}

SwtpmProcess::~SwtpmProcess() { stop(); }

void SwtpmProcess::start() {
  if (pid_ > 0) {
    return;
  }
  const std::string port = std::to_string(port_);
  const std::string ctrl = std::to_string(port_ + 1);
  std::vector<std::string> args = {
      "swtpm",
      "socket",
      "--tpm2",
      "--tpmstate",
      "dir=" + state_dir_.string(),
      "--server",
      "type=tcp,port=" + port + ",bindaddr=127.0.0.1",
      "--ctrl",
      "type=tcp,port=" + ctrl + ",bindaddr=127.0.0.1",
      "--flags",
      "not-need-init,startup-clear",
      "--log",
      "file=" + (state_dir_ / "swtpm.log").string() + ",level=1",
  };
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  // swtpm logs to its file; its standard streams go to /dev/null so that it never holds the
  // test's output pipe: should this process die without stopping it, ctest still sees the
  // test end instead of waiting for the pipe to close.
  posix_spawn_file_actions_t actions;
  if (::posix_spawn_file_actions_init(&actions) != 0) {
    throw std::runtime_error("posix_spawn_file_actions_init");
  }
  for (int fd : {0, 1, 2}) {
    (void)::posix_spawn_file_actions_addopen(&actions, fd, "/dev/null",
                                             fd == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, "swtpm", &actions, nullptr, argv.data(), environ);
  (void)::posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    throw std::runtime_error("cannot start swtpm");
  }
  pid_ = pid;
  // Wait until the server port answers (the ctrl port opens first).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!accepts_connections(port_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("swtpm exited at start (see " + (state_dir_ / "swtpm.log").string() +
                               ")");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      throw std::runtime_error("swtpm did not start listening");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void SwtpmProcess::stop() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string SwtpmProcess::tcti() const {
  return "swtpm:host=127.0.0.1,port=" + std::to_string(port_);
}

}  // namespace platform_test
