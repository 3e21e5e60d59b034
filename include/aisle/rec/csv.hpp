#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
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
//
// The file is read whole into one buffer that the reader and the parts made
// by split_rows() share, so fields are views into it and a part can be
// parsed on another thread.
class CsvReader {
 public:
  // Throws if the file cannot be read or has no header.
  CsvReader(std::filesystem::path path, char separator = ',');

  const std::filesystem::path& path() const { return path_; }
  // The size of the whole file.
  std::size_t size_bytes() const { return text_->size; }
  const std::vector<std::string>& header() const { return header_; }
  // The position of a header column; throws naming the file and the header.
  std::size_t column(std::string_view name) const;
  bool has_column(std::string_view name) const;

  // Advances to the next data row; false at the end of the file.
  bool next();
  // The current row's fields; valid until the next call to next().
  std::span<const std::string_view> fields() const { return fields_; }
  std::string_view field(std::size_t column) const { return fields_[column]; }
  // The 1-based line number of the current row, counted in the whole file
  // (also in a part).
  std::size_t line() const;

  // Splits the rows not read yet into at most `parts` readers over
  // consecutive ranges of whole lines, in file order, each with the same
  // header; this reader is then at the end of the file. Each part reads its
  // rows alone (one thread each), and its errors name the file's lines.
  std::vector<CsvReader> split_rows(std::size_t parts);

  std::int64_t integer(std::size_t column, std::string_view what) const;
  float number(std::size_t column, std::string_view what) const;

  [[noreturn]] void fail(std::string_view message) const;

 private:
  struct Text {
    std::unique_ptr<char[]> bytes;
    std::size_t size = 0;
  };
  CsvReader(const CsvReader& whole, std::size_t begin, std::size_t end);
  static std::shared_ptr<Text> read_text(const std::filesystem::path& path);
  std::string_view text() const { return {text_->bytes.get(), text_->size}; }
  bool read_line(std::string_view& line);
  void split(std::string_view line);

  std::filesystem::path path_;
  char separator_;
  std::shared_ptr<Text> text_;
  std::size_t begin_ = 0;  // this reader's range of the text
  std::size_t end_ = 0;
  std::size_t position_ = 0;
  std::size_t lines_read_ = 0;                      // within [begin_, position_)
  mutable std::size_t lines_before_begin_ = 0;      // counted when first asked
  mutable bool lines_before_begin_known_ = true;
  std::vector<std::string> header_;
  std::vector<std::string_view> fields_;
};

}  // namespace aisle::rec
