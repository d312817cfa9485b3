"""Per-rank blocks of a value kept sharded between runs, and the denoising
loop of examples/denoise.py built on them."""

import importlib.util

import numpy as np
import pytest

import dsp
from conftest import EXAMPLES

pytestmark = pytest.mark.skipif(
    not dsp.has_compiler,
    reason="this dsp package has no compiler (runtime-only build) to pin "
    "Wan's output to its input")

spec = importlib.util.spec_from_file_location("denoise",
                                              EXAMPLES / "denoise.py")
denoise = importlib.util.module_from_spec(spec)
spec.loader.exec_module(denoise)

_programs = {}


def session(ranks):
    if ranks not in _programs:
        _programs[ranks] = denoise.compile_model(ranks)
    return dsp.Session(_programs[ranks])


@pytest.fixture(scope="module")
def inputs():
    return {**denoise.example_inputs(),
            "timestep": np.load(EXAMPLES / "wan_small.input.timestep.npy")}


def test_split_and_join_are_inverse(inputs):
    latent = inputs["hidden_states"]
    group = session(4)
    blocks = group.split_blocks("hidden_states", latent)
    assert len(blocks) == 4
    assert all(block.shape == blocks[0].shape for block in blocks)
    assert blocks[0].size * 4 == latent.size
    np.testing.assert_array_equal(group.join_blocks("hidden_states", blocks),
                                  latent)
    assert group.statistics["split"] == {"scattered_bytes": latent.nbytes,
                                         "gathered_bytes": latent.nbytes}


def test_kept_output_stays_on_the_ranks(inputs):
    gathered = session(4).run(inputs)["output"]
    group = session(4)
    assert group.run(inputs, gather=False) == {}
    blocks = group.read_blocks("output")
    np.testing.assert_array_equal(group.join_blocks("hidden_states", blocks),
                                  gathered)


def test_carry_matches_binding_the_blocks(inputs):
    carried = session(4)
    carried.run(inputs, gather=False)
    carried.carry("output", "hidden_states")
    bound = session(4)
    bound.run(inputs, gather=False)
    bound.bind_blocks("hidden_states", bound.read_blocks("output"))
    np.testing.assert_array_equal(carried.run({})["output"],
                                  bound.run({})["output"])
    assert carried.statistics["carry"]["bytes_between_ranks"] == 0


def test_wrong_blocks_are_named(inputs):
    group = session(4)
    blocks = group.split_blocks("hidden_states", inputs["hidden_states"])
    with pytest.raises(dsp.RunError, match=r"one block per rank \(4\), got 3"):
        group.bind_blocks("hidden_states", blocks[:3])
    with pytest.raises(dsp.RunError,
                       match=r"no output named 'latent' \(outputs: 'output'\)"):
        group.read_blocks("latent")
    with pytest.raises(dsp.RunError, match=r"is f32 \[1,4,3,8,8\], got"):
        group.split_blocks("hidden_states", inputs["hidden_states"][0])


def test_denoising_on_four_ranks_matches_one(inputs):
    noise = inputs["hidden_states"]
    conditions = {"encoder_hidden_states": inputs["encoder_hidden_states"]}
    latent, per_step = denoise.denoise(session(4), noise, conditions, 3)
    reference, _ = denoise.denoise(session(1), noise, conditions, 3)
    # The conditions, bound whole once, are split at the first step if the
    # plan splits them; the latent never is.
    assert per_step[0]["split_bytes"] in (
        0, inputs["encoder_hidden_states"].nbytes)
    assert [step["split_bytes"] for step in per_step[1:]] == [0, 0]
    assert all(step["collective_bytes_per_rank"] > 0 for step in per_step)
    assert np.max(np.abs(latent - reference)) < 1e-4
    assert not np.allclose(latent, noise)
