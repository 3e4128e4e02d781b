"""Load a local image-text checkpoint for Astra-Global, or build a tiny random one for tests.

Astra-Global is a Qwen2.5-VL in the paper; any local transformers checkpoint whose config
maps to an image-text-to-text model works here. Nothing is ever downloaded: the path must be
a folder on disk (``HF_HUB_OFFLINE`` is set before transformers is imported).

The stock ``Qwen2_5_VLProcessor`` also builds a video processor, which needs torchvision;
torchvision does not import beside this torch (docs: ENVIRONMENT.md), and localization
never uses video, so Qwen-family checkpoints get `ImageOnlyQwenProcessor` instead.

`build_tiny_model` writes a randomly initialised Qwen2.5-VL of ~0.2 M parameters with a
byte-level BPE tokenizer trained on the prompt vocabulary: it generates in milliseconds on
a CPU, so tests and smoke recipes exercise the real trainers and the real processor.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from astra_sim.core.errors import AstraSimError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|image_pad|>", "<|video_pad|>",
)  # fmt: skip
"""Qwen's special tokens, in Qwen's order, for the tiny tokenizer."""

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""Qwen2.5-VL's chat format without its default system prompt (kept short for tiny tests)."""

QWEN_TYPES = ("qwen2_vl", "qwen2_5_vl")


class MLLMError(AstraSimError, ValueError):
    """A checkpoint is not a usable image-text model, or an MLLM setting is wrong."""


def _image_only_processor_class() -> type:
    from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor
    from transformers.processing_utils import ProcessorMixin

    class ImageOnlyQwenProcessor(Qwen2_5_VLProcessor):
        """Qwen2.5-VL's processor without the video processor (which needs torchvision)."""

        @classmethod
        def get_attributes(cls) -> list[str]:
            return ["image_processor", "tokenizer"]

        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
            self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
            self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    return ImageOnlyQwenProcessor


def check_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint's config as a dict, after checking it is a local image-text model.

    Raises:
        FileNotFoundError: if ``path`` is not a folder with a ``config.json``.
        MLLMError: if the config does not describe an image-text-to-text model.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"model path {path} does not exist (or is not a folder)")
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"model path {path} has no config.json: not a checkpoint")
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    try:
        config = AutoConfig.from_pretrained(path, local_files_only=True)
    except (ValueError, KeyError, OSError) as e:
        raise MLLMError(f"model path {path}: config.json is not a transformers config: {e}") from e
    if config.model_type not in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES:
        raise MLLMError(
            f"model path {path} holds a {config.model_type!r} model, which is not an image-text "
            "model (Astra-Global needs e.g. Qwen2.5-VL: model_type 'qwen2_5_vl')"
        )
    return json.loads((path / "config.json").read_text())


def load_processor(path: str | Path) -> Any:
    """The checkpoint's processor; Qwen-family checkpoints get `ImageOnlyQwenProcessor`."""
    model_type = check_checkpoint(path)["model_type"]
    if model_type in QWEN_TYPES:
        return _image_only_processor_class().from_pretrained(path, local_files_only=True)
    from transformers import AutoProcessor

    proc = AutoProcessor.from_pretrained(path, local_files_only=True)
    if not hasattr(proc, "image_processor"):
        raise MLLMError(f"model path {path}: its processor has no image processor")
    return proc


def save_processor(processor: Any, out_dir: str | Path) -> None:
    """Save a processor; an `ImageOnlyQwenProcessor` is recorded as the stock
    ``Qwen2_5_VLProcessor``, so other tools (``AutoProcessor``, vLLM) load the checkpoint."""
    out_dir = Path(out_dir)
    processor.save_pretrained(out_dir)
    if type(processor).__name__ != "ImageOnlyQwenProcessor":
        return
    for name in ("processor_config.json", "tokenizer_config.json", "preprocessor_config.json"):
        f = out_dir / name
        if f.is_file():
            data = json.loads(f.read_text())
            if data.get("processor_class") == "ImageOnlyQwenProcessor":
                data["processor_class"] = "Qwen2_5_VLProcessor"
                f.write_text(json.dumps(data, indent=2) + "\n")


def load_model(
    path: str | Path, dtype: str = "float32", device: str | None = None, train: bool = False
) -> tuple[Any, Any]:
    """(model, processor) of a local image-text checkpoint, validated first.

    Args:
        path: checkpoint folder (config.json, weights, tokenizer, processor files).
        dtype: ``float32``, ``bfloat16`` or ``float16``.
        device: torch device; None keeps the CPU.
        train: leave the model in train mode (for trainers); else eval mode.

    Raises:
        FileNotFoundError, MLLMError: see `check_checkpoint`.
    """
    import torch
    from transformers import AutoModelForImageTextToText

    check_checkpoint(path)
    if dtype not in ("float32", "bfloat16", "float16"):
        raise MLLMError(f"dtype must be float32, bfloat16 or float16, got {dtype!r}")
    processor = load_processor(path)
    model = AutoModelForImageTextToText.from_pretrained(
        path, dtype=getattr(torch, dtype), local_files_only=True
    )
    if device is not None:
        model = model.to(device)
    model.train(train)
    return model, processor


# ---------------------------------------------------------------------- tiny model
def tiny_corpus() -> list[str]:
    """Text the tiny tokenizer learns merges from: prompts, JSON answers, map words."""
    from astra_sim.agents.astra_global.mllm import prompts

    words = " ".join(prompts.INSTRUCTIONS.values())
    cats = "door sofa armchair tv coffee_table bookshelf bed plant sign shelf desk chair fridge"
    colours = "white brown black orange red green blue grey beige dark wood fabric leather metal"
    numbers = " ".join(str(i) for i in range(200))
    json_bits = '{"landmarks": [{"category": "sofa", "colour": "orange", "text": ""}], '
    json_bits += '"map_ids": [1, 2]} {"score": 0.5} {"x": 1.25, "y": -3.5, "yaw": 0.79}'
    return [words, cats, colours, numbers, json_bits, "Landmarks Nodes seen from nodes L12 N3"]


def build_tiny_model(out_dir: str | Path, seed: int = 0, vocab_size: int = 512) -> Path:
    """Write a tiny random Qwen2.5-VL (model, tokenizer, image processor) to ``out_dir``.

    Deterministic for a given seed: the BPE training and the weight init are seeded.
    Images are resized to at most 16 visual tokens, so prompts stay short.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        PreTrainedTokenizerFast,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
    )
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    out_dir = Path(out_dir)
    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )  # fmt: skip
    raw.train_from_iterator(tiny_corpus(), trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=raw, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        chat_template=CHAT_TEMPLATE,
    )  # fmt: skip
    image_processor = Qwen2VLImageProcessorPil(
        min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16, patch_size=14,
        temporal_patch_size=2, merge_size=2,
    )  # fmt: skip
    processor = _image_only_processor_class()(image_processor, tok, chat_template=CHAT_TEMPLATE)
    ids = {t: tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    special = {
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
    }
    config = Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=8192,
            rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
            tie_word_embeddings=True, **special,
        ),
        vision_config=dict(
            depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
            patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=56,
            fullatt_block_indexes=[1],
        ),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True, **special,
    )  # fmt: skip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen2_5_VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = special["eos_token_id"]
    model.generation_config.pad_token_id = special["pad_token_id"]
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    save_processor(processor, out_dir)
    return out_dir


def resolve_model(spec: str, work_dir: str | Path) -> Path:
    """A recipe's ``model``: a checkpoint path, or ``tiny`` / ``tiny:SEED`` (built under
    ``work_dir/tiny-model``) for smoke runs."""
    if spec == "tiny" or spec.startswith("tiny:"):
        seed = int(spec.partition(":")[2] or 0)
        out = Path(work_dir) / f"tiny-model-{seed}"
        if not (out / "config.json").is_file():
            build_tiny_model(out, seed=seed)
        return out
    check_checkpoint(spec)
    return Path(spec)
