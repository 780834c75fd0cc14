"""Nothing leaves the machine: every library's telemetry, update check and hub lookup off.

``qa/__init__.py`` calls ``enforce_offline`` when the package is first imported, before any
of these libraries is (they read the variables at import or at first use), so the CLI, the
UI, the benchmarks and any program that imports qa are covered. Values are forced, not
defaulted: this product makes no network calls, whatever the environment says.

Found by tracing every connect and DNS lookup (strace -f -e trace=network) of `qa ingest`,
`qa ask` and `qa ui`; the tests in tests/test_offline.py keep it so:

- onnxruntime (the default embedder's runtime) resolves mobile.events.data.microsoft.com
  about 9 s after its first session, for its 1DS telemetry: ORT_DISABLE_TELEMETRY.
- gradio posts launch analytics and checks its version at api.gradio.app:
  GRADIO_ANALYTICS_ENABLED.
- huggingface_hub, transformers and sentence-transformers would look models up on the
  hub (weights here come from local files only): HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE,
  HF_DATASETS_OFFLINE, HF_HUB_DISABLE_TELEMETRY.
- DO_NOT_TRACK is the cross-library convention several other tools honour.
"""

from __future__ import annotations

import os

OFFLINE_ENVIRONMENT = {
    "ORT_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
}


def enforce_offline() -> None:
    """Set every variable of ``OFFLINE_ENVIRONMENT`` in this process (and its children)."""
    os.environ.update(OFFLINE_ENVIRONMENT)
