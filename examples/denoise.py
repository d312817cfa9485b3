"""A denoising loop whose latent stays on the ranks between steps.

Compiles Wan (examples/wan_small.onnx, a velocity model whose output has the
shape of its hidden_states input) for 4 ranks with keep-sharded, which pins
the output's sharding to hidden_states', and runs K steps of the Euler
sampler of flow matching: sigmas fall evenly from 1 (noise) to 0, each step
feeds the timestep sigma * 1000 (as Wan's pipeline does; the zoo export
feeds 500 as int64) and moves the latent by (sigma_next - sigma) * v, v
being the model's output. The latent is split once, at the start; every
step reads the velocity as one block per rank, updates each block in numpy
(the update is elementwise, so a block needs nothing from another rank)
and binds it back as that rank's block of hidden_states. Only the final
latent is put together. The conditions are bound whole at the first step
(split then, if the plan splits them) and keep their blocks after it. The
same loop at 1 rank is the reference.

    PYTHONPATH=build/python .venv/bin/python examples/denoise.py --steps 10
"""

import argparse
import pathlib

import numpy as np

import dsp

EXAMPLES = pathlib.Path(__file__).resolve().parent
MODEL = EXAMPLES / "wan_small.onnx"
LATENT, VELOCITY = "hidden_states", "output"
# Wan's scheduler has 1000 training timesteps: the timestep is sigma * 1000.
TRAIN_TIMESTEPS = 1000


def compile_model(ranks):
    return dsp.compile(MODEL, ranks=ranks,
                       keep_sharded=f"{VELOCITY}:{LATENT}")


def example_inputs():
    return {name: np.load(EXAMPLES / f"wan_small.input.{name}.npy")
            for name in (LATENT, "encoder_hidden_states")}


def timestep(sigma):
    return np.array([round(sigma * TRAIN_TIMESTEPS)], dtype=np.int64)


def denoise(session, noise, conditions, steps):
    """Runs `steps` Euler steps from `noise` with the other inputs
    `conditions`; returns the final latent (whole) and, per step, the
    collective bytes per rank and the bytes of whole values split or put
    together during it (at the first step, the conditions' where the plan
    splits them)."""
    sigmas = np.linspace(1.0, 0.0, steps + 1)
    latent = session.split_blocks(LATENT, noise)
    # Bound at the first step, the conditions keep their values after it.
    feeds = dict(conditions)
    per_step = []
    for sigma, sigma_next in zip(sigmas[:-1], sigmas[1:]):
        before = session.statistics["split"]
        session.bind_blocks(LATENT, latent)
        session.run({**feeds, "timestep": timestep(sigma)}, gather=False)
        feeds = {}
        velocity = session.read_blocks(VELOCITY)
        latent = [x + np.float32(sigma_next - sigma) * v
                  for x, v in zip(latent, velocity)]
        statistics = session.statistics
        per_step.append({
            "collective_bytes_per_rank":
                statistics["totals"]["bytes_per_rank"],
            "split_bytes": sum(statistics["split"][key] - before[key]
                               for key in before),
        })
    return session.join_blocks(LATENT, latent), per_step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--ranks", type=int, default=4)
    args = parser.parse_args()
    inputs = example_inputs()
    noise = inputs.pop(LATENT)

    session = dsp.Session(compile_model(args.ranks))
    latent, per_step = denoise(session, noise, inputs, args.steps)
    for step, figures in enumerate(per_step):
        print(f"step {step}: {figures['collective_bytes_per_rank']} bytes "
              f"per rank in collectives, {figures['split_bytes']} bytes "
              f"split or gathered")
    split = session.statistics["split"]
    print(f"split: {split['scattered_bytes']} bytes (the latent once, the "
          f"conditions if the plan splits them); gathered: "
          f"{split['gathered_bytes']} bytes (the final latent)")

    reference, _ = denoise(dsp.Session(compile_model(1)), noise, inputs,
                           args.steps)
    difference = float(np.max(np.abs(latent - reference)))
    print(f"{args.ranks} ranks against 1 rank: max abs diff {difference:.3g}")
    assert per_step[0]["split_bytes"] <= sum(a.nbytes for a in inputs.values())
    assert all(figures["split_bytes"] == 0 for figures in per_step[1:])
    assert difference < 1e-4, difference


if __name__ == "__main__":
    main()
