#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/core/tensor.hpp"

namespace aisle::rec {

// Reads a delimited text file with a header row, one row at a time, without
// an allocation per row. Fields may be quoted ("a,b", "say ""hi"""); a quoted
// field may not span lines. Blank lines are skipped; CRLF and a UTF-8 BOM are
// accepted. Every error is an aisle::Error that starts with "path:line: ".
class CsvReader {
 public:
  // Throws if the file cannot be read or has no header.
  CsvReader(std::filesystem::path path, char separator = ',');

  const std::filesystem::path& path() const { return path_; }
  const std::vector<std::string>& header() const { return header_; }
  // The position of a header column; throws naming the file and the header.
  std::size_t column(std::string_view name) const;
  bool has_column(std::string_view name) const;

  // Advances to the next data row; false at the end of the file.
  bool next();
  // The current row's fields; valid until the next call to next().
  std::span<const std::string_view> fields() const { return fields_; }
  std::string_view field(std::size_t column) const { return fields_[column]; }
  // The 1-based line number of the current row.
  std::size_t line() const { return line_; }

  std::int64_t integer(std::size_t column, std::string_view what) const;
  float number(std::size_t column, std::string_view what) const;

  [[noreturn]] void fail(std::string_view message) const;

 private:
  bool read_line(std::string_view& line);
  void split(std::string_view line);

  std::filesystem::path path_;
  char separator_;
  std::string text_;
  std::size_t position_ = 0;
  std::size_t line_ = 0;
  std::vector<std::string> header_;
  std::vector<std::string_view> fields_;
};

}  // namespace aisle::rec
