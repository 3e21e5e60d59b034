#pragma once

#include <filesystem>
#include <functional>
#include <ostream>

namespace aisle::io {

// Writes a file through write(stream) under a temporary name in the same
// folder, flushes it, and renames it over path: readers see the old file or
// the whole new one, never a part. Throws aisle::Error naming path on failure;
// the temporary file is removed then.
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write);

// The same for writers that open the file themselves (zlib's gzopen): write
// gets the temporary path and must have written and closed it when it returns.
void write_file_atomically_at(const std::filesystem::path& path,
                              const std::function<void(const std::filesystem::path& temporary)>& write);

}  // namespace aisle::io
