"""Model provisioning: verified once, never reassembled, corruption caught."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from qa.config import default_cache_dir
from qa.errors import ModelCorruptError, ModelMissingError
from qa.models import LLMS, gguf_cache_path, provision_llm, resolve_llm, verify_file


def test_verified_model_is_never_reassembled() -> None:
    spec = LLMS["qwen2.5-coder-0.5b"]
    path = gguf_cache_path(spec, default_cache_dir())
    before = path.stat().st_mtime_ns
    assert provision_llm(spec.name, default_cache_dir(), progress=False) == path
    assert path.stat().st_mtime_ns == before
    name, resolved = resolve_llm(spec.name, default_cache_dir())
    assert (name, resolved) == (spec.name, path)


def test_corrupted_file_is_detected_even_after_an_earlier_verification(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + b"\x00" * 1000)
    good = hashlib.sha256(model.read_bytes()).hexdigest()
    verify_file(model, good, "test model")  # verifies and stamps
    model.write_bytes(b"GGUF" + b"\x01" * 1000)  # same size, different bytes, new mtime
    with pytest.raises(ModelCorruptError, match="corrupt"):
        verify_file(model, good, "test model")


def test_unknown_model_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ModelMissingError, match="qwen2.5-coder-1.5b"):
        resolve_llm("llama-70b", tmp_path)
