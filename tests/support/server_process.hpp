#pragma once

// A server program started by a test on a loopback port and stopped by its
// pid: its stderr goes to a file, which says the port it listens on.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace aisle::test_support {

class ServerProcess {
 public:
  // Starts program with args, stderr to stderr_path (stdout too).
  ServerProcess(const std::string& program, const std::vector<std::string>& args, std::filesystem::path stderr_path)
      : stderr_path_(std::move(stderr_path)) {
    std::vector<std::string> words{program};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    // fork, then only async-signal-safe calls until exec (the test process
    // has threads). PR_SET_PDEATHSIG kills the server if the test process
    // dies first, so a crashing test leaves no server behind.
    const pid_t parent = ::getpid();
    const char* log_path = stderr_path_.c_str();
    pid_ = ::fork();
    if (pid_ == 0) {
      const int log = ::open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (log < 0 || ::dup2(log, 2) < 0 || ::dup2(log, 1) < 0) ::_exit(127);
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
      ::execv(program.c_str(), argv.data());
      ::_exit(127);
    }
    if (pid_ < 0) exit_code_ = 127;
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait_for_exit(std::chrono::seconds(10));
    }
  }

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_code_; }
  void signal(int number) const { ::kill(pid_, number); }

  std::string log() const {
    std::ifstream in(stderr_path_);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // The port of the line "listening on http://HOST:PORT"; nullopt if the
  // line has not come within the timeout or the process ended.
  std::optional<int> wait_for_port(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto text = log();
      const auto at = text.find("listening on http://");
      if (at != std::string::npos) {
        const auto colon = text.find(':', at + 20);
        const auto end = text.find('\n', at);
        if (colon != std::string::npos && end != std::string::npos) return std::stoi(text.substr(colon + 1, end - colon - 1));
      }
      if (poll_exit()) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
  }

  // The exit code (128 + signal when killed); nullopt if still running after timeout.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!poll_exit() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return exit_code_;
  }

 private:
  bool poll_exit() {
    if (exit_code_ || pid_ < 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }

  std::filesystem::path stderr_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace aisle::test_support
