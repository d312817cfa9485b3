#!/usr/bin/env python3
"""Writes tsf_b2_t6.onnx (a 3-layer TimeSformer, hidden 32, S=16 patches
plus the CLS token, batch 2 of 6 frames), its input and the output PyTorch
computes for it. Needs torch and transformers; the outputs are committed."""
import numpy as np
import torch
from transformers import TimesformerConfig, TimesformerModel

torch.manual_seed(0)
config = TimesformerConfig(image_size=32, patch_size=8, num_frames=6,
                           hidden_size=32, num_hidden_layers=3,
                           num_attention_heads=2, intermediate_size=128)
model = TimesformerModel(config).eval()
pixels = torch.randn(2, 6, 3, 32, 32)
with torch.no_grad():
    output = model(pixel_values=pixels).last_hidden_state
torch.onnx.export(model, (pixels,), "tsf_b2_t6.onnx",
                  input_names=["pixel_values"],
                  output_names=["last_hidden_state"], opset_version=17,
                  dynamo=False)
np.save("tsf_b2_t6.input.npy", pixels.numpy())
np.save("tsf_b2_t6.output.npy", output.numpy())
