#pragma once

// Helpers for the rec tests: temporary folders and tiny data sets written on the fly.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace rec_test {

// A fresh folder under the system temp folder, removed with the object.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("aisle-rec-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  std::filesystem::path write(const std::string& name, const std::string& text) const {
    const auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  std::filesystem::path path_;
};

// "user,item,timestamp" rows from {user, {items in time order}}.
inline std::string interactions_csv(const std::vector<std::pair<std::string, std::vector<std::string>>>& users) {
  std::string csv = "user,item,timestamp\n";
  long long t = 1000;
  for (const auto& [user, items] : users) {
    for (const auto& item : items) csv += user + "," + item + "," + std::to_string(t++) + "\n";
  }
  return csv;
}

}  // namespace rec_test
