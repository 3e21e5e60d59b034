#include "aisle/rec/synthetic.hpp"

#include <algorithm>
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
}

}  // namespace

SyntheticStore make_synthetic_store(const SyntheticOptions& options) {
  check(options);
  Rng rng(options.seed);
  const auto catalogue = make_catalogue(options, rng);
  SyntheticStore store;
  for (Index i = 0; i < options.items; ++i)
    store.features.emplace_back(numbered("item-", i, 5),
                                numbered("category:c", catalogue.category[static_cast<std::size_t>(i)], 2));
  constexpr std::int64_t kStart = 1'700'000'000;  // seconds
  for (Index u = 0; u < options.users; ++u) {
    const auto user = numbered("shopper-", u, 6);
    const auto taste = make_taste(options.categories, rng);
    std::int64_t time = kStart + static_cast<std::int64_t>(rng.below(30 * 86400));
    const auto sessions = 1 + static_cast<Index>(rng.below(static_cast<std::uint64_t>(options.max_sessions)));
    for (Index s = 0; s < sessions; ++s) {
      const auto cat = static_cast<std::size_t>(draw(taste, rng));
      const auto length = 2 + static_cast<Index>(rng.below(static_cast<std::uint64_t>(options.max_session_items - 1)));
      for (Index n = 0; n < length; ++n) {
        const auto item = catalogue.items_by_category[cat][static_cast<std::size_t>(draw(catalogue.cumulative_weight[cat], rng))];
        store.interactions.push_back({user, numbered("item-", item, 5), time});
        time += 30 + static_cast<std::int64_t>(rng.below(300));
      }
      time += 3600 + static_cast<std::int64_t>(rng.below(3 * 86400));
    }
  }
  return store;
}

void write_synthetic_store(const std::filesystem::path& folder, const SyntheticStore& store,
                           const SyntheticOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw Error(folder.string() + ": cannot create the folder (" + ec.message() + ")");
  io::write_file_atomically(folder / "interactions.csv", [&](std::ostream& out) {
    out << "user,item,timestamp\n";
    for (const auto& row : store.interactions) out << row.user << ',' << row.item << ',' << row.timestamp << '\n';
  });
  io::write_file_atomically(folder / "items.csv", [&](std::ostream& out) {
    out << "item,feature\n";
    for (const auto& [item, feature] : store.features) out << item << ',' << feature << '\n';
  });
  io::write_file_atomically(folder / "README.md", [&](std::ostream& out) {
    out << "SYNTHETIC storefront data, made by aisle-recommend synth (seed " << options.seed << ", "
        << options.users << " shoppers, " << options.items << " items, " << options.categories
        << " categories). No real shopper is in it: shoppers have made-up tastes over categories, items a "
           "power-law popularity, sessions are time-ordered.\n";
  });
}

}  // namespace aisle::rec
