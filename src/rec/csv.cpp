#include "aisle/rec/csv.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "aisle/core/error.hpp"

namespace aisle::rec {
namespace {

std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open the file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error(path.string() + ": read error");
  return std::move(buffer).str();
}

std::string quoted(std::string_view s) {
  std::string out;  // not "'" + std::string(s): GCC 12 warns falsely (-Wrestrict) on that
  out.reserve(s.size() + 2);
  out += '\'';
  out += s;
  out += '\'';
  return out;
}

}  // namespace

CsvReader::CsvReader(std::filesystem::path path, char separator)
    : path_(std::move(path)), separator_(separator), text_(read_whole_file(path_)) {
  if (text_.starts_with("\xEF\xBB\xBF")) position_ = 3;
  if (!next()) throw Error(path_.string() + ": the file is empty (no header row)");
  header_.assign(fields_.begin(), fields_.end());
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
  while (position_ < text_.size()) {
    const auto end = text_.find('\n', position_);
    const auto stop = end == std::string::npos ? text_.size() : end;
    line = std::string_view(text_).substr(position_, stop - position_);
    position_ = stop == text_.size() ? stop : stop + 1;
    ++line_;
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
      char* const base = text_.data() + (line.data() - text_.data());
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
  throw Error(path_.string() + ":" + std::to_string(line_) + ": " + std::string(message));
}

}  // namespace aisle::rec
