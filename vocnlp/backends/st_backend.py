"""sentence-transformers: any Hugging Face model by name or local path.

Loading from the hub needs network access; with ``HF_HUB_OFFLINE=1`` or a local path it works
offline. ``trust_remote_code`` stays off.
"""

from __future__ import annotations

import numpy as np

from ..errors import BackendUnavailable, ConfigError


class SentenceTransformerEmbedder:
    name = "sentence_transformers"

    def __init__(self, model: str, prefix: str = "", batch_size: int = 64, device: str | None = None):
        self.model = model
        self.prefix = prefix
        self.batch_size = batch_size
        self.device = device
        self.model_id = f"{model}/{prefix.strip()}"
        self._st = None

    def _load(self):
        if self._st is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as err:
                raise BackendUnavailable("sentence-transformers is not installed.",
                                         fix="pip install sentence-transformers") from err
            try:
                self._st = SentenceTransformer(self.model, device=self.device or "cpu", trust_remote_code=False)
            except Exception as err:
                raise ConfigError(f"cannot load sentence-transformers model '{self.model}' ({err.__class__.__name__}: "
                                  f"{str(err).splitlines()[0][:200]}).",
                                  fix="give a local model folder, or make the hub reachable for a model name.") from None
        return self._st

    def embed(self, texts: list[str]) -> np.ndarray:
        st = self._load()
        if not texts:
            return np.zeros((0, st.get_sentence_embedding_dimension() or 0), dtype=np.float32)
        vecs = st.encode([self.prefix + t for t in texts], batch_size=self.batch_size, normalize_embeddings=True,
                         convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)
