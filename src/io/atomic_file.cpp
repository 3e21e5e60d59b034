#include "aisle/io/atomic_file.hpp"

#include <unistd.h>

#include <fstream>
#include <system_error>

#include "aisle/core/error.hpp"

namespace aisle::io {

void write_file_atomically_at(const std::filesystem::path& path,
                              const std::function<void(const std::filesystem::path& temporary)>& write) {
  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  try {
    write(tmp);
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw Error("cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write) {
  write_file_atomically_at(path, [&](const std::filesystem::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot open " + tmp.string() + " for writing");
    write(out);
    out.flush();
    if (!out) throw Error("failed writing " + tmp.string() + " (disk full?)");
  });
}

}  // namespace aisle::io
