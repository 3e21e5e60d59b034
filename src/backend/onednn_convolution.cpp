// The onednn backend's convolution: oneDNN's own convolution primitives over
// the nhwc rows aisle keeps, with the weights reordered into the blocked
// layout the primitive picks (format_tag::any). With bf16 products, reorders
// round the sources, weights and output gradients to bf16 first. Its JIT kernels run the
// convolution directly, without an im2col matrix. Shapes oneDNN has no
// implementation for fall back to im2col on oneDNN's matmul.

#include <array>
#include <unordered_map>
#include <vector>

#include "backend/onednn_backend.hpp"
#include "backend/onednn_compat.hpp"
#include "backend/onednn_engine.hpp"

namespace aisle::detail {
namespace {

using dnnl::memory;
using Dims = memory::dims;

// A batch of images a row, as oneDNN's logical (N, C, H, W) over the nhwc
// floats; row_stride allows a block of a larger matrix.
memory::desc image_desc(Index batch, Index height, Index width, Index channels, Index row_stride) {
  return memory::desc(Dims{batch, channels, height, width}, memory::data_type::f32,
                      Dims{row_stride, 1, width * channels, channels});
}

onednn::ConvolutionDescs convolution_descs(const ConvGeometry& g, Index batch, Index x_stride, Index y_stride) {
  const Dims weights{g.filters, g.in_channels, g.kernel, g.kernel};
  return {.src = image_desc(batch, g.in_height, g.in_width, g.in_channels, x_stride),
          .weights = memory::desc(weights, memory::data_type::f32, memory::format_tag::any),
          .bias = memory::desc(Dims{g.filters}, memory::data_type::f32, memory::format_tag::x),
          .dst = image_desc(batch, g.out_height, g.out_width, g.filters, y_stride),
          .strides = {g.stride, g.stride},
          .padding_l = {g.pad_top, g.pad_left},
          .padding_r = {g.pad_bottom(), g.pad_right()}};
}

// The same logical tensor, dense nhwc, in bf16 (or f32).
memory::desc as_type(const memory::desc& desc, memory::data_type type) {
  return memory::desc(desc.dims(), type, memory::format_tag::nhwc);
}

// aisle's weight matrix as oneDNN sees it: hwio.
memory::desc user_weights_desc(const ConvGeometry& g) {
  return memory::desc(Dims{g.filters, g.in_channels, g.kernel, g.kernel}, memory::data_type::f32,
                      memory::format_tag::hwio);
}

// A primitive with its arguments: memories the caller's pointers are set on
// before each run, or buffers the plan owns (reordered weights).
struct Step {
  dnnl::primitive primitive;
  std::unordered_map<int, memory> args;
};

memory unbound(const memory::desc& desc) { return memory(desc, cpu_engine(), nullptr); }
memory owned(const memory::desc& desc) { return memory(desc, cpu_engine()); }

// Primitive is the primitive type of the descriptor Pd (a reorder's
// descriptor is not a dnnl::primitive_desc in oneDNN 2.x).
template <class Primitive, class Pd>
Step make_step(const Pd& pd, std::unordered_map<int, memory> args) {
  args.emplace(DNNL_ARG_SCRATCHPAD, owned(pd.scratchpad_desc()));
  return {Primitive(pd), std::move(args)};
}

// Everything one call shape needs, made once: the primitives in the order
// they run and the user-facing memories whose handles each call sets.
struct ConvPlan {
  std::array<Index, 5> key{};
  std::vector<Step> steps;
  std::unordered_map<int, memory> user;  // by DNNL_ARG_* of the user's buffer

  void bind(int arg, const float* data) { user.at(arg).set_data_handle(const_cast<float*>(data)); }

  void run(dnnl::stream& stream) {
    for (auto& step : steps) step.primitive.execute(stream, step.args);
    stream.wait();
  }
};

// The user's memory as `want`: itself when the layouts agree, else a fresh
// buffer that a reorder step, added to the plan, fills from it.
memory staged(ConvPlan& plan, const memory& user, const memory::desc& want) {
  if (user.get_desc() == want) return user;
  memory result = owned(want);
  plan.steps.push_back(make_step<dnnl::reorder>(onednn::reorder_pd(cpu_engine(), user.get_desc(), want),
                                                {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, result}}));
  return result;
}

// The descriptors the primitives see: bf16 sources, weights (and output
// gradients) for bf16 products, else the user's own f32 layouts.
onednn::ConvolutionDescs compute_descs(const ConvGeometry& g, const onednn::ConvolutionDescs& user, bool bf16_dst) {
  if (!g.bf16_products) return user;
  auto d = user;
  d.src = as_type(user.src, memory::data_type::bf16);
  d.weights = memory::desc(user.weights.dims(), memory::data_type::bf16, memory::format_tag::any);
  if (bf16_dst) d.dst = as_type(user.dst, memory::data_type::bf16);
  return d;
}

ConvPlan forward_plan(const ConvGeometry& g, Index batch, Index x_stride, bool relu) {
  const auto user = convolution_descs(g, batch, x_stride, g.out_size());
  const auto d = compute_descs(g, user, false);
  const auto pd = onednn::convolution_forward_pd(cpu_engine(), d, relu);
  ConvPlan plan;
  plan.user = {{DNNL_ARG_SRC, unbound(user.src)},
               {DNNL_ARG_WEIGHTS, unbound(user_weights_desc(g))},
               {DNNL_ARG_BIAS, unbound(user.bias)},
               {DNNL_ARG_DST, unbound(user.dst)}};
  const memory src = staged(plan, plan.user.at(DNNL_ARG_SRC), pd.src_desc());
  const memory weights = staged(plan, plan.user.at(DNNL_ARG_WEIGHTS), pd.weights_desc());
  plan.steps.push_back(make_step<dnnl::convolution_forward>(pd, {{DNNL_ARG_SRC, src},
                                      {DNNL_ARG_WEIGHTS, weights},
                                      {DNNL_ARG_BIAS, plan.user.at(DNNL_ARG_BIAS)},
                                      {DNNL_ARG_DST, plan.user.at(DNNL_ARG_DST)}}));
  return plan;
}

ConvPlan backward_plan(const ConvGeometry& g, Index batch, Index x_stride, Index dz_stride, bool input_gradient) {
  const auto user = convolution_descs(g, batch, x_stride, dz_stride);
  const auto d = compute_descs(g, user, true);
  const auto hint = onednn::convolution_forward_pd(cpu_engine(), d, false);
  ConvPlan plan;
  plan.user = {{DNNL_ARG_SRC, unbound(user.src)},
               {DNNL_ARG_DIFF_DST, unbound(user.dst)},
               {DNNL_ARG_DIFF_WEIGHTS, unbound(user_weights_desc(g))},
               {DNNL_ARG_DIFF_BIAS, unbound(user.bias)}};
  const memory diff_dst = staged(plan, plan.user.at(DNNL_ARG_DIFF_DST), d.dst);
  if (input_gradient) {
    auto data_descs = d;
    data_descs.src = convolution_descs(g, batch, g.in_size(), dz_stride).src;  // diff_src: the user's f32
    const auto data_pd = onednn::convolution_backward_data_pd(cpu_engine(), data_descs, hint);
    plan.user.emplace(DNNL_ARG_WEIGHTS, unbound(user_weights_desc(g)));
    plan.user.emplace(DNNL_ARG_DIFF_SRC, unbound(data_descs.src));
    const memory weights = staged(plan, plan.user.at(DNNL_ARG_WEIGHTS), data_pd.weights_desc());
    plan.steps.push_back(make_step<dnnl::convolution_backward_data>(data_pd, {{DNNL_ARG_DIFF_DST, diff_dst},
                                             {DNNL_ARG_WEIGHTS, weights},
                                             {DNNL_ARG_DIFF_SRC, plan.user.at(DNNL_ARG_DIFF_SRC)}}));
  }
  auto weight_descs = d;  // the weight gradient in f32
  weight_descs.weights = memory::desc(user.weights.dims(), memory::data_type::f32, memory::format_tag::any);
  const memory src = staged(plan, plan.user.at(DNNL_ARG_SRC), d.src);
  const auto weights_pd = onednn::convolution_backward_weights_pd(cpu_engine(), weight_descs, hint);
  const memory& user_dw = plan.user.at(DNNL_ARG_DIFF_WEIGHTS);
  const bool blocked = weights_pd.diff_weights_desc() != user_dw.get_desc();
  const memory dw = blocked ? owned(weights_pd.diff_weights_desc()) : user_dw;
  plan.steps.push_back(make_step<dnnl::convolution_backward_weights>(weights_pd, {{DNNL_ARG_SRC, src},
                                              {DNNL_ARG_DIFF_DST, diff_dst},
                                              {DNNL_ARG_DIFF_WEIGHTS, dw},
                                              {DNNL_ARG_DIFF_BIAS, plan.user.at(DNNL_ARG_DIFF_BIAS)}}));
  if (blocked)
    plan.steps.push_back(make_step<dnnl::reorder>(onednn::reorder_pd(cpu_engine(), dw.get_desc(), user_dw.get_desc()),
                                   {{DNNL_ARG_FROM, dw}, {DNNL_ARG_TO, user_dw}}));
  return plan;
}

// The plans of one layer in one workspace, by call shape. A shape oneDNN
// cannot run is remembered, and goes to the im2col path with its own slot.
class OneDnnConvCache final : public KernelCache {
 public:
  OneDnnConvCache() : stream_(cpu_engine()) {}

  template <class Make>
  ConvPlan* find_or_make(const std::array<Index, 5>& key, const Make& make) {
    for (auto& plan : plans_)
      if (plan.key == key) return &plan;
    for (const auto& refused : refused_)
      if (refused == key) return nullptr;
    try {
      plans_.push_back(make());
    } catch (const dnnl::error&) {
      refused_.push_back(key);
      return nullptr;
    }
    plans_.back().key = key;
    return &plans_.back();
  }

  dnnl::stream& stream() { return stream_; }
  KernelSlot& fallback() { return fallback_; }

 private:
  dnnl::stream stream_;
  std::vector<ConvPlan> plans_;
  std::vector<std::array<Index, 5>> refused_;
  KernelSlot fallback_;
};

enum ConvOp : Index { kForward = 1, kForwardRelu, kBackward, kBackwardWithInput };

}  // namespace

void OneDnnBackend::conv_forward(ConstMatrixRef x, const ConvGeometry& g, const Matrix& w, const Matrix& b,
                                 Activation act, Matrix& y, KernelSlot& slot) const {
  const bool relu = act == Activation::relu;
  auto& cache = slot.get<OneDnnConvCache>();
  ConvPlan* plan = x.rows() == 0 ? nullptr
                                 : cache.find_or_make({relu ? kForwardRelu : kForward, x.rows(), x.outerStride(), 0, g.bf16_products},
                                                      [&] { return forward_plan(g, x.rows(), x.outerStride(), relu); });
  if (plan == nullptr) return Backend::conv_forward(x, g, w, b, act, y, cache.fallback());
  y.resize(x.rows(), g.out_size());
  plan->bind(DNNL_ARG_SRC, x.data());
  plan->bind(DNNL_ARG_WEIGHTS, w.data());
  plan->bind(DNNL_ARG_BIAS, b.data());
  plan->bind(DNNL_ARG_DST, y.data());
  plan->run(cache.stream());
}

void OneDnnBackend::conv_backward(ConstMatrixRef x, const ConvGeometry& g, const Matrix& w, ConstMatrixRef dz,
                                  Matrix& dw, Matrix& db, Matrix* dx, KernelSlot& slot) const {
  const bool input_gradient = dx != nullptr;
  auto& cache = slot.get<OneDnnConvCache>();
  ConvPlan* plan =
      x.rows() == 0 ? nullptr
                    : cache.find_or_make(
                          {input_gradient ? kBackwardWithInput : kBackward, x.rows(), x.outerStride(), dz.outerStride(), g.bf16_products},
                          [&] { return backward_plan(g, x.rows(), x.outerStride(), dz.outerStride(), input_gradient); });
  if (plan == nullptr) return Backend::conv_backward(x, g, w, dz, dw, db, dx, cache.fallback());
  dw.resize(g.patch_size(), g.filters);
  db.resize(1, g.filters);
  plan->bind(DNNL_ARG_SRC, x.data());
  plan->bind(DNNL_ARG_DIFF_DST, dz.data());
  plan->bind(DNNL_ARG_DIFF_WEIGHTS, dw.data());
  plan->bind(DNNL_ARG_DIFF_BIAS, db.data());
  if (input_gradient) {
    dx->resize(x.rows(), g.in_size());
    plan->bind(DNNL_ARG_WEIGHTS, w.data());
    plan->bind(DNNL_ARG_DIFF_SRC, dx->data());
  }
  plan->run(cache.stream());
}

}  // namespace aisle::detail
