#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/core/option_schema.hpp"

namespace aisle {

// Names to factories for one family of types (layers, losses, optimizers,
// recommender models): how a saved file or a command line turns a name into
// an object, and where a new type makes itself known. The built-in types are
// registered when the registry is first used; register your own before
// loading files or parsing commands that name them, from one thread (lookups
// are safe from many threads once registration is over).
template <class Product, class... Args>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Product>(Args...)>;

  // family names the kind of thing in messages: "layer", "loss", "model".
  explicit Registry(std::string family) : family_(std::move(family)) {}

  // Registers name, with the options its factory reads (for command lines
  // and help); aisle::Error if the name is taken.
  void add(std::string name, Factory factory, std::vector<OptionInfo> options = {}) {
    if (entries_.contains(name)) throw Error("a " + family_ + " named '" + name + "' is registered already");
    entries_.emplace(std::move(name), Entry{std::move(factory), std::move(options)});
  }

  bool contains(std::string_view name) const { return entries_.find(name) != entries_.end(); }

  // A new object of the type registered as name; aisle::Error naming the
  // known ones if none is.
  std::unique_ptr<Product> make(std::string_view name, Args... args) const {
    return entry(name).factory(std::forward<Args>(args)...);
  }

  // The options the type registered as name reads.
  const std::vector<OptionInfo>& options_of(std::string_view name) const { return entry(name).options; }

  // The registered names, in alphabetical order.
  std::vector<std::string> names() const {
    std::vector<std::string> all;
    for (const auto& [name, entry] : entries_) all.push_back(name);
    return all;
  }

 private:
  struct Entry {
    Factory factory;
    std::vector<OptionInfo> options;
  };

  const Entry& entry(std::string_view name) const {
    const auto found = entries_.find(name);
    if (found == entries_.end())
      throw Error("unknown " + family_ + " '" + std::string(name) + "' (expected " + known_list() + ")");
    return found->second;
  }

  std::string known_list() const {
    std::string list;
    const auto all = names();
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (i > 0) list += i + 1 == all.size() ? " or " : ", ";
      list += all[i];
    }
    return list;
  }

  std::string family_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace aisle
