"""Error-aware quantization through noise tempering (Wang et al., arXiv 2212.05603), with LSQ.

Quantization-aware training with learned-step-size quantizers (LSQ) on the weights and input
activations of every Linear/Conv1d/Conv2d layer; noise tempering adds, during training only,
exponentially decaying noise scaled by each element's rounding error. Also: a plain additive-noise
baseline, post-training quantization, integer export and an integer inference path, and a
perturbation-based sharpness measure.

Example:
    from paperzoo.papers.noise_qat import quantize_model, set_training_step, export_integer, IntegerModel
    qmodel = quantize_model(fp_model, w_bits=2, a_bits=2, quantizer="noise", lambda0=1.0, tau_steps=0.3 * T)
    for t, (x, y) in enumerate(batches):
        set_training_step(qmodel, t)                  # lambda_t = lambda0 * exp(-t / tau)
        loss = F.cross_entropy(qmodel(x), y); opt.zero_grad(); loss.backward(); opt.step()
    ints = export_integer(qmodel.eval())              # {"0.weight": (int8 codes, step), ...}
    logits = IntegerModel(qmodel)(x)                  # int32 matmuls, equal to qmodel(x) in eval
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs={
    "quantizers": ["LSQQuantizer", "NoiseTemperedQuantizer", "AdditiveNoiseQuantizer", "round_ste", "grad_scale"],
    "layers": ["quantize_model", "set_training_step", "export_integer", "post_training_quantize",
               "quantized_layers", "QuantLinear", "QuantConv1d", "QuantConv2d"],
    "integer": ["IntegerModel", "IntegerLayer"],
    "sharpness": ["sharpness"],
    "training": ["MLP", "CNN1D", "train_fp32", "train_qat", "accuracy", "QATHistory"],
})
