"""Checkpoints: the tiny model round-trips; bad paths and non-image-text models are errors."""

from __future__ import annotations

import json

import pytest
from llm_helpers import tiny_model, work_dir

from astra_sim.agents.astra_global.mllm.localizer import load_mllm_localizer
from astra_sim.agents.astra_global.mllm.model import (
    MLLMError,
    check_checkpoint,
    load_model,
    resolve_model,
)


def test_tiny_model_loads_and_generates() -> None:
    import torch

    model, proc = load_model(tiny_model())
    assert type(proc).__name__ == "ImageOnlyQwenProcessor"
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    ids = proc(text=["hello"], return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=4, do_sample=False)
    assert out.shape[1] <= ids["input_ids"].shape[1] + 4


def test_tiny_model_is_deterministic(tmp_path) -> None:
    from astra_sim.agents.astra_global.mllm.model import build_tiny_model

    other = build_tiny_model(tmp_path / "again")
    a = (tiny_model() / "model.safetensors").read_bytes()
    assert a == (other / "model.safetensors").read_bytes()
    assert resolve_model("tiny", tmp_path) == tmp_path / "tiny-model-0"
    meta = json.loads((other / "processor_config.json").read_text())
    assert meta["processor_class"] == "Qwen2_5_VLProcessor"  # what other tools know


def test_missing_path_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mllm_localizer(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        check_checkpoint(tmp_path)


def test_text_only_model_is_refused() -> None:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    path = work_dir() / "text-only"
    cfg = Qwen2Config(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1,
    )  # fmt: skip
    Qwen2ForCausalLM(cfg).save_pretrained(path)
    with pytest.raises(MLLMError, match="not an image-text model"):
        load_mllm_localizer(path)
    with pytest.raises(MLLMError, match="not an image-text model"):
        resolve_model(str(path), work_dir())


def test_broken_config_is_refused(tmp_path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "no_such_model"}))
    with pytest.raises(MLLMError):
        check_checkpoint(tmp_path)
