"""Activation capture checked against the model's own forward pass and hand-run cells.

Tiny 2-layer networks on a real miscFolk tune: the top layer must equal what `CharRNN.forward`
returns, every layer's last state must equal the fused module's final state, and the LSTM cell
sequence must equal a step-by-step `torch.lstm_cell` run.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.activations import Activations, ActivationsError, CaptureCancelled, capture
from models.errors import EngineError

ARCHS = ["lstm", "gru", "rnn"]


@pytest.fixture
def tune(folk_texts) -> str:
    return folk_texts[3][:300]


def _forward(model, tokenizer, text):
    ids = torch.as_tensor(tokenizer.encode(text, start=True)).unsqueeze(0)
    with torch.no_grad():
        return model(ids, return_hidden=True)  # logits (1, T+1, V), state, top outputs


@pytest.mark.parametrize("arch", ARCHS)
def test_shapes_names_and_dtypes(arch, tiny_model, folk_tokenizer, tune):
    model = tiny_model(arch=arch, hidden=24, layers=2)
    acts = capture(model, folk_tokenizer, tune)
    kinds = ["hidden", "cell"] if arch == "lstm" else ["hidden"]
    expected = [f"layer{k}.{kind}" for k in range(2) for kind in kinds]
    assert acts.state_keys() == expected
    assert acts.layers == 2
    for key in expected:
        assert acts[key].shape == (len(tune), 24)
        assert acts[key].dtype == np.float32
    assert acts["probs"].shape == (len(tune), len(folk_tokenizer))
    np.testing.assert_allclose(acts["probs"].sum(axis=1), 1.0, rtol=1e-5)
    assert acts.text == tune and acts.vocab == folk_tokenizer.vocab and acts.arch == arch


@pytest.mark.parametrize("arch", ARCHS)
def test_top_layer_and_probs_equal_the_models_forward_pass(arch, tiny_model, folk_tokenizer, tune):
    model = tiny_model(arch=arch, hidden=24, layers=2, seed=3)
    acts = capture(model, folk_tokenizer, tune)
    logits, state, out = _forward(model, folk_tokenizer, tune)
    # Row i is the state after reading tune[i]; the forward pass's row 0 is after <start>.
    np.testing.assert_allclose(acts["layer1.hidden"], out[0, 1:].numpy(), atol=1e-6)
    probs = torch.softmax(logits[0, 1:], dim=-1).numpy()
    np.testing.assert_allclose(acts["probs"], probs, atol=1e-6)
    # Every layer's last row is the fused module's final state for that layer.
    h = state[0] if arch == "lstm" else state
    for layer in range(2):
        np.testing.assert_allclose(acts[f"layer{layer}.hidden"][-1], h[layer, 0], atol=1e-6)
        if arch == "lstm":
            np.testing.assert_allclose(
                acts[f"layer{layer}.cell"][-1], state[1][layer, 0], atol=1e-5
            )


@pytest.mark.parametrize("arch", ARCHS)
def test_every_step_of_every_layer_equals_a_hand_run_cell(arch, tiny_model, folk_tokenizer, tune):
    model = tiny_model(arch=arch, hidden=16, layers=2, seed=5)
    text = tune[:80]
    acts = capture(model, folk_tokenizer, text)
    ids = torch.as_tensor(folk_tokenizer.encode(text, start=True))
    rnn = model.rnn
    with torch.no_grad():
        x = model.inputs(ids.unsqueeze(0))[0]  # (T+1, E)
        for layer in range(2):
            w = [
                getattr(rnn, f"{n}_l{layer}")
                for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            ]
            h = torch.zeros(1, 16)
            c = torch.zeros(1, 16)
            hs, cs = [], []
            for t in range(x.shape[0]):
                if arch == "lstm":
                    h, c = torch.lstm_cell(x[t : t + 1], (h, c), *w)
                elif arch == "gru":
                    h = torch.gru_cell(x[t : t + 1], h, *w)
                else:
                    h = torch.rnn_tanh_cell(x[t : t + 1], h, *w)
                hs.append(h[0])
                cs.append(c[0])
            hidden = torch.stack(hs)
            np.testing.assert_allclose(acts[f"layer{layer}.hidden"], hidden[1:], atol=1e-5)
            if arch == "lstm":
                np.testing.assert_allclose(
                    acts[f"layer{layer}.cell"], torch.stack(cs)[1:], atol=1e-5
                )
            x = hidden


def test_unknown_characters_keep_one_row_per_character(tiny_model, folk_tokenizer):
    model = tiny_model(arch="lstm")
    text = "K:G\nG€AB|"  # the euro sign is not in the folk vocabulary: read as <unk>
    acts = capture(model, folk_tokenizer, text)
    assert acts["layer0.hidden"].shape[0] == len(text)


def test_npz_round_trip_keeps_arrays_text_and_vocabulary(
    tmp_path, tiny_model, folk_tokenizer, tune
):
    acts = capture(tiny_model(arch="lstm", layers=2), folk_tokenizer, tune)
    path = tmp_path / "acts.npz"
    acts.save_npz(path)
    with np.load(path, allow_pickle=False) as raw:
        assert {"layer0.hidden", "layer0.cell", "layer1.hidden", "layer1.cell", "probs"} <= set(
            raw.files
        )
    back = Activations.load_npz(path)
    assert back.text == tune and back.vocab == folk_tokenizer.vocab and back.arch == "lstm"
    assert back.state_keys() == acts.state_keys()
    for key, arr in acts.arrays.items():
        np.testing.assert_array_equal(back[key], arr)


def test_load_npz_rejects_files_that_are_not_activations(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(ActivationsError, match=r"bad\.npz"):
        Activations.load_npz(bad)
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros((3, 3)))
    with pytest.raises(ActivationsError, match="no text"):
        Activations.load_npz(other)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __text__=np.array("ab"), __vocab__=np.array(["a"]), x=np.array([{}, {}]))
    with pytest.raises(ActivationsError):
        Activations.load_npz(pickled)


def test_progress_is_reported_and_a_stop_request_cancels(tiny_model, folk_tokenizer, tune):
    model = tiny_model(arch="lstm", layers=2)
    seen: list[float] = []
    capture(model, folk_tokenizer, tune, progress=lambda f, what: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 1  # let the first layer start, stop at the next check

    with pytest.raises(CaptureCancelled):
        capture(model, folk_tokenizer, tune, should_stop=stop)


def test_capture_runs_on_one_thread_and_restores_the_setting(tiny_model, folk_tokenizer, tune):
    model = tiny_model(arch="gru")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen: list[int] = []
        capture(
            model, folk_tokenizer, tune, progress=lambda f, w: seen.append(torch.get_num_threads())
        )
        assert set(seen) == {1}
        assert torch.get_num_threads() == 2
        capture(
            model,
            folk_tokenizer,
            tune,
            threads=None,
            progress=lambda f, w: seen.append(torch.get_num_threads()),
        )
        assert seen[-1] == 2
    finally:
        torch.set_num_threads(before)
    with pytest.raises(EngineError, match="model is on cpu"):
        capture(model, folk_tokenizer, tune, device="meta")
