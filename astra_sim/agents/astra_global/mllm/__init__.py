"""Astra-Global as a multimodal LLM: prompts, parsing, localizer, data, SFT and GRPO.

Modules import transformers/TRL lazily where they can, so importing this package costs
nothing without the ``llm`` extra. Entry points:

- `localizer.load_mllm_localizer(path)` -> `MLLMLocalizer` (the Localizer protocol);
- `data.write_global_datasets(recipe)`, `sft.run_sft(recipe)`, `grpo.run_grpo(recipe)`;
- `model.build_tiny_model(dir)`: a tiny random Qwen2.5-VL for tests and smoke recipes.
"""
