#!/usr/bin/env python3
"""Exports real multi-dimensional transformers to ONNX from their library
definitions, with random weights, for dsp-opt.

Models (``--model``):

- ``latte``: diffusers' ``LatteTransformer3DModel`` (alternating spatial and
  temporal blocks, AdaLN-single timestep conditioning, cross attention to
  text tokens). Full size: Latte-1 (28 + 28 blocks, 16 heads of 72, 16
  frames of 32 x 32 patches, 120 text tokens).
- ``cogvideox``: diffusers' ``CogVideoXTransformer3DModel`` (text and video
  tokens in one joint full 3-D attention, LayerNorm-zero conditioning, q/k
  LayerNorm, 3-D rotary embeddings given as inputs). Full size: CogVideoX-2b
  (30 layers, 30 heads of 64, 13 x 30 x 45 patches, 226 text tokens) with
  CogVideoX-5b's rotary embeddings.
- ``cogvideox15``: the same model in CogVideoX 1.5's configuration: frames
  patched in pairs (``patch_size_t = 2``), no patch bias, rotary embeddings
  of the "slice" grid. Full size: CogVideoX1.5-5B (42 layers, 48 heads of
  64, 11 x 40 x 68 patches, 224 text tokens).
- ``hunyuan``: diffusers' ``HunyuanVideoTransformer3DModel`` (a token
  refiner over the text, dual-stream blocks with joint attention, then
  single-stream blocks; 3-D rotary embeddings computed inside; a text mask
  that turns into an attention mask; guidance embedding). Full size:
  HunyuanVideo (20 + 40 blocks, 24 heads of 128, 33 x 45 x 80 patches, 256
  text tokens).
- ``mochi``: diffusers' ``MochiTransformer3DModel`` (asymmetric joint
  attention: a narrower text stream; RMS q/k norms, 3-D rotary embeddings).
  Its attention drops the masked text tokens with NonZero: import it with
  ``--freeze-input=encoder_attention_mask=@NAME.input.encoder_attention_mask.npy``.
  Full size: Mochi 1 (48 layers, 24 heads of 128, 28 x 60 x 106 patches,
  256 text tokens).
- ``allegro``: diffusers' ``AllegroTransformer3DModel`` (PixArt-style
  blocks over full 3-D self-attention with Allegro's rotary embeddings,
  cross attention to text). Full size: Allegro (32 layers, 24 heads of 96,
  22 x 45 x 80 patches, 512 text tokens).
- ``wan``: diffusers' ``WanTransformer3DModel`` in Wan 2.1's text-to-video
  configuration (full 3-D self-attention with rotary embeddings computed
  inside, cross attention to text, RMS q/k norms across heads). Full size:
  Wan2.1-T2V-14B (40 layers, 40 heads of 128, 21 x 45 x 80 patches, 512
  text tokens).
- ``ltx``: diffusers' ``LTXVideoTransformer3DModel`` (tokens patched by the
  VAE already, 3-D rotary embeddings from the latent grid, cross attention
  to text with a mask). Full size: LTX-Video (28 layers, 32 heads of 64,
  16 x 16 x 22 latent tokens, 128 text tokens).
- ``timesformer``: transformers' ``TimesformerForVideoClassification``
  (divided space-time attention). Full size: TimeSformer-base (12 layers,
  768 wide, 8 frames of 14 x 14 patches).
- ``axial``: an MSA-style axial-attention model defined here in torch (no
  library ships one for ONNX export): gated row attention along each
  sequence of a multiple alignment, gated column attention across the
  sequences, a feed-forward transition. Full size: 12 layers, 768 wide, 12
  heads, 128 sequences of 1024 tokens.

``--size small`` writes NAME.onnx with its weights inside and, next to it,
NAME.input.INPUT.npy and NAME.output.npy: random inputs and the output torch
computes for them (the reference dsp-run is checked against; ONNX Runtime's
difference from it is printed). ``--size full`` writes the weights as
external data (NAME.onnx.data) and, with ``--reference``, the same files.
``--layers`` overrides the number of layers (for planning at full width).

``--symbolic`` (latte only) exports one model for every square latent size:
the latent's height and width are one symbolic dim of the ONNX input, and
the spatial positional embedding is a table for the largest size cropped to
the input's (as in Stable Diffusion 3) instead of a table computed for one
size. ``dsp-opt --input-shape`` specializes it to a size.

Needs torch, transformers, diffusers and onnxscript in the project's
virtual environment: ``scripts/export-zoo.sh`` installs them and runs this.
"""

import argparse
import os
import sys

import numpy as np
import torch
from torch import nn

OPSET = 18


class AxialAttention(nn.Module):
    """Gated multi-head self-attention along one axis of a
    [batch, rows, cols, dim] grid; the other axis is folded into the batch,
    as axial-attention implementations do."""

    def __init__(self, dim, heads, along_rows):
        super().__init__()
        self.heads = heads
        self.along_rows = along_rows
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.gate = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x):
        h = self.norm(x)
        if not self.along_rows:
            h = h.transpose(1, 2)
        b, r, c, d = h.shape
        q, k, v = (self.qkv(h).reshape(b * r, c, 3, self.heads, d // self.heads)
                   .permute(2, 0, 3, 1, 4))
        o = nn.functional.scaled_dot_product_attention(q, k, v)
        o = o.transpose(1, 2).reshape(b, r, c, d)
        o = self.out(o * torch.sigmoid(self.gate(h)))
        if not self.along_rows:
            o = o.transpose(1, 2)
        return x + o


class AxialBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.row = AxialAttention(dim, heads, along_rows=True)
        self.column = AxialAttention(dim, heads, along_rows=False)
        self.transition = nn.Sequential(nn.LayerNorm(dim),
                                        nn.Linear(dim, 4 * dim), nn.ReLU(),
                                        nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = self.column(self.row(x))
        return x + self.transition(x)


class AxialTransformer(nn.Module):
    """Token embedding, axial blocks and a per-token head over a
    [batch, sequences, positions] grid of tokens."""

    def __init__(self, vocab, dim, heads, layers):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(AxialBlock(dim, heads)
                                    for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


class Call(nn.Module):
    """Calls `model` with named inputs and returns its first output, so that
    the ONNX graph has plain tensor inputs and one output."""

    def __init__(self, model, names, extra=None, pick=None):
        super().__init__()
        self.model = model
        self.names = names
        self.extra = extra or {}
        self.pick = pick

    def forward(self, *inputs):
        kwargs = dict(zip(self.names, inputs))
        if "rotary_cos" in kwargs:
            kwargs["image_rotary_emb"] = (kwargs.pop("rotary_cos"),
                                          kwargs.pop("rotary_sin"))
        out = self.model(**kwargs, **self.extra)
        if self.pick:
            return self.pick(out)
        return out if isinstance(out, torch.Tensor) else out[0]


def build(model_class, config, layers):
    """`model_class` of `config`, with `layers` layers where given."""
    if layers:
        config["num_layers"] = layers
    return model_class(**config)


def latte(size, layers):
    from diffusers import LatteTransformer3DModel
    if size == "small":
        config = dict(num_attention_heads=2, attention_head_dim=16,
                      cross_attention_dim=32, sample_size=8, caption_channels=24,
                      video_length=8, num_layers=4)
        frames, text = 8, 6
    else:
        config = dict(num_attention_heads=16, attention_head_dim=72,
                      cross_attention_dim=1152, sample_size=64,
                      caption_channels=4096, video_length=16, num_layers=28)
        frames, text = 16, 120
    config.update(in_channels=4, out_channels=8, attention_bias=True,
                  patch_size=2, activation_fn="gelu-approximate",
                  num_embeds_ada_norm=1000, norm_type="ada_norm_single",
                  norm_elementwise_affine=False, norm_eps=1e-6)
    model = build(LatteTransformer3DModel, config, layers)
    side = config["sample_size"]
    inputs = {
        "hidden_states": torch.randn(1, 4, frames, side, side),
        "timestep": torch.tensor([500], dtype=torch.int64),
        "encoder_hidden_states": torch.randn(1, text,
                                             config["caption_channels"]),
    }
    return model, inputs, dict(return_dict=False), None


def cogvideox(size, layers, patch_size_t=None):
    """CogVideoX 1.0, or 1.5 with `patch_size_t = 2` (frames patched in
    pairs, no patch bias, rotary embeddings of the "slice" grid)."""
    from diffusers import CogVideoXTransformer3DModel
    from diffusers.models.embeddings import get_3d_rotary_pos_embed
    if size == "small":
        config = dict(num_attention_heads=2, attention_head_dim=16,
                      in_channels=4, out_channels=4, time_embed_dim=32,
                      text_embed_dim=24, num_layers=2, sample_width=8,
                      sample_height=8, sample_frames=13,
                      max_text_seq_length=6)
    elif patch_size_t is None:
        config = dict(num_attention_heads=30, attention_head_dim=64,
                      in_channels=16, out_channels=16, time_embed_dim=512,
                      text_embed_dim=4096, num_layers=30, sample_width=90,
                      sample_height=60, sample_frames=49,
                      max_text_seq_length=226)
    else:
        config = dict(num_attention_heads=48, attention_head_dim=64,
                      in_channels=16, out_channels=16, time_embed_dim=512,
                      text_embed_dim=4096, num_layers=42, sample_width=136,
                      sample_height=80, sample_frames=81,
                      max_text_seq_length=224)
    config.update(patch_size=2, temporal_compression_ratio=4,
                  use_rotary_positional_embeddings=True)
    if patch_size_t:
        config.update(patch_size_t=patch_size_t, patch_bias=False)
    model = build(CogVideoXTransformer3DModel, config, layers)
    frames = (config["sample_frames"] - 1) // 4 + 1
    height, width = config["sample_height"], config["sample_width"]
    grid = (height // 2, width // 2)
    if patch_size_t:
        # The pipeline pads the latent frames to a multiple of the patch.
        frames = -(-frames // patch_size_t) * patch_size_t
        cos, sin = get_3d_rotary_pos_embed(
            config["attention_head_dim"], None, grid, frames // patch_size_t,
            grid_type="slice", max_size=grid)
    else:
        cos, sin = get_3d_rotary_pos_embed(config["attention_head_dim"],
                                           ((0, 0), grid), grid, frames)
    inputs = {
        "hidden_states": torch.randn(1, frames, config["in_channels"], height,
                                     width),
        "encoder_hidden_states": torch.randn(1, config["max_text_seq_length"],
                                             config["text_embed_dim"]),
        "timestep": torch.tensor([500], dtype=torch.int64),
        "rotary_cos": cos,
        "rotary_sin": sin,
    }
    return model, inputs, dict(return_dict=False), None


def cogvideox15(size, layers):
    return cogvideox(size, layers, patch_size_t=2)


def text_mask(length, valid):
    """A tokenizer's attention mask: `valid` tokens, then padding."""
    mask = torch.zeros(1, length, dtype=torch.int64)
    mask[:, :valid] = 1
    return mask


def hunyuan(size, layers):
    from diffusers import HunyuanVideoTransformer3DModel
    if size == "small":
        config = dict(num_attention_heads=2, attention_head_dim=16,
                      num_layers=1, num_single_layers=1, num_refiner_layers=1,
                      text_embed_dim=24, pooled_projection_dim=16,
                      rope_axes_dim=(4, 6, 6), in_channels=4, out_channels=4)
        frames, side, text, valid = 3, 8, 6, 4
    else:
        config = dict(num_attention_heads=24, attention_head_dim=128,
                      num_layers=20, num_single_layers=40,
                      num_refiner_layers=2, text_embed_dim=4096,
                      pooled_projection_dim=768, rope_axes_dim=(16, 56, 56),
                      in_channels=16, out_channels=16)
        frames, side, text, valid = 33, 80, 256, 256
    config.update(patch_size=2, patch_size_t=1, guidance_embeds=True)
    if layers:
        # As many single-stream blocks as dual-stream ones.
        config["num_single_layers"] = layers
    model = build(HunyuanVideoTransformer3DModel, config, layers)
    inputs = {
        "hidden_states": torch.randn(1, config["in_channels"], frames, side,
                                     side),
        "timestep": torch.tensor([500], dtype=torch.int64),
        "encoder_hidden_states": torch.randn(1, text,
                                             config["text_embed_dim"]),
        "encoder_attention_mask": text_mask(text, valid),
        "pooled_projections": torch.randn(1,
                                          config["pooled_projection_dim"]),
        "guidance": torch.tensor([6000.0]),
    }
    return model, inputs, dict(return_dict=False), None


def mochi(size, layers):
    from diffusers import MochiTransformer3DModel
    if size == "small":
        config = dict(num_attention_heads=2, attention_head_dim=16,
                      num_layers=2, pooled_projection_dim=16, in_channels=4,
                      text_embed_dim=24, time_embed_dim=32,
                      max_sequence_length=6)
        frames, side, valid = 3, 8, 4
    else:
        config = dict(num_attention_heads=24, attention_head_dim=128,
                      num_layers=48, pooled_projection_dim=1536,
                      in_channels=12, text_embed_dim=4096, time_embed_dim=256,
                      max_sequence_length=256)
        frames, side, valid = 28, 60, 256
    model = build(MochiTransformer3DModel, config, layers)
    text = config["max_sequence_length"]
    inputs = {
        "hidden_states": torch.randn(1, config["in_channels"], frames, side,
                                     side),
        "encoder_hidden_states": torch.randn(1, text,
                                             config["text_embed_dim"]),
        "timestep": torch.tensor([500], dtype=torch.int64),
        "encoder_attention_mask": text_mask(text, valid),
    }
    return model, inputs, dict(return_dict=False), None


def allegro(size, layers):
    from diffusers import AllegroTransformer3DModel
    from diffusers.models.embeddings import get_3d_rotary_pos_embed_allegro
    if size == "small":
        # Allegro's rotary embeddings split each head in three even parts.
        config = dict(num_attention_heads=2, attention_head_dim=24,
                      num_layers=2, cross_attention_dim=48, caption_channels=24,
                      sample_height=8, sample_width=8, sample_frames=3)
        text = 6
    else:
        config = dict(num_attention_heads=24, attention_head_dim=96,
                      num_layers=32, cross_attention_dim=2304,
                      caption_channels=4096, sample_height=90,
                      sample_width=160, sample_frames=22)
        text = 512
    config.update(patch_size=2, patch_size_t=1, in_channels=4,
                  out_channels=4)
    model = build(AllegroTransformer3DModel, config, layers)
    frames = config["sample_frames"]
    height, width = config["sample_height"], config["sample_width"]
    grid = (height // 2, width // 2)
    # The rotary tables and positions as AllegroPipeline prepares them; they
    # depend on the shapes only, so they are constants of the graph.
    freqs_t, freqs_h, freqs_w, grid_t, grid_h, grid_w = (
        get_3d_rotary_pos_embed_allegro(
            config["attention_head_dim"], ((0, 0), grid), grid, frames,
            interpolation_scale=(model.config.interpolation_scale_t,
                                 model.config.interpolation_scale_h,
                                 model.config.interpolation_scale_w)))
    positions = torch.cartesian_prod(grid_t.long(), grid_h.long(),
                                     grid_w.long())
    positions = positions.reshape(-1, 3).transpose(0, 1).reshape(3, 1, -1)
    rotary = ((freqs_t, freqs_h, freqs_w), tuple(positions.contiguous()))
    inputs = {
        "hidden_states": torch.randn(1, 4, frames, height, width),
        "encoder_hidden_states": torch.randn(1, text,
                                             config["caption_channels"]),
        "timestep": torch.tensor([500], dtype=torch.int64),
    }
    return model, inputs, dict(image_rotary_emb=rotary, return_dict=False), None


def wan(size, layers):
    from diffusers import WanTransformer3DModel
    if size == "small":
        config = dict(num_attention_heads=2, attention_head_dim=16,
                      in_channels=4, out_channels=4, text_dim=24, freq_dim=32,
                      ffn_dim=64, num_layers=2, rope_max_seq_len=32)
        frames, height, width, text = 3, 8, 8, 6
    else:
        config = dict(num_attention_heads=40, attention_head_dim=128,
                      in_channels=16, out_channels=16, text_dim=4096,
                      freq_dim=256, ffn_dim=13824, num_layers=40,
                      rope_max_seq_len=1024)
        frames, height, width, text = 21, 90, 160, 512
    config.update(patch_size=(1, 2, 2), cross_attn_norm=True,
                  qk_norm="rms_norm_across_heads")
    model = build(WanTransformer3DModel, config, layers)
    inputs = {
        "hidden_states": torch.randn(1, config["in_channels"], frames, height,
                                     width),
        "timestep": torch.tensor([500], dtype=torch.int64),
        "encoder_hidden_states": torch.randn(1, text, config["text_dim"]),
    }
    return model, inputs, dict(return_dict=False), None


def ltx(size, layers):
    from diffusers import LTXVideoTransformer3DModel
    if size == "small":
        config = dict(in_channels=8, out_channels=8, num_attention_heads=2,
                      attention_head_dim=16, cross_attention_dim=32,
                      num_layers=2, caption_channels=24)
        frames, height, width, text, valid = 3, 4, 4, 6, 4
    else:
        config = dict(in_channels=128, out_channels=128,
                      num_attention_heads=32, attention_head_dim=64,
                      cross_attention_dim=2048, num_layers=28,
                      caption_channels=4096)
        frames, height, width, text, valid = 16, 16, 22, 128, 128
    config.update(patch_size=1, patch_size_t=1)
    model = build(LTXVideoTransformer3DModel, config, layers)
    inputs = {
        "hidden_states": torch.randn(1, frames * height * width,
                                     config["in_channels"]),
        "encoder_hidden_states": torch.randn(1, text,
                                             config["caption_channels"]),
        "timestep": torch.tensor([500], dtype=torch.int64),
        "encoder_attention_mask": text_mask(text, valid),
    }
    # The latent grid and LTXPipeline's rotary interpolation scale (VAE
    # compression 8 in time at 25 frames per second, 32 in space).
    extra = dict(num_frames=frames, height=height, width=width,
                 rope_interpolation_scale=(8 / 25, 32, 32), return_dict=False)
    return model, inputs, extra, None


def timesformer(size, layers):
    from transformers import (TimesformerConfig,
                              TimesformerForVideoClassification)
    if size == "small":
        config = TimesformerConfig(image_size=32, patch_size=8, num_frames=8,
                                   hidden_size=32, num_hidden_layers=2,
                                   num_attention_heads=2, intermediate_size=64,
                                   num_labels=5)
    else:
        config = TimesformerConfig(num_labels=400)
    if layers:
        config.num_hidden_layers = layers
    model = TimesformerForVideoClassification(config)
    inputs = {"pixel_values": torch.randn(1, config.num_frames, 3,
                                          config.image_size,
                                          config.image_size)}
    return model, inputs, {}, lambda out: out.logits


def axial(size, layers):
    if size == "small":
        vocab, dim, heads, depth, rows, cols = 12, 32, 2, 2, 8, 16
    else:
        vocab, dim, heads, depth, rows, cols = 33, 768, 12, 12, 128, 1024
    model = AxialTransformer(vocab, dim, heads, layers or depth)
    inputs = {"tokens": torch.randint(0, vocab, (1, rows, cols))}
    return model, inputs, {}, None


MODELS = {"latte": latte, "cogvideox": cogvideox, "cogvideox15": cogvideox15,
          "hunyuan": hunyuan, "mochi": mochi, "allegro": allegro, "wan": wan,
          "ltx": ltx, "timesformer": timesformer, "axial": axial}


def strip_metadata(path):
    """Drops the exporter's per-node metadata (stack traces with the paths
    of this machine's packages, module names) and doc strings; the weights
    file, if any, is left as it is."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    del model.metadata_props[:]
    model.doc_string = ""
    for graph in [model.graph] + [f for f in model.functions]:
        for node in graph.node:
            del node.metadata_props[:]
            node.doc_string = ""
    onnx.save(model, path)


def drop_noop_squeezes(path):
    """torch's squeeze(dim) leaves a tensor whose dim is not 1 as it is, but
    the dynamo exporter emits an ONNX Squeeze of that dim, which ONNX
    rejects (Allegro squeezes [batch, tokens, channels] on dim 1): such a
    Squeeze becomes the Identity it is in torch."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(path, load_external_data=False)
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {value.name: [dim.dim_value if dim.HasField("dim_value") else None
                           for dim in value.type.tensor_type.shape.dim]
              for value in list(inferred.graph.value_info) +
              list(inferred.graph.input)}
    constants = {tensor.name: numpy_helper.to_array(tensor)
                 for tensor in model.graph.initializer
                 if tensor.data_location != onnx.TensorProto.EXTERNAL}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute[0].name == "value":
            constants[node.output[0]] = numpy_helper.to_array(
                node.attribute[0].t)
    changed = False
    for node in model.graph.node:
        if node.op_type != "Squeeze" or len(node.input) < 2:
            continue
        shape, axes = shapes.get(node.input[0]), constants.get(node.input[1])
        if shape is None or axes is None:
            continue
        if all(shape[axis] not in (1, None) for axis in axes.flatten()):
            node.op_type = "Identity"
            del node.input[1:]
            changed = True
    if changed:
        onnx.save(model, path)


def resolution_free_latte(model):
    """Makes Latte `model` take square latents of any even side up to 4
    times its sample size; returns the dynamic shapes of its export."""
    from diffusers.models.embeddings import PatchEmbed
    config = model.config
    largest = 4 * config.sample_size // config.patch_size
    model.pos_embed = PatchEmbed(
        height=config.sample_size, width=config.sample_size,
        patch_size=config.patch_size, in_channels=config.in_channels,
        embed_dim=model.pos_embed.proj.out_channels,
        pos_embed_max_size=largest)
    side = torch.export.Dim("side", min=2, max=largest)
    patches = config.patch_size * side
    # One entry for Call's *inputs: hidden_states [B, C, F, H, W].
    return (({3: patches, 4: patches}, None, None),)


def randomize(model, std):
    """Random weights with a spread that keeps activations lively: the
    libraries zero-initialize some projections (AdaLN, output layers), which
    would hide wrong results behind zeros."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, std if parameter.dim() > 1 else 0.1)


def second_oracle(path, feeds):
    """The model's output by ONNX Runtime or, for a model it lacks a kernel
    for (Where on bools, say), by ONNX's reference evaluator."""
    import onnxruntime
    try:
        session = onnxruntime.InferenceSession(path)
        return "ONNX Runtime", session.run(None, feeds)[0]
    except onnxruntime.capi.onnxruntime_pybind11_state.NotImplemented as error:
        print(f"ONNX Runtime cannot run the model ({error}); using ONNX's "
              "reference evaluator")
    from onnx.reference import ReferenceEvaluator
    return "ONNX's reference evaluator", ReferenceEvaluator(path).run(
        None, feeds)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), required=True)
    parser.add_argument("--size", choices=["small", "full"], default="small")
    parser.add_argument("--layers", type=int, default=0,
                        help="number of layers (default: the model's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference", action="store_true",
                        help="also write inputs and torch's output for a "
                        "full-size model")
    parser.add_argument("--symbolic", action="store_true",
                        help="latte only: the latent's height and width "
                        "symbolic, for any square size")
    parser.add_argument("-o", "--output", required=True,
                        help="the .onnx file to write")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    model, inputs, extra, pick = MODELS[args.model](args.size, args.layers)
    dynamic_shapes = None
    if args.symbolic:
        if args.model != "latte":
            parser.error("--symbolic is for --model latte")
        dynamic_shapes = resolution_free_latte(model)
    model.eval()
    if args.size == "small":
        randomize(model, 0.2)
    call = Call(model, list(inputs), extra, pick).eval()
    values = tuple(inputs.values())
    small = args.size == "small"
    reference = small or args.reference
    if reference:
        with torch.no_grad():
            expected = call(*values)

    stem = os.path.splitext(args.output)[0]
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with torch.no_grad():
        program = torch.onnx.export(call, values, dynamo=True,
                                    opset_version=OPSET,
                                    input_names=list(inputs),
                                    output_names=["output"],
                                    dynamic_shapes=dynamic_shapes)
    program.save(args.output, external_data=not small)
    strip_metadata(args.output)
    drop_noop_squeezes(args.output)
    print(f"wrote {args.output}"
          f"{' and its .data' if not small else ''}: "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M "
          "parameters")
    if not reference:
        return 0

    for name, value in inputs.items():
        np.save(f"{stem}.input.{name}.npy", value.numpy())
    np.save(f"{stem}.output.npy", expected.numpy())
    oracle, got = second_oracle(args.output,
                                {k: v.numpy() for k, v in inputs.items()})
    print(f"output {tuple(expected.shape)}; {oracle} max abs difference "
          f"from torch {np.abs(got - expected.numpy()).max():.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
