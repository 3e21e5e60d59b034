#pragma once

// The only file that touches oneDNN API which differs between major
// versions. Debian bookworm ships oneDNN 2.6 (operation descriptors, a scale
// argument on post-op eltwise); oneDNN 3.x builds primitive descriptors
// directly. Support for 3.x goes here and nowhere else.

#include <oneapi/dnnl/dnnl.hpp>

namespace aisle::detail::onednn {

using dnnl::memory;

inline dnnl::primitive_attr user_scratchpad_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

#if DNNL_VERSION_MAJOR >= 3
#error "oneDNN 3.x: add its primitive-descriptor calls here (see the 2.x branch)"
#else

// dst = src * weights (+ bias) (then relu when fused_relu).
inline dnnl::matmul::primitive_desc matmul_pd(const dnnl::engine& engine, const memory::desc& src,
                                              const memory::desc& weights, const memory::desc* bias,
                                              const memory::desc& dst, bool fused_relu) {
  dnnl::primitive_attr attr = user_scratchpad_attr();
  if (fused_relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  const auto desc = bias != nullptr ? dnnl::matmul::desc(src, weights, *bias, dst)
                                    : dnnl::matmul::desc(src, weights, dst);
  return dnnl::matmul::primitive_desc(desc, attr, engine);
}

inline dnnl::eltwise_forward::primitive_desc relu_pd(const dnnl::engine& engine, const memory::desc& data) {
  const dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_relu, data,
                                         0.0f, 0.0f);
  return dnnl::eltwise_forward::primitive_desc(desc, user_scratchpad_attr(), engine);
}

inline dnnl::softmax_forward::primitive_desc softmax_pd(const dnnl::engine& engine, const memory::desc& data,
                                                        int axis) {
  const dnnl::softmax_forward::desc desc(dnnl::prop_kind::forward_inference, data, axis);
  return dnnl::softmax_forward::primitive_desc(desc, user_scratchpad_attr(), engine);
}

// A direct convolution over nhwc data, its weights in whatever layout the
// fastest implementation wants (memory::format_tag::any), with ReLU fused
// when asked. The backward descriptors take the forward's as their hint.
struct ConvolutionDescs {
  memory::desc src, weights, bias, dst;
  memory::dims strides, padding_l, padding_r;
};

inline dnnl::convolution_forward::primitive_desc convolution_forward_pd(const dnnl::engine& engine,
                                                                        const ConvolutionDescs& d, bool fused_relu) {
  dnnl::primitive_attr attr = user_scratchpad_attr();
  if (fused_relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                             d.src, d.weights, d.bias, d.dst, d.strides, d.padding_l, d.padding_r);
  return dnnl::convolution_forward::primitive_desc(desc, attr, engine);
}

inline dnnl::convolution_backward_data::primitive_desc convolution_backward_data_pd(
    const dnnl::engine& engine, const ConvolutionDescs& d, const dnnl::convolution_forward::primitive_desc& hint) {
  const dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weights, d.dst,
                                                   d.strides, d.padding_l, d.padding_r);
  return dnnl::convolution_backward_data::primitive_desc(desc, user_scratchpad_attr(), engine, hint);
}

inline dnnl::convolution_backward_weights::primitive_desc convolution_backward_weights_pd(
    const dnnl::engine& engine, const ConvolutionDescs& d, const dnnl::convolution_forward::primitive_desc& hint) {
  const dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weights, d.bias,
                                                      d.dst, d.strides, d.padding_l, d.padding_r);
  return dnnl::convolution_backward_weights::primitive_desc(desc, user_scratchpad_attr(), engine, hint);
}

inline dnnl::reorder::primitive_desc reorder_pd(const dnnl::engine& engine, const memory::desc& from,
                                                const memory::desc& to) {
  return dnnl::reorder::primitive_desc(engine, from, engine, to, user_scratchpad_attr());
}

#endif

}  // namespace aisle::detail::onednn
