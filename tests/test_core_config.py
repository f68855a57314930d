"""Tier 1: configs and presets. Every bad input names the file and the field in one line.

The messages are asserted word for word where they tell the user what to do, since a
message is the interface a user sees when a hand-typed config is wrong.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from backprop_core.config import (
    Config,
    load_config,
    load_preset,
    parse_config,
    preset_names,
    preset_text,
)
from backprop_core.errors import BackpropError
from backprop_core.trace import run

GOOD = """\
[network]
sizes = [3, 2, 1]
activations = ["tanh", "sigmoid"]
loss = "sse"
bias = true

[init]
seed = 7
weights = [[[0.1, -0.2, 0.3], [0.4, 0.0, -0.5]], [[0.6, -0.7]]]
biases = [[0.1, -0.1], [0.2]]

[data]
x = [[1.0, 0.5, -1.0], [0.0, 1.0, 2.0]]
y = [[1.0], [0.0]]

[train]
learning_rate = 0.1
iterations = 100
"""


def write(tmp_path: Path, text: str, name: str = "net.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_issue_example_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.sizes == (3, 2, 1)
    assert config.weights[0].shape == (2, 3)  # W^(1) is n_1 × n_0
    assert config.weights[0][1, 2] == -0.5  # weights[l-1][j][k]: joins k → j
    assert config.biases[1].tolist() == [[0.2]]  # b^(l) is a column
    assert config.x.shape == (3, 2)  # samples are columns
    assert config.x[:, 1].tolist() == [0.0, 1.0, 2.0]
    assert config.y.shape == (1, 2)
    assert config.every == 1
    assert config.name == "net"  # from the file name when the file gives none


def test_missing_init_values_are_drawn_from_the_seed(tmp_path: Path) -> None:
    text = GOOD.replace("weights = [[[0.1, -0.2, 0.3], [0.4, 0.0, -0.5]], [[0.6, -0.7]]]\n", "")
    text = text.replace("biases = [[0.1, -0.1], [0.2]]\n", "")
    a = load_config(write(tmp_path, text, "a.toml"))
    b = load_config(write(tmp_path, text, "b.toml"))
    assert all(np.array_equal(p, q) for p, q in zip(a.weights, b.weights, strict=True))
    other = load_config(write(tmp_path, text.replace("seed = 7", "seed = 8"), "c.toml"))
    assert not np.array_equal(a.weights[0], other.weights[0])
    assert a.weights[0].shape == (2, 3) and a.biases[0].shape == (2, 1)


def test_bias_false_gives_zero_biases(tmp_path: Path) -> None:
    text = GOOD.replace("bias = true", "bias = false").replace(
        "biases = [[0.1, -0.1], [0.2]]\n", ""
    )
    config = load_config(write(tmp_path, text))
    assert not config.bias
    assert [b.tolist() for b in config.biases] == [[[0.0], [0.0]], [[0.0]]]
    assert "biases" not in config.to_dict()["init"]


def test_one_activation_for_all_layers(tmp_path: Path) -> None:
    text = GOOD.replace('activations = ["tanh", "sigmoid"]', 'activations = "sigmoid"')
    assert load_config(write(tmp_path, text)).activations == ("sigmoid", "sigmoid")


def test_config_round_trips_through_its_dict() -> None:
    for name in preset_names():
        config = load_preset(name)
        again = parse_config(config.to_dict(), source="dict")
        assert again == config
        assert all(np.array_equal(p, q) for p, q in zip(again.x, config.x, strict=True))


# --- presets --------------------------------------------------------------------------


def test_the_presets_the_issue_names_exist() -> None:
    assert {"seed-scalar", "seed-chain", "delta-demo", "xor", "batch-demo"} <= set(preset_names())


def test_seed_scalar_is_the_question_exactly() -> None:
    c = load_preset("seed-scalar")
    assert c.sizes == (1, 1) and c.activations == ("identity",) and c.loss == "sse"
    assert not c.bias
    assert c.x.tolist() == [[5.7]] and c.weights[0].tolist() == [[-23.1]]
    assert c.y.tolist() == [[50.1]]
    assert c.learning_rate == 0.007 and c.iterations == 20


def test_seed_chain_is_the_two_weight_extension() -> None:
    c = load_preset("seed-chain")
    assert c.sizes == (1, 1, 1) and c.activations == ("identity", "identity")
    assert c.loss == "sse" and not c.bias
    trace = run(c)
    outputs = [s.layers[-1].a[0, 0] for s in trace.steps]
    assert outputs == sorted(outputs)  # climbs to y without overshoot, as the file says
    assert trace.steps[-1].loss_after < 1e-6


def test_xor_learns_xor() -> None:
    trace = run(load_preset("xor"))
    assert trace.steps[-1].loss_after < 0.05
    out = trace.steps[-1].layers[-1].a
    assert ((out > 0.5) == (trace.config.y > 0.5)).all()


def test_batch_demo_is_a_batch() -> None:
    assert load_preset("batch-demo").x.shape[1] >= 3


@pytest.mark.parametrize("name", preset_names())
def test_preset_text_is_a_config_that_loads(name: str, tmp_path: Path) -> None:
    path = write(tmp_path, preset_text(name), f"{name}.toml")
    assert load_config(path) == load_preset(name)
    assert load_preset(name).description  # one line for `backprop presets`


def test_unknown_preset() -> None:
    with pytest.raises(BackpropError, match=r"preset 'nope': no such preset; choose one of "):
        load_preset("nope")


# --- bad input ------------------------------------------------------------------------

BAD: list[tuple[str, str, str]] = [
    # (what is wrong, edits to GOOD as "old>>>new" joined by "|||", the expected message)
    (
        "unknown activation",
        'activations = ["tanh", "sigmoid"]>>>activations = ["tanh", "sigmod"]',
        r"network\.activations\[1\]: unknown activation 'sigmod'; choose one of identity, "
        r"sigmoid, tanh, relu, leaky_relu, softmax",
    ),
    (
        "activation that is not a name",
        'activations = ["tanh", "sigmoid"]>>>activations = ["tanh", 3]',
        r"network\.activations\[1\]: unknown activation 3",
    ),
    (
        "activation list that is a list of lists",
        'activations = ["tanh", "sigmoid"]>>>activations = [["tanh"], ["sigmoid"]]',
        r"network\.activations\[0\]: unknown activation \['tanh'\]",
    ),
    (
        "wrong number of activations",
        'activations = ["tanh", "sigmoid"]>>>activations = ["tanh"]',
        r"network\.activations: needs one activation per layer after the input \(2\)",
    ),
    (
        "unknown loss",
        'loss = "sse">>>loss = "l2"',
        r"network\.loss: unknown loss 'l2'; choose one of sse, half_sse, mse, cross_entropy",
    ),
    ("loss that is a table", 'loss = "sse">>>loss = {a = 1}', r"network\.loss: unknown loss"),
    (
        "softmax in a hidden layer",
        'activations = ["tanh", "sigmoid"]>>>activations = ["softmax", "sigmoid"]',
        r"network\.activations: softmax is only allowed on the output layer",
    ),
    (
        "softmax without cross-entropy",
        'activations = ["tanh", "sigmoid"]>>>activations = ["tanh", "softmax"]',
        r'network\.loss: a softmax output needs loss = "cross_entropy"',
    ),
    (
        "cross-entropy after tanh",
        'loss = "sse">>>loss = "cross_entropy"|||'
        'activations = ["tanh", "sigmoid"]>>>activations = ["sigmoid", "tanh"]',
        r"network\.loss: cross_entropy needs a sigmoid or softmax output layer, got 'tanh'",
    ),
    (
        "sizes that are not positive",
        "sizes = [3, 2, 1]>>>sizes = [3, 0, 1]",
        r"network\.sizes: must list at least two positive whole numbers, input size first",
    ),
    ("sizes of one layer", "sizes = [3, 2, 1]>>>sizes = [3]", r"network\.sizes: must list"),
    ("bias not a boolean", "bias = true>>>bias = 1", r"network\.bias: must be true or false"),
    (
        "weights that disagree with sizes",
        "sizes = [3, 2, 1]>>>sizes = [3, 4, 1]",
        r"init\.weights\[0\]: W\^\(1\) must be 4×3 \(n_1 rows, n_0 columns\) for sizes "
        r"\[3, 4, 1\], got 2×3",
    ),
    (
        "too few weight matrices",
        "weights = [[[0.1, -0.2, 0.3], [0.4, 0.0, -0.5]], [[0.6, -0.7]]]>>>"
        "weights = [[[0.1, -0.2, 0.3], [0.4, 0.0, -0.5]]]",
        r"init\.weights: needs one matrix per layer \(2\)",
    ),
    (
        "ragged weight matrix",
        "[0.4, 0.0, -0.5]]>>>[0.4, 0.0]]",
        r"init\.weights\[0\]: rows must be non-empty and of equal length",
    ),
    (
        "non-numeric weight",
        '[0.4, 0.0, -0.5]]>>>[0.4, "zero", -0.5]]',
        r"init\.weights\[0\]: must contain only numbers, got 'zero'",
    ),
    (
        "infinite weight",
        "[0.4, 0.0, -0.5]]>>>[0.4, inf, -0.5]]",
        r"init\.weights\[0\]: must contain only finite numbers, got inf",
    ),
    (
        "biases that disagree with sizes",
        "biases = [[0.1, -0.1], [0.2]]>>>biases = [[0.1, -0.1, 0.0], [0.2]]",
        r"init\.biases\[0\]: b\^\(1\) needs 2 values for sizes \[3, 2, 1\], got 3",
    ),
    (
        "biases given while bias = false",
        "bias = true>>>bias = false",
        r"init\.biases: given but network\.bias = false; remove one of them",
    ),
    (
        "inputs that disagree with sizes",
        "x = [[1.0, 0.5, -1.0], [0.0, 1.0, 2.0]]>>>x = [[1.0, 0.5], [0.0, 1.0]]",
        r"data\.x: each sample needs 3 inputs \(network\.sizes\[0\]\), got 2",
    ),
    (
        "targets that disagree with sizes",
        "y = [[1.0], [0.0]]>>>y = [[1.0, 0.0], [0.0, 1.0]]",
        r"data\.y: each target needs 1 outputs \(network\.sizes\[-1\]\), got 2",
    ),
    (
        "more samples than targets",
        "y = [[1.0], [0.0]]>>>y = [[1.0]]",
        r"data\.y: 1 targets for 2 samples in data\.x",
    ),
    (
        "non-numeric input",
        "x = [[1.0, 0.5, -1.0], [0.0, 1.0, 2.0]]>>>x = [[1.0, 0.5, -1.0], [0.0, true, 2.0]]",
        r"data\.x: must contain only numbers, got True",
    ),
    (
        "missing data",
        "x = [[1.0, 0.5, -1.0], [0.0, 1.0, 2.0]]>>>",
        r"data\.x: missing field; add it",
    ),
    (
        "cross-entropy target outside [0, 1]",
        'loss = "sse">>>loss = "cross_entropy"|||y = [[1.0], [0.0]]>>>y = [[2.0], [0.0]]',
        r"data\.y: cross_entropy targets must lie in \[0, 1\]",
    ),
    (
        "non-numeric learning rate",
        'learning_rate = 0.1>>>learning_rate = "fast"',
        r"train\.learning_rate: must be a number, got 'fast'",
    ),
    (
        "learning rate that is NaN",
        "learning_rate = 0.1>>>learning_rate = nan",
        r"train\.learning_rate: must be finite, got nan",
    ),
    (
        "negative learning rate",
        "learning_rate = 0.1>>>learning_rate = -0.1",
        r"train\.learning_rate: must be positive, got -0\.1",
    ),
    (
        "missing learning rate",
        "learning_rate = 0.1>>>",
        r"train\.learning_rate: missing field; add it",
    ),
    (
        "zero iterations",
        "iterations = 100>>>iterations = 0",
        r"train\.iterations: must be a positive whole number, got 0",
    ),
    (
        "negative iterations",
        "iterations = 100>>>iterations = -5",
        r"train\.iterations: must be a positive whole number, got -5",
    ),
    (
        "fractional iterations",
        "iterations = 100>>>iterations = 2.5",
        r"train\.iterations: must be a whole number, got 2\.5",
    ),
    (
        "textual iterations",
        'iterations = 100>>>iterations = "100"',
        r"train\.iterations: must be a whole number, got '100'",
    ),
    ("zero every", "iterations = 100>>>iterations = 100\nevery = 0", r"train\.every: must be"),
    ("missing [train]", "[train]>>>[other]", r"\[train\]: missing section; add it"),
    ("missing [network]", "[network]>>>[net]", r"\[network\]: missing section"),
    (
        "section that is a value",
        "[network]>>>train = 3\n[network]|||[train]>>>[other]",
        r"train: must be a table like \[train\]",
    ),
    ("seed that is text", 'seed = 7>>>seed = "seven"', r"init\.seed: must be a whole number"),
]


def apply(edits: str) -> str:
    text = GOOD
    for edit in edits.split("|||"):
        old, new = edit.split(">>>")
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


@pytest.mark.parametrize(("what", "edits", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_gets_one_line_naming_file_and_field(
    what: str, edits: str, message: str, tmp_path: Path
) -> None:
    path = write(tmp_path, apply(edits))
    with pytest.raises(BackpropError, match=message) as exc:
        load_config(path)
    text = str(exc.value)
    assert text.startswith(f"{path}: ")
    assert "\n" not in text


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(BackpropError, match=r"nope\.toml: file not found; check the path"):
        load_config(tmp_path / "nope.toml")


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("sizes = [3, 2, 1]", "sizes = [3, 2, 1"))
    with pytest.raises(BackpropError, match=r"net\.toml: not valid TOML \(.*\); fix the syntax"):
        load_config(path)


def test_generator_names_are_checked(tmp_path: Path) -> None:
    text = GOOD.replace(
        "x = [[1.0, 0.5, -1.0], [0.0, 1.0, 2.0]]\ny = [[1.0], [0.0]]", 'generator = ["xor"]'
    )
    with pytest.raises(BackpropError, match=r"data\.generator: unknown generator \['xor'\]"):
        load_config(write(tmp_path, text))


# --- divergence -----------------------------------------------------------------------

DIVERGES = """\
[network]
sizes = [1, 1]
activations = ["identity"]
loss = "sse"
bias = false

[init]
weights = [[[-23.1]]]

[data]
x = [[5.7]]
y = [[50.1]]

[train]
learning_rate = 5.0
iterations = 200
"""


def test_divergence_names_iteration_and_layer(tmp_path: Path) -> None:
    """The question's example with R = 5: w swings by ×325 each step until C overflows."""
    config = load_config(write(tmp_path, DIVERGES, "fast.toml"))
    with pytest.raises(
        BackpropError,
        match=r"fast\.toml: iteration 62, layer 1 \(output\): loss: became inf \(training "
        r"diverged\); try a smaller train\.learning_rate",
    ):
        run(config, source=str(tmp_path / "fast.toml"))


def test_divergence_in_a_hidden_layer(tmp_path: Path) -> None:
    text = """\
[network]
sizes = [2, 3, 1]
activations = ["relu", "identity"]
loss = "sse"
[init]
seed = 1
[data]
x = [[1.0, 2.0]]
y = [[3.0]]
[train]
learning_rate = 10.0
iterations = 200
"""
    config = load_config(write(tmp_path, text))
    with pytest.raises(BackpropError, match=r"iteration \d+, layer \d.*smaller train\.learning"):
        run(config, source="net.toml")


def test_divergence_warns_nothing(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    """NumPy's overflow warnings would be extra lines on stderr; the error says it all."""
    config = load_config(write(tmp_path, DIVERGES))
    with pytest.raises(BackpropError):
        run(config)
    assert [str(w.message) for w in recwarn] == []


def test_divergence_in_the_last_update_is_caught(tmp_path: Path) -> None:
    """A last update that overflows W would otherwise reach the trace file as inf."""
    config = load_config(write(tmp_path, DIVERGES.replace("iterations = 200", "iterations = 1")))
    config = Config(**{**config.__dict__, "learning_rate": 1e308})
    with pytest.raises(BackpropError, match=r"iteration 1, layer 1: W_next: is not finite"):
        run(config)


def test_tomllib_reads_what_the_docs_show() -> None:
    assert tomllib.loads(GOOD)["network"]["sizes"] == [3, 2, 1]
