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
    if layers:
        config["num_layers"] = layers
    model = LatteTransformer3DModel(**config)
    side = config["sample_size"]
    inputs = {
        "hidden_states": torch.randn(1, 4, frames, side, side),
        "timestep": torch.tensor([500], dtype=torch.int64),
        "encoder_hidden_states": torch.randn(1, text,
                                             config["caption_channels"]),
    }
    return model, inputs, dict(return_dict=False), None


def cogvideox(size, layers):
    from diffusers import CogVideoXTransformer3DModel
    from diffusers.models.embeddings import get_3d_rotary_pos_embed
    if size == "small":
        config = dict(num_attention_heads=2, attention_head_dim=16,
                      in_channels=4, out_channels=4, time_embed_dim=32,
                      text_embed_dim=24, num_layers=2, sample_width=8,
                      sample_height=8, sample_frames=13,
                      max_text_seq_length=6)
    else:
        config = dict(num_attention_heads=30, attention_head_dim=64,
                      in_channels=16, out_channels=16, time_embed_dim=512,
                      text_embed_dim=4096, num_layers=30, sample_width=90,
                      sample_height=60, sample_frames=49,
                      max_text_seq_length=226)
    config.update(patch_size=2, temporal_compression_ratio=4,
                  use_rotary_positional_embeddings=True)
    if layers:
        config["num_layers"] = layers
    model = CogVideoXTransformer3DModel(**config)
    frames = (config["sample_frames"] - 1) // 4 + 1
    height, width = config["sample_height"], config["sample_width"]
    grid = (height // 2, width // 2)
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


MODELS = {"latte": latte, "cogvideox": cogvideox, "timesformer": timesformer,
          "axial": axial}


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


def randomize(model, std):
    """Random weights with a spread that keeps activations lively: the
    libraries zero-initialize some projections (AdaLN, output layers), which
    would hide wrong results behind zeros."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, std if parameter.dim() > 1 else 0.1)


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
    parser.add_argument("-o", "--output", required=True,
                        help="the .onnx file to write")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    model, inputs, extra, pick = MODELS[args.model](args.size, args.layers)
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
                                    output_names=["output"])
    program.save(args.output, external_data=not small)
    strip_metadata(args.output)
    print(f"wrote {args.output}"
          f"{' and its .data' if not small else ''}: "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M "
          "parameters")
    if not reference:
        return 0

    for name, value in inputs.items():
        np.save(f"{stem}.input.{name}.npy", value.numpy())
    np.save(f"{stem}.output.npy", expected.numpy())
    import onnxruntime
    session = onnxruntime.InferenceSession(args.output)
    (got,) = session.run(None, {k: v.numpy() for k, v in inputs.items()})
    print(f"output {tuple(expected.shape)}; ONNX Runtime max abs difference "
          f"from torch {np.abs(got - expected.numpy()).max():.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
