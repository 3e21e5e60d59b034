#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aisle/core/error.hpp"

namespace aisle {

// An option as a program offers it: the JSON key (the command-line flag is
// --name with '-' for '_'), the kind of value it takes and a line of help.
struct OptionInfo {
  enum class Type { integer, number, boolean, number_list, word_list };
  std::string name;
  Type type = Type::number;
  std::string help;
};

// The one definition of a settings struct's options, from which its JSON
// reading, its JSON writing (a model's params()) and its command-line flags
// all come. Reading refuses unknown keys and values of the wrong type (an
// integer option given 2.5, a switch given "yes"), naming the owner and the
// key; range checks stay with the type that owns the settings.
template <class Options>
class OptionSchema {
 public:
  // owner names the settings in messages: "neural model", "ease model".
  explicit OptionSchema(std::string owner) : owner_(std::move(owner)) {}

  // member takes an integer, floating-point, bool, optional<number> (absent
  // when unset), vector<float> or vector<string> type.
  template <class T>
  OptionSchema& add(std::string name, T Options::*member, std::string help) {
    fields_.push_back(Field{{std::move(name), type_of<T>(), std::move(help)},
                            [member](Options& options, const nlohmann::json& value, const Where& where) {
                              options.*member = read_value<T>(value, where);
                            },
                            [member](const Options& options, nlohmann::json& out, const std::string& key) {
                              write_value(options.*member, out, key);
                            }});
    return *this;
  }

  // options with every key of json read over it.
  Options read(const nlohmann::json& json, Options options = {}) const {
    if (!json.is_object()) throw Error(owner_ + " options must be a JSON object, got " + json.dump());
    for (const auto& item : json.items()) find(item.key()).read(options, item.value(), Where{owner_, item.key()});
    return options;
  }

  // options with the keys this schema defines read from a saved params
  // object, which also holds figures of the fit (ignored); keys absent from
  // files older than them keep the values in options.
  Options read_saved(const nlohmann::json& params, Options options) const {
    if (!params.is_object()) throw Error(owner_ + " params must be a JSON object, got " + params.dump());
    for (const auto& field : fields_) {
      const auto found = params.find(field.info.name);
      if (found != params.end()) field.read(options, *found, Where{owner_, field.info.name});
    }
    return options;
  }

  nlohmann::json write(const Options& options) const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& field : fields_) field.write(options, out, field.info.name);
    return out;
  }

  std::vector<OptionInfo> describe() const {
    std::vector<OptionInfo> infos;
    for (const auto& field : fields_) infos.push_back(field.info);
    return infos;
  }

 private:
  // The option a value is read for, to name in errors.
  struct Where {
    const std::string& owner;
    const std::string& key;
  };

  struct Field {
    OptionInfo info;
    std::function<void(Options&, const nlohmann::json&, const Where&)> read;
    std::function<void(const Options&, nlohmann::json&, const std::string&)> write;
  };

  template <class T>
  static constexpr OptionInfo::Type type_of() {
    if constexpr (std::is_same_v<T, bool>) return OptionInfo::Type::boolean;
    else if constexpr (std::is_integral_v<T>) return OptionInfo::Type::integer;
    else if constexpr (std::is_floating_point_v<T>) return OptionInfo::Type::number;
    else if constexpr (std::is_same_v<T, std::vector<float>>) return OptionInfo::Type::number_list;
    else if constexpr (std::is_same_v<T, std::vector<std::string>>) return OptionInfo::Type::word_list;
    else return type_of<typename T::value_type>();  // std::optional
  }

  const Field& find(const std::string& key) const {
    for (const auto& field : fields_)
      if (field.info.name == key) return field;
    std::string known;
    for (const auto& field : fields_) known += (known.empty() ? "" : ", ") + field.info.name;
    throw Error(owner_ + " has no option '" + key + "'" + (known.empty() ? " (it takes none)" : " (it takes " + known + ")"));
  }

  [[noreturn]] static void bad_value(const Where& where, const nlohmann::json& value, const char* expected) {
    throw Error(where.owner + " option '" + where.key + "' expects " + expected + ", got " + value.dump());
  }

  template <class T>
  struct IsOptional : std::false_type {};
  template <class T>
  struct IsOptional<std::optional<T>> : std::true_type {};

  template <class T>
  static T read_value(const nlohmann::json& value, const Where& key) {
    if constexpr (std::is_same_v<T, bool>) {
      if (!value.is_boolean()) bad_value(key, value, "true or false");
      return value.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
      if (!value.is_number_integer()) bad_value(key, value, "a whole number");
      // A parsed "1" is unsigned to JSON, a computed 1 signed: both are fine.
      if (std::is_unsigned_v<T> && !value.is_number_unsigned() && value.get<std::int64_t>() < 0)
        bad_value(key, value, "a whole number not below 0");
      return value.get<T>();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!value.is_number()) bad_value(key, value, "a number");
      return value.get<T>();
    } else if constexpr (std::is_same_v<T, std::vector<float>>) {
      if (!value.is_array()) bad_value(key, value, "a list of numbers");
      std::vector<float> list;
      for (const auto& element : value) {
        if (!element.is_number()) bad_value(key, value, "a list of numbers");
        list.push_back(element.get<float>());
      }
      return list;
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (!value.is_array()) bad_value(key, value, "a list of strings");
      std::vector<std::string> list;
      for (const auto& element : value) {
        if (!element.is_string()) bad_value(key, value, "a list of strings");
        list.push_back(element.get<std::string>());
      }
      return list;
    } else {
      if (value.is_null()) return std::nullopt;
      return read_value<typename T::value_type>(value, key);
    }
  }

  template <class T>
  static void write_value(const T& value, nlohmann::json& out, const std::string& key) {
    if constexpr (IsOptional<T>::value) {
      if (value) out[key] = *value;
    } else {
      out[key] = value;
    }
  }

  std::string owner_;
  std::vector<Field> fields_;
};

}  // namespace aisle
