#include "aisle/rec/synthetic.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "aisle/core/error.hpp"
#include "aisle/core/random.hpp"
#include "aisle/io/atomic_file.hpp"

namespace aisle::rec {
namespace {

std::string numbered(const char* prefix, Index n, int width) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%s%0*lld", prefix, width, static_cast<long long>(n));
  return buffer;
}

// Draws an index with probability proportional to its weight (cumulative weights).
Index draw(const std::vector<double>& cumulative, Rng& rng) {
  const double u = static_cast<double>(rng.uniform()) * cumulative.back();
  const auto at = std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin();
  return std::min<Index>(at, static_cast<Index>(cumulative.size()) - 1);
}

struct Catalogue {
  std::vector<Index> category;                         // per item
  std::vector<std::vector<Index>> items_by_category;
  std::vector<std::vector<double>> cumulative_weight;  // per category, over its items
};

Catalogue make_catalogue(const SyntheticOptions& options, Rng& rng) {
  Catalogue c;
  c.items_by_category.resize(static_cast<std::size_t>(options.categories));
  c.cumulative_weight.resize(static_cast<std::size_t>(options.categories));
  std::vector<Index> rank(static_cast<std::size_t>(options.items));
  std::iota(rank.begin(), rank.end(), Index{0});
  shuffle(std::span<Index>(rank), rng);
  for (Index i = 0; i < options.items; ++i) {
    // The first items cover every category once; the rest fall anywhere.
    const Index cat = i < options.categories ? i : static_cast<Index>(rng.below(static_cast<std::uint64_t>(options.categories)));
    c.category.push_back(cat);
    auto& items = c.items_by_category[static_cast<std::size_t>(cat)];
    auto& cumulative = c.cumulative_weight[static_cast<std::size_t>(cat)];
    const double weight = 1.0 / std::pow(1.0 + static_cast<double>(rank[static_cast<std::size_t>(i)]),
                                         static_cast<double>(options.popularity_exponent));
    items.push_back(i);
    cumulative.push_back((cumulative.empty() ? 0.0 : cumulative.back()) + weight);
  }
  return c;
}

// A shopper's taste: a favourite category, a second one, and a little of everything.
std::vector<double> make_taste(Index categories, Rng& rng) {
  std::vector<double> weight(static_cast<std::size_t>(categories), 0.1 / static_cast<double>(categories));
  const auto first = rng.below(static_cast<std::uint64_t>(categories));
  const auto second = rng.below(static_cast<std::uint64_t>(categories));
  weight[first] += 0.6;
  weight[second] += 0.3;
  std::partial_sum(weight.begin(), weight.end(), weight.begin());
  return weight;
}

void check(const SyntheticOptions& o) {
  if (o.users <= 0 || o.items <= 0 || o.categories <= 0 || o.categories > o.items || o.max_sessions < 1 ||
      o.max_session_items < 2 || !(o.popularity_exponent >= 0))
    throw Error("synthetic store: need users, items > 0, 0 < categories <= items, max_sessions >= 1, "
                "max_session_items >= 2, popularity_exponent >= 0");
  if (!o.image_labels.empty()) {
    std::vector<bool> present(256, false);
    for (const auto label : o.image_labels) present[label] = true;
    for (Index c = 0; c < o.categories; ++c)
      if (!present[static_cast<std::size_t>(c)])
        throw Error("synthetic store: category " + std::to_string(c) + " of " + std::to_string(o.categories) +
                    " has no image: the image labels have no label " + std::to_string(c));
  }
  if (o.interactions != 0 && o.interactions < o.users)
    throw Error("synthetic store: " + std::to_string(o.interactions) + " interactions for " +
                std::to_string(o.users) + " shoppers: need at least one each");
}

// How many rows each shopper gets when the total is fixed: shoppers come in
// pairs that split their even share unevenly at random, so activity varies
// (from 1 row to twice the mean) while the total stays exact.
class RowBudget {
 public:
  explicit RowBudget(const SyntheticOptions& options) : users_(options.users), total_(options.interactions) {}

  Index rows_of(Index user, Rng& rng) {
    if (user % 2 == 1) return partner_rows_;
    const auto first = share(user), second = user + 1 < users_ ? share(user + 1) : 0;
    if (second == 0) return first;
    // first + d and second - d, both at least 1.
    const auto d = static_cast<Index>(rng.below(static_cast<std::uint64_t>(first + second - 1))) - (first - 1);
    partner_rows_ = second - d;
    return first + d;
  }

 private:
  Index share(Index user) const {
    const auto until = [&](Index u) { return static_cast<Index>((static_cast<__int128>(u) * total_) / users_); };
    return until(user + 1) - until(user);
  }
  Index users_, total_;
  Index partner_rows_ = 0;
};

// Calls on_row(user, item, timestamp) for every row of the store, by shopper
// then time; the same rows in the same order for the same options.
template <class OnRow>
void for_each_row(const SyntheticOptions& options, const Catalogue& catalogue, Rng& rng, OnRow&& on_row) {
  constexpr std::int64_t kStart = 1'700'000'000;  // seconds
  RowBudget budget(options);
  for (Index u = 0; u < options.users; ++u) {
    const auto taste = make_taste(options.categories, rng);
    std::int64_t time = kStart + static_cast<std::int64_t>(rng.below(30 * 86400));
    // A fixed total gives each shopper a row count; otherwise sessions are drawn.
    Index rows_left = options.interactions > 0 ? budget.rows_of(u, rng) : -1;
    const auto sessions = options.interactions > 0
                              ? rows_left
                              : 1 + static_cast<Index>(rng.below(static_cast<std::uint64_t>(options.max_sessions)));
    for (Index s = 0; s < sessions && rows_left != 0; ++s) {
      const auto cat = static_cast<std::size_t>(draw(taste, rng));
      auto length = 2 + static_cast<Index>(rng.below(static_cast<std::uint64_t>(options.max_session_items - 1)));
      if (rows_left > 0) length = std::min(length, rows_left), rows_left -= length;
      for (Index n = 0; n < length; ++n) {
        on_row(u, catalogue.items_by_category[cat][static_cast<std::size_t>(draw(catalogue.cumulative_weight[cat], rng))],
               time);
        time += 30 + static_cast<std::int64_t>(rng.below(300));
      }
      time += 3600 + static_cast<std::int64_t>(rng.below(3 * 86400));
    }
  }
}

std::string user_id(Index u) { return numbered("shopper-", u, 6); }
std::string item_id(Index i) { return numbered("item-", i, 5); }

// Each item's image: one drawn at random among the images labelled with its
// category, from a generator of its own so that the rows do not change.
std::vector<std::pair<std::string, std::string>> image_features(const SyntheticOptions& options,
                                                                 const Catalogue& catalogue) {
  std::vector<std::vector<Index>> images_by_label(256);
  for (std::size_t n = 0; n < options.image_labels.size(); ++n)
    images_by_label[options.image_labels[n]].push_back(static_cast<Index>(n));
  Rng rng(options.seed ^ 0x696d616765730000ULL);  // "images"
  std::vector<std::pair<std::string, std::string>> features;
  for (Index i = 0; i < options.items; ++i) {
    const auto& images = images_by_label[static_cast<std::size_t>(catalogue.category[static_cast<std::size_t>(i)])];
    const auto image = images[static_cast<std::size_t>(rng.below(images.size()))];
    features.emplace_back(item_id(i), "image:" + std::to_string(image));
  }
  return features;
}

std::vector<std::pair<std::string, std::string>> item_features(const SyntheticOptions& options,
                                                                const Catalogue& catalogue) {
  if (!options.image_labels.empty()) return image_features(options, catalogue);
  std::vector<std::pair<std::string, std::string>> features;
  for (Index i = 0; i < options.items; ++i)
    features.emplace_back(item_id(i), numbered("category:c", catalogue.category[static_cast<std::size_t>(i)], 2));
  return features;
}

// Formats rows into a large buffer and hands it to the stream in blocks:
// tens of millions of rows are written at disk speed, not at operator<<'s.
class RowWriter {
 public:
  explicit RowWriter(std::ostream& out) : out_(out) { buffer_.reserve(kBlock + 256); }
  ~RowWriter() { flush(); }
  void write(std::string_view user, std::string_view item, std::int64_t timestamp) {
    buffer_.append(user).append(1, ',').append(item).append(1, ',');
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, timestamp).ptr;
    buffer_.append(digits, end).append(1, '\n');
    if (buffer_.size() >= kBlock) flush();
  }
  void flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }

 private:
  static constexpr std::size_t kBlock = std::size_t{1} << 20;
  std::ostream& out_;
  std::string buffer_;
};

void write_items_and_readme(const std::filesystem::path& folder,
                            const std::vector<std::pair<std::string, std::string>>& features,
                            const SyntheticOptions& options) {
  io::write_file_atomically(folder / "items.csv", [&](std::ostream& out) {
    out << "item,feature\n";
    for (const auto& [item, feature] : features) out << item << ',' << feature << '\n';
  });
  io::write_file_atomically(folder / "README.md", [&](std::ostream& out) {
    out << "SYNTHETIC storefront data, made by aisle-recommend synth (seed " << options.seed << ", "
        << options.users << " shoppers, " << options.items << " items, " << options.categories
        << " categories" << (options.image_labels.empty() ? "" : ", an image each: image:<n> is image n of item-images-idx3-ubyte.gz")
        << "). No real shopper is in it: shoppers have made-up tastes over categories, items a "
           "power-law popularity, sessions are time-ordered.\n";
  });
}

void create_folder(const std::filesystem::path& folder) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw Error(folder.string() + ": cannot create the folder (" + ec.message() + ")");
}

}  // namespace

SyntheticStore make_synthetic_store(const SyntheticOptions& options) {
  check(options);
  Rng rng(options.seed);
  const auto catalogue = make_catalogue(options, rng);
  SyntheticStore store;
  store.features = item_features(options, catalogue);
  for_each_row(options, catalogue, rng, [&](Index user, Index item, std::int64_t time) {
    store.interactions.push_back({user_id(user), item_id(item), time});
  });
  return store;
}

void write_synthetic_store(const std::filesystem::path& folder, const SyntheticStore& store,
                           const SyntheticOptions& options) {
  create_folder(folder);
  io::write_file_atomically(folder / "interactions.csv", [&](std::ostream& out) {
    out << "user,item,timestamp\n";
    RowWriter writer(out);
    for (const auto& row : store.interactions) writer.write(row.user, row.item, row.timestamp);
  });
  write_items_and_readme(folder, store.features, options);
}

std::size_t write_synthetic_store(const std::filesystem::path& folder, const SyntheticOptions& options) {
  check(options);
  create_folder(folder);
  Rng rng(options.seed);
  const auto catalogue = make_catalogue(options, rng);
  const auto features = item_features(options, catalogue);
  std::size_t rows = 0;
  io::write_file_atomically(folder / "interactions.csv", [&](std::ostream& out) {
    out << "user,item,timestamp\n";
    RowWriter writer(out);
    std::string user = user_id(0);
    Index user_index = 0;
    for_each_row(options, catalogue, rng, [&](Index u, Index item, std::int64_t time) {
      if (u != user_index) user = user_id(user_index = u);
      writer.write(user, features[static_cast<std::size_t>(item)].first, time);
      ++rows;
    });
  });
  write_items_and_readme(folder, features, options);
  return rows;
}

}  // namespace aisle::rec
