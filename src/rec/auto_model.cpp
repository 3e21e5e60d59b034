#include "aisle/rec/auto_model.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "aisle/core/error.hpp"
#include "aisle/rec/blend.hpp"
#include "aisle/rec/evaluation.hpp"
#include "aisle/rec/model_registry.hpp"
#include "nested_models.hpp"

namespace aisle::rec {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kChosenPrefix = "auto.";
constexpr const char* kChosenParams = "chosen_params";
// A blend grows from the best candidate by the next ones in rank, each
// tried at these shares of the blend.
constexpr std::size_t kMaxBlendParts = 3;
constexpr float kBlendShares[] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string fixed(double value, int digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

struct Candidate {
  std::shared_ptr<Model> model;  // fitted on the validation split's fitted rows
  double value = 0;              // the validation metric, over the whole split
  double fit_seconds = 0;
};

struct BlendChoice {
  std::vector<std::size_t> parts;  // indices into the ranked candidates
  std::vector<float> weights;
  double value = 0;                // on the blend sample
};

FitContext prefixed(const FitContext& context, const std::string& prefix) {
  FitContext inner = context;
  if (context.progress) inner.progress = [progress = context.progress, prefix](const std::string& line) { progress(prefix + line); };
  return inner;
}

double measure(const Model& model, const EvalSplit& split, const MetricSpec& metric) {
  return evaluate(model, split, {.metrics = {metric}}).metrics.front().second;
}

// At most n of split's queries, a seeded sample in their original order.
EvalSplit sample_queries(const EvalSplit& split, Index n, std::uint64_t seed) {
  if (split.queries.size() <= n) return split;
  std::vector<Index> rows(static_cast<std::size_t>(split.queries.size()));
  std::iota(rows.begin(), rows.end(), Index{0});
  std::mt19937_64 random(seed);
  std::shuffle(rows.begin(), rows.end(), random);
  rows.resize(static_cast<std::size_t>(n));
  std::sort(rows.begin(), rows.end());
  EvalSplit sample = split;
  sample.queries = select_rows(split.queries, rows);
  sample.targets = select_rows(split.targets, rows);
  sample.query_users.clear();
  for (const Index row : rows) sample.query_users.push_back(split.query_users[static_cast<std::size_t>(row)]);
  return sample;
}

BlendModel blend_of(const std::vector<Candidate>& ranked, const BlendChoice& choice) {
  std::vector<std::shared_ptr<Model>> parts;
  for (const auto part : choice.parts) parts.push_back(ranked[part].model);
  return BlendModel(std::move(parts), choice.weights);
}

nlohmann::json describe(const std::vector<Candidate>& ranked, const BlendChoice& choice) {
  nlohmann::json models = nlohmann::json::array();
  for (const auto part : choice.parts) models.push_back(ranked[part].model->kind());
  return {{"models", models}, {"weights", choice.weights}};
}

// Grows a blend from the best candidate: the next candidates in rank join,
// each at the share that measures best, while the blend measures better.
BlendChoice grow_blend(const std::vector<Candidate>& ranked, const EvalSplit& sample, const MetricSpec& metric,
                       const FitContext& context, nlohmann::json& tried) {
  BlendChoice best{{0}, {1.0f}, measure(*ranked[0].model, sample, metric)};
  for (std::size_t next = 1; next < std::min(ranked.size(), kMaxBlendParts); ++next) {
    BlendChoice grown = best;
    for (const float share : kBlendShares) {
      BlendChoice candidate = best;
      for (auto& w : candidate.weights) w *= 1.0f - share;
      candidate.parts.push_back(next);
      candidate.weights.push_back(share);
      candidate.value = measure(blend_of(ranked, candidate), sample, metric);
      auto entry = describe(ranked, candidate);
      entry["validation"] = candidate.value;
      tried.push_back(entry);
      if (candidate.value > grown.value) grown = candidate;
    }
    context.report("blend with " + ranked[next].model->kind() + ": " + metric.name() + " " + fixed(grown.value, 4) +
                   (grown.parts.size() > best.parts.size() ? " (kept)" : " (no gain: not kept)"));
    best = grown;
  }
  return best;
}

std::unique_ptr<Model> refit(const Model& fitted, const Histories& rows, Index item_count, const FitContext& context) {
  const auto kind = fitted.kind();
  auto model = make_model(kind, detail::fitted_options(kind, fitted.params()));
  model->fit(rows, item_count, prefixed(context, kind + ": "));
  return model;
}

}  // namespace

const OptionSchema<AutoOptions>& AutoModel::option_schema() {
  static const auto schema =
      OptionSchema<AutoOptions>("auto model")
          .add("candidates", &AutoOptions::candidates, "models to choose from, cheapest first")
          .add("no_blend", &AutoOptions::no_blend, "choose among single models only, no blends")
          .add("time_budget", &AutoOptions::time_budget, "seconds for the whole fit (default: no bound)")
          .add("blend_queries", &AutoOptions::blend_queries, "validation queries the blend weights are chosen on");
  return schema;
}

AutoModel::AutoModel(AutoOptions options) : options_(std::move(options)) {
  if (options_.candidates.empty()) throw Error("auto model: no candidates");
  for (const auto& kind : options_.candidates) {
    if (kind == kKind) throw Error("auto model: 'auto' cannot be its own candidate");
    make_model(kind);  // an unknown kind is refused now, naming the known ones
  }
  if (options_.time_budget && !(*options_.time_budget > 0))
    throw Error("auto model: time_budget must be above 0 seconds, got " + std::to_string(*options_.time_budget));
  if (options_.blend_queries < 1) throw Error("auto model: blend_queries must be at least 1");
}

nlohmann::json AutoModel::options_and_report() const {
  nlohmann::json p = option_schema().write(options_);
  p.update(report_);
  return p;
}

nlohmann::json AutoModel::params() const {
  nlohmann::json p = options_and_report();
  if (chosen_) p[kChosenParams] = chosen_->params();
  return p;
}

void AutoModel::fit(const Histories& rows, Index item_count, const FitContext& caller_context) {
  const auto start = Clock::now();
  // The candidates fit on one set of rows and the refits on another: what
  // one of them builds (the item index, the Gram matrix), the next finds.
  FitContext context = caller_context;
  if (!context.share) context.share = std::make_shared<FitShare>();
  const auto split = make_validation_split(rows, item_count, context.validation_protocol);
  const auto metric = protocol_metrics(context.validation_protocol).back();
  report_ = {{"validation_protocol", std::string(protocol_name(context.validation_protocol))},
             {"validation_metric", metric.name()},
             {"validation_users", split.queries.size()}};
  context.report("auto: " + std::to_string(split.queries.size()) + " validation users, " + metric.name());

  nlohmann::json measured = nlohmann::json::array();
  std::vector<Candidate> ranked;
  for (const auto& kind : options_.candidates) {
    if (!ranked.empty() && options_.time_budget && seconds_since(start) > *options_.time_budget / 2) {
      context.report("auto: time budget: " + kind + " dropped");
      measured.push_back({{"model", kind}, {"dropped", "time budget"}});
      continue;
    }
    const auto fit_start = Clock::now();
    std::shared_ptr<Model> model = make_model(kind);
    try {
      model->fit(split.fitted, item_count, prefixed(context, "auto: " + kind + ": "));
    } catch (const Error& e) {
      context.report("auto: " + kind + " skipped: " + e.what());
      measured.push_back({{"model", kind}, {"skipped", e.what()}});
      continue;
    }
    Candidate candidate{model, measure(*model, split, metric), seconds_since(fit_start)};
    context.report("auto: " + kind + ": " + metric.name() + " " + fixed(candidate.value, 4) + " (" +
                   fixed(candidate.fit_seconds, 1) + " s)");
    measured.push_back({{"model", kind}, {"validation", candidate.value}, {"fit_seconds", candidate.fit_seconds}});
    ranked.push_back(std::move(candidate));
  }
  if (ranked.empty()) throw Error("auto model: no candidate could be fitted (see validation)");
  report_["validation"] = measured;
  // Best first; a tie keeps the cheaper (earlier) candidate.
  std::stable_sort(ranked.begin(), ranked.end(), [](const Candidate& a, const Candidate& b) { return a.value > b.value; });

  BlendChoice choice{{0}, {1.0f}, ranked[0].value};
  if (!options_.no_blend && ranked.size() > 1) {
    const auto sample = sample_queries(split, options_.blend_queries, context.seed);
    nlohmann::json tried = nlohmann::json::array();
    choice = grow_blend(ranked, sample, metric, prefixed(context, "auto: "), tried);
    report_["blend_queries"] = sample.queries.size();
    report_["blends"] = tried;
  }
  report_["choice"] = describe(ranked, choice);
  report_["choice_validation"] = choice.value;
  context.report("auto: chose " + report_["choice"].dump() + "; refitting on all rows");

  const auto refit_start = Clock::now();
  const auto refit_context = prefixed(context, "auto: refit ");
  std::vector<std::shared_ptr<Model>> parts;
  for (const auto part : choice.parts) parts.push_back(refit(*ranked[part].model, rows, item_count, refit_context));
  chosen_ = parts.size() == 1 ? parts.front() : std::make_shared<BlendModel>(std::move(parts), choice.weights);
  report_["refit_seconds"] = seconds_since(refit_start);
  report_["fit_seconds"] = seconds_since(start);
}

const Model& AutoModel::chosen() const {
  require_fitted("use");
  return *chosen_;
}

void AutoModel::score_batch(const Histories& histories, Matrix& scores) const { chosen().score_batch(histories, scores); }

std::vector<float> AutoModel::contributions(std::span<const Index> history, Index item) const {
  return chosen().contributions(history, item);
}

void AutoModel::save(io::ModelFile& file) const {
  require_fitted("save");
  file.header["model"] = {{"kind", kind()},
                          {"params", options_and_report()},
                          {"chosen", detail::save_nested(*chosen_, file, kChosenPrefix)}};
}

void AutoModel::load(io::ModelFile& file, const std::filesystem::path& path) {
  const auto& header = file.header.at("model");
  const auto& params = header.at("params");
  options_ = option_schema().read_saved(params, {});
  report_ = params;
  for (const auto& option : option_schema().describe()) report_.erase(option.name);
  if (header.at("chosen").at("kind") == kKind) throw Error(path.string() + ": an auto model cannot have chosen 'auto'");
  chosen_ = detail::load_nested(header.at("chosen"), file, kChosenPrefix, path);
}

}  // namespace aisle::rec
