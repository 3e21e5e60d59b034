// fit, eval, stats and synth: the commands that read or write data sets.

#include <chrono>
#include <cstdio>
#include <iostream>

#include "aisle/io/fashion_mnist.hpp"
#include "aisle/rec/evaluation.hpp"
#include "aisle/rec/protocols.hpp"
#include "aisle/rec/recommender.hpp"
#include "aisle/rec/synthetic.hpp"
#include "commands.hpp"

namespace recommend_cli {
namespace {

std::set<std::string> merged(std::set<std::string> a, const std::set<std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string dataset_name(const std::string& folder) {
  const auto path = std::filesystem::path(folder).lexically_normal();
  const auto name = (path.has_filename() ? path : path.parent_path()).filename().string();
  return name.empty() ? folder : name;
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

void print_eval_text(const nlohmann::ordered_json& report) {
  std::cout << "dataset   " << report["dataset"].get<std::string>() << "\n"
            << "protocol  " << report["protocol"].get<std::string>() << "\n"
            << "model     " << report["model"].get<std::string>() << " " << report["params"].dump() << "\n"
            << "users     " << report["users"].get<long long>() << "\n";
  for (const auto& [name, value] : report["metrics"].items())
    std::cout << name << std::string(name.size() < 10 ? 10 - name.size() : 1, ' ') << fixed(value.get<double>(), 4)
              << "\n";
  std::cout << "fit_s     " << fixed(report["fit_s"].get<double>(), 3) << "\n"
            << "query_ms  " << fixed(report["query_ms"].get<double>(), 4) << "\n";
}

}  // namespace

int run_fit(int argc, char** argv) {
  const Arguments args(argc, argv, 2,
                       merged(merged(data_options(), model_options()),
                              {"out", "validation", "index", "index-links", "index-ef-construction", "index-ef-search"}),
                       merged({"progress", "no-user-data"}, model_switches()));
  const auto out = args.required("out");
  const auto index = args.value_or("index", "none");
  if (index != "none" && index != "hnsw") throw UsageError{"--index takes none or hnsw, not '" + index + "'"};
  aisle::rec::HnswOptions index_options;
  index_options.links = static_cast<int>(args.integer("index-links", index_options.links, 2, 512));
  index_options.ef_construction =
      static_cast<int>(args.integer("index-ef-construction", index_options.ef_construction, 1, 100000));
  index_options.ef_search = static_cast<int>(args.integer("index-ef-search", index_options.ef_search, 1, 100000));
  auto model = make_model_from(args);
  const auto data = read_data(args);
  aisle::rec::FitContext context;
  context.validation_protocol = aisle::rec::parse_protocol(args.value_or("validation", "loo"));
  context.progress = progress_printer(args);
  context.report("read " + std::to_string(data.interaction_count()) + " interactions: " +
                 std::to_string(data.user_count()) + " users, " + std::to_string(data.item_count()) + " items");
  const auto start = std::chrono::steady_clock::now();
  auto recommender = aisle::rec::Recommender::fit(data, std::move(model), context);
  const double fit_s = seconds_since(start);
  if (index == "hnsw") {
    const auto index_start = std::chrono::steady_clock::now();
    recommender.build_index(index_options, [&](aisle::Index done, aisle::Index total) {
      context.report("hnsw index: " + std::to_string(done) + " of " + std::to_string(total) + " items");
    });
    context.report("hnsw index built in " + fixed(seconds_since(index_start), 2) + " s");
  }
  if (args.flag("no-user-data")) recommender.drop_user_data();
  recommender.save(out);
  std::cout << "fitted " << recommender.model().kind() << " " << recommender.model().params().dump() << " on "
            << data.user_count() << " users, " << data.item_count() << " items in " << fixed(fit_s, 3) << " s; saved "
            << out << "\n";
  return 0;
}

int run_eval(int argc, char** argv) {
  const Arguments args(argc, argv, 2, merged(merged(data_options(), model_options()), {"protocol"}),
                       merged({"json", "progress"}, model_switches()));
  const auto protocol = aisle::rec::parse_protocol(args.required("protocol"));
  auto model = make_model_from(args);
  const auto data = read_data(args);
  const auto split = aisle::rec::make_split(data, protocol);  // cold: refused without items.csv
  aisle::rec::FitContext context;
  // Tuning on a cold split is shaped like loo (make_validation_split).
  context.validation_protocol = protocol;
  context = aisle::rec::with_item_features(context, data);
  context.progress = progress_printer(args);
  context.report("split " + std::string(aisle::rec::protocol_name(protocol)) + ": " +
                 std::to_string(split.fitted.size()) + " fitted rows, " + std::to_string(split.queries.size()) +
                 " evaluated users, " + std::to_string(split.dropped_users) + " users dropped");
  const auto start = std::chrono::steady_clock::now();
  model->fit(split.fitted, split.item_count, context);
  const double fit_s = seconds_since(start);
  context.report("fitted in " + fixed(fit_s, 2) + " s; evaluating");
  const auto result = aisle::rec::evaluate(*model, split);

  // Ordered: the keys come out as docs/evaluation.md lists them.
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  for (const auto& [name, value] : result.metrics) metrics[name] = value;
  const nlohmann::ordered_json report = {{"dataset", dataset_name(args.required("data"))},
                                 {"protocol", aisle::rec::protocol_name(protocol)},
                                 {"model", model->kind()},
                                 {"params", nlohmann::ordered_json::parse(model->params().dump())},
                                 {"users", result.users},
                                 {"metrics", metrics},
                                 {"fit_s", fit_s},
                                 {"query_ms", result.query_ms()}};
  if (args.flag("json")) {
    std::cout << report.dump() << "\n";
  } else {
    print_eval_text(report);
  }
  return 0;
}

int run_add_items(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"model", "items", "out", "sep", "image-classifier", "item-images"}, {"json"});
  const auto out = args.required("out");
  auto recommender = aisle::rec::Recommender::load(args.required("model"));
  aisle::rec::ItemFeaturesFormat format;
  format.separator = separator_from(args);
  const std::filesystem::path items = args.required("items");
  auto pairs = aisle::rec::read_item_feature_pairs(items, format);
  if (args.has("image-classifier") || args.has("item-images")) {
    std::vector<std::string> features;
    for (const auto& pair : pairs) features.push_back(pair.second);
    const auto resolved = image_features_from(args, items.parent_path()).resolve(features);
    for (std::size_t r = 0; r < pairs.size(); ++r) pairs[r].second = resolved[r];
  }
  const auto added = recommender.add_items(pairs);
  recommender.save(out);
  const nlohmann::ordered_json report{{"added", added.added},
                                      {"items", recommender.items().size()},
                                      {"known_items", added.known_items},
                                      {"unknown_features", added.unknown_features},
                                      {"index_dropped", added.index_dropped},
                                      {"out", out}};
  if (args.flag("json")) {
    std::cout << report.dump() << "\n";
    return 0;
  }
  std::cout << "added " << added.added << " items (" << recommender.items().size() << " in all); saved " << out << "\n";
  if (!added.known_items.empty())
    std::cout << "skipped " << added.known_items.size() << " items already in the catalogue\n";
  if (!added.unknown_features.empty()) {
    std::cout << "skipped " << added.unknown_features.size() << " features the fit never saw:";
    for (const auto& f : added.unknown_features) std::cout << " " << f;
    std::cout << "\n";
  }
  if (added.index_dropped) std::cout << "the HNSW index was dropped: fit again with --index hnsw to rebuild it\n";
  return 0;
}

int run_stats(int argc, char** argv) {
  const Arguments args(argc, argv, 2, data_options(), {"json"});
  const auto start = std::chrono::steady_clock::now();
  const auto data = read_data(args);
  const auto read_s = seconds_since(start);
  const auto users = data.user_count(), items = data.item_count(), rows = data.interaction_count();
  const nlohmann::ordered_json report{
      {"dataset", dataset_name(args.required("data"))},
      {"users", users},
      {"items", items},
      {"interactions", rows},
      {"density", static_cast<double>(rows) / (static_cast<double>(users) * static_cast<double>(items))},
      {"features", data.features().size()},
      {"read_s", read_s},
      {"interactions_per_s", static_cast<double>(rows) / read_s}};
  if (args.flag("json")) {
    std::cout << report.dump() << "\n";
    return 0;
  }
  for (const auto& [name, value] : report.items())
    std::cout << name << std::string(name.size() < 13 ? 13 - name.size() : 1, ' ') << value.dump() << "\n";
  return 0;
}

int run_synth(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"out", "seed", "users", "items", "categories", "interactions", "fashion-mnist"},
                       {"images"});
  if (args.has("fashion-mnist") && !args.flag("images")) throw UsageError{"--fashion-mnist goes with --images"};
  aisle::rec::SyntheticOptions options;
  options.seed = static_cast<std::uint64_t>(args.integer("seed", static_cast<long long>(options.seed), 0));
  options.users = args.integer("users", options.users, 1);
  options.items = args.integer("items", options.items, 1);
  const auto classes = static_cast<aisle::Index>(aisle::io::kFashionMnistClassNames.size());
  options.categories = args.flag("images") ? args.integer("categories", classes, 1, classes)
                                           : args.integer("categories", options.categories, 1);
  options.interactions = args.integer("interactions", 0, options.users);
  const std::filesystem::path out = args.required("out");
  aisle::io::LabeledImages photos;
  if (args.flag("images")) {
    photos = aisle::io::load_fashion_mnist(aisle::io::FashionMnistSet::test,
                                           args.value_or("fashion-mnist", aisle::io::kFashionMnistDefaultDir));
    options.image_labels.assign(photos.labels.data(), photos.labels.data() + photos.labels.size());
  }
  const auto rows = aisle::rec::write_synthetic_store(out, options);
  if (args.flag("images")) aisle::io::write_idx_images(out / kItemImagesFile, photos.images, photos.rows, photos.cols);
  std::cout << "wrote a SYNTHETIC storefront to " << out.string() << ": " << rows << " interactions, "
            << options.users << " shoppers, " << options.items << " items (seed " << options.seed << ")"
            << (args.flag("images") ? ", a Fashion-MNIST photo each as image:<n> (" + std::string(kItemImagesFile) + ")"
                                    : std::string())
            << "\n";
  return 0;
}

}  // namespace recommend_cli
