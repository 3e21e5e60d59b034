#include "aisle/rec/csv.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "aisle/core/error.hpp"
#include "core/huge_pages.hpp"

namespace aisle::rec {
namespace {

std::string quoted(std::string_view s) {
  std::string out;  // not "'" + std::string(s): GCC 12 warns falsely (-Wrestrict) on that
  out.reserve(s.size() + 2);
  out += '\'';
  out += s;
  out += '\'';
  return out;
}

}  // namespace

// Reads the whole file into one buffer, sized from the file when it has a
// size (one read, no copy) and grown as it comes otherwise (pipes).
std::shared_ptr<CsvReader::Text> CsvReader::read_text(const std::filesystem::path& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) {
    throw Error(path.string() + ": cannot open the file (" +
                std::generic_category().message(errno) + ")");
  }
  std::error_code ec;
  const auto known = std::filesystem::is_regular_file(path, ec) ? std::filesystem::file_size(path, ec) : 0;
  auto text = std::make_shared<Text>();
  std::size_t capacity = ec ? 0 : static_cast<std::size_t>(known);
  capacity = std::max<std::size_t>(capacity + 1, 1 << 16);  // +1: reaching the end takes one more read
  text->bytes = std::make_unique_for_overwrite<char[]>(capacity);
  aisle::detail::advise_huge_pages(text->bytes.get(), capacity);  // fewer page faults for large files
  while (true) {
    text->size += std::fread(text->bytes.get() + text->size, 1, capacity - text->size, file.get());
    if (std::ferror(file.get())) throw Error(path.string() + ": read error");
    if (text->size < capacity) break;  // fread stops short only at the end
    auto grown = std::make_unique_for_overwrite<char[]>(capacity * 2);
    aisle::detail::advise_huge_pages(grown.get(), capacity * 2);
    std::memcpy(grown.get(), text->bytes.get(), text->size);
    text->bytes = std::move(grown);
    capacity *= 2;
  }
  return text;
}

CsvReader::CsvReader(std::filesystem::path path, char separator)
    : path_(std::move(path)), separator_(separator), text_(read_text(path_)), end_(text_->size) {
  if (text().starts_with("\xEF\xBB\xBF")) position_ = 3;
  if (!next()) throw Error(path_.string() + ": the file is empty (no header row)");
  header_.assign(fields_.begin(), fields_.end());
}

CsvReader::CsvReader(const CsvReader& whole, std::size_t begin, std::size_t end)
    : path_(whole.path_), separator_(whole.separator_), text_(whole.text_), begin_(begin), end_(end),
      position_(begin), lines_before_begin_known_(false), header_(whole.header_) {}

std::size_t CsvReader::line() const {
  if (!lines_before_begin_known_) {
    // Only errors ask a part for its line: counting then is cheaper than
    // counting every part's lines up front.
    const auto before = text().substr(0, begin_);
    lines_before_begin_ = static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    lines_before_begin_known_ = true;
  }
  return lines_before_begin_ + lines_read_;
}

std::vector<CsvReader> CsvReader::split_rows(std::size_t parts) {
  std::vector<CsvReader> out;
  const auto all = text();
  std::size_t begin = position_;
  for (std::size_t k = 1; k <= parts && begin < end_; ++k) {
    std::size_t end = end_;
    if (k < parts) {
      const auto cut = begin_ + std::max(begin - begin_, (end_ - begin_) * k / parts);
      const auto newline = all.find('\n', cut);
      end = newline == std::string_view::npos || newline >= end_ ? end_ : newline + 1;
    }
    out.push_back(CsvReader(*this, begin, end));
    begin = end;
  }
  position_ = end_;
  return out;
}

std::size_t CsvReader::column(std::string_view name) const {
  const auto it = std::find(header_.begin(), header_.end(), name);
  if (it == header_.end()) {
    std::string names;
    for (const auto& h : header_) names += (names.empty() ? "" : std::string(1, separator_)) + h;
    throw Error(path_.string() + ":1: no column " + quoted(name) + " in the header '" + names + "'");
  }
  return static_cast<std::size_t>(it - header_.begin());
}

bool CsvReader::has_column(std::string_view name) const {
  return std::find(header_.begin(), header_.end(), name) != header_.end();
}

bool CsvReader::read_line(std::string_view& line) {
  const auto range = text().substr(0, end_);
  while (position_ < end_) {
    const auto end = range.find('\n', position_);
    const auto stop = end == std::string_view::npos ? end_ : end;
    line = range.substr(position_, stop - position_);
    position_ = stop == end_ ? stop : stop + 1;
    ++lines_read_;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!line.empty()) return true;
  }
  return false;
}

bool CsvReader::next() {
  std::string_view line;
  if (!read_line(line)) return false;
  split(line);
  if (!header_.empty() && fields_.size() != header_.size()) {
    fail("expected " + std::to_string(header_.size()) + " fields, found " + std::to_string(fields_.size()));
  }
  return true;
}

void CsvReader::split(std::string_view line) {
  fields_.clear();
  std::size_t i = 0;
  while (true) {
    if (i < line.size() && line[i] == '"') {
      // Unescape "" in place: the text buffer is ours and the result is never longer.
      char* const base = text_->bytes.get() + (line.data() - text_->bytes.get());
      std::size_t read = i + 1, write = i + 1;
      bool closed = false;
      while (read < line.size()) {
        if (line[read] == '"') {
          if (read + 1 < line.size() && line[read + 1] == '"') {
            base[write++] = '"';
            read += 2;
            continue;
          }
          closed = true;
          ++read;
          break;
        }
        base[write++] = line[read++];
      }
      if (!closed) fail("unterminated quoted field");
      fields_.push_back(line.substr(i + 1, write - i - 1));
      if (read < line.size() && line[read] != separator_) fail("unexpected text after a quoted field");
      if (read >= line.size()) return;
      i = read + 1;
    } else {
      const auto end = line.find(separator_, i);
      if (end == std::string_view::npos) {
        fields_.push_back(line.substr(i));
        return;
      }
      fields_.push_back(line.substr(i, end - i));
      i = end + 1;
    }
  }
}

std::int64_t CsvReader::integer(std::size_t column, std::string_view what) const {
  const auto text = field(column);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    fail(std::string(what) + " " + quoted(text) + " is not an integer");
  return value;
}

float CsvReader::number(std::size_t column, std::string_view what) const {
  const auto text = field(column);
  float value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    fail(std::string(what) + " " + quoted(text) + " is not a number");
  return value;
}

void CsvReader::fail(std::string_view message) const {
  throw Error(path_.string() + ":" + std::to_string(line()) + ": " + std::string(message));
}

}  // namespace aisle::rec
