"""Load prompts/*.txt, check their placeholders, render them with string.Template.

Placeholders are an interface: a file that uses an unknown one is rejected when loaded,
and rendering names any value that is missing. ``string.Template`` (``$name``) is used
because medical text is full of braces and percent signs that ``str.format`` would choke on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

from qa.errors import ConfigError

# File name -> the placeholders it may use (and must be given when rendered).
PROMPT_FILES: dict[str, frozenset[str]] = {
    "system.txt": frozenset({"refusal"}),
    "answer.txt": frozenset({"passages", "question"}),
    "passage.txt": frozenset({"n", "title", "section", "text"}),
    "refusal.txt": frozenset(),
    "disclaimer.txt": frozenset(),
    "pubmedqa.txt": frozenset({"context", "question"}),
    "cited_answer.gbnf": frozenset({"refusal"}),  # llama.cpp grammar (answer.constrained)
}


def default_prompts_dir() -> Path:
    """The repository's prompts/ folder (next to src/)."""
    return Path(__file__).resolve().parents[2] / "prompts"


def placeholders(template: Template) -> set[str]:
    """Names used in a template, e.g. {'question'} for 'Q: $question'."""
    return {m.group("named") or m.group("braced") for m in template.pattern.finditer(
        template.template) if m.group("named") or m.group("braced")}


@dataclass(frozen=True)
class PromptSet:
    """The checked templates, loaded once per Assistant."""

    templates: dict[str, Template]

    def render(self, name: str, **values: object) -> str:
        """Fill a template; a missing value is a ConfigError naming it."""
        template = self.templates[name]
        missing = placeholders(template) - values.keys()
        if missing:
            raise ConfigError(f"prompt {name} needs values for: {', '.join(sorted(missing))}")
        return template.substitute(**{k: str(v) for k, v in values.items()}).strip()

    def text(self, name: str) -> str:
        """A prompt file with no placeholders, as plain text."""
        return self.templates[name].template.strip()


def load_prompts(folder: Path | None = None) -> PromptSet:
    """Read and check every prompt file; unknown placeholders are rejected up front."""
    folder = folder or default_prompts_dir()
    templates: dict[str, Template] = {}
    for name, allowed in PROMPT_FILES.items():
        path = folder / name
        try:
            template = Template(path.read_text(encoding="utf-8"))
        except OSError as err:
            raise ConfigError(f"prompt file {path} is missing or unreadable") from err
        unknown = placeholders(template) - allowed
        if unknown:
            raise ConfigError(
                f"prompt {path} uses unknown placeholder(s): {', '.join(sorted(unknown))}",
                hint=f"Allowed here: {', '.join(sorted(allowed)) or 'none'}.",
            )
        templates[name] = template
    return PromptSet(templates)
